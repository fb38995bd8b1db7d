/* glasstcp — the simulated link: copies of packets ordered by (deliver_at, rank, id).
 * See sim_link.h. */
#include "link/sim_link.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS_PER_CHUNK 64u
#define NOT_IN_HEAP UINT32_MAX

enum slot_where { SLOT_FREE = 0, SLOT_QUEUED, SLOT_HELD, SLOT_POPPED };

struct slot {
    struct glass_sim_link_meta m;
    size_t len;
    uint8_t *inline_buf; /* slot_bytes bytes inside the chunk's data block */
    uint8_t *big;        /* malloc'ed copy when len > slot_bytes, else NULL */
    uint32_t next_free;  /* free-list link */
    uint32_t heap_pos;   /* index in the heap while queued there */
    uint32_t lane_pos;   /* absolute position in the lane while queued there */
    bool in_lane;
    uint8_t where;       /* enum slot_where */
};

/* A heap entry carries its sort key, so sifting touches only the heap array. */
struct hent {
    glass_time_t at;
    uint64_t rank;
    uint64_t id;
    uint32_t idx;
};

struct chunk {
    struct slot slots[SLOTS_PER_CHUNK];
    uint8_t *data; /* SLOTS_PER_CHUNK * slot_bytes */
};

struct glass_sim_link {
    uint32_t capacity;
    uint32_t used;        /* slots holding a packet (queued, held, popped) */
    size_t slot_bytes;
    uint32_t spare;       /* a free slot set aside to build the next packet in, or NO_SLOT */

    struct chunk **chunks; /* allocated on demand; never move once allocated */
    uint32_t n_chunks;
    uint32_t max_chunks;
    uint32_t free_head;

    struct hent *heap;    /* min-heap by (deliver_at, rank, id) */
    uint32_t heap_len, heap_cap;

    /* The lane: a FIFO of packets that were queued in delivery order already (each not before
     * the one queued just before it), the common case of a fixed delay; the heap takes only
     * the others. A re-timed lane entry leaves a tombstone (idx NO_SLOT) and moves to the
     * heap. lane_first is the absolute position of lane[lane_head]. */
    struct hent *lane;
    uint32_t lane_head, lane_len, lane_cap, lane_first, lane_live;

    uint32_t *held;       /* slot indexes in id order */
    uint32_t held_len, held_cap;
};

static struct slot *slot_at(const struct glass_sim_link *l, uint32_t idx)
{
    return &l->chunks[idx / SLOTS_PER_CHUNK]->slots[idx % SLOTS_PER_CHUNK];
}

static bool valid(const struct glass_sim_link *l, uint32_t idx)
{
    return idx != GLASS_SIM_NO_SLOT && idx / SLOTS_PER_CHUNK < l->n_chunks;
}

struct glass_sim_link *glass_sim_link_new(uint32_t capacity, size_t slot_bytes)
{
    if (capacity == 0)
        return NULL;
    if (slot_bytes == 0)
        slot_bytes = GLASS_SIM_SLOT_BYTES;
    /* Keep slot buffers 64-byte aligned within a chunk. */
    slot_bytes = (slot_bytes + 63u) & ~(size_t)63u;
    if (slot_bytes > SIZE_MAX / SLOTS_PER_CHUNK)
        return NULL;
    struct glass_sim_link *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->capacity = capacity;
    l->slot_bytes = slot_bytes;
    /* capacity packets plus the spare slot. */
    l->max_chunks = (uint32_t)(((uint64_t)capacity + SLOTS_PER_CHUNK) / SLOTS_PER_CHUNK);
    l->chunks = calloc(l->max_chunks, sizeof *l->chunks);
    if (l->chunks == NULL) {
        free(l);
        return NULL;
    }
    l->free_head = GLASS_SIM_NO_SLOT;
    l->spare = GLASS_SIM_NO_SLOT;
    return l;
}

void glass_sim_link_free(struct glass_sim_link *l)
{
    if (l == NULL)
        return;
    for (uint32_t c = 0; c < l->n_chunks; c++) {
        for (uint32_t i = 0; i < SLOTS_PER_CHUNK; i++)
            free(l->chunks[c]->slots[i].big);
        free(l->chunks[c]->data);
        free(l->chunks[c]);
    }
    free(l->chunks);
    free(l->heap);
    free(l->lane);
    free(l->held);
    free(l);
}

/* A free slot index (not yet counted in used), or GLASS_SIM_NO_SLOT with *rc = _NOMEM (or
 * _FULL when every chunk is allocated and in use). */
static uint32_t slot_alloc(struct glass_sim_link *l, int *rc)
{
    if (l->free_head == GLASS_SIM_NO_SLOT) {
        if (l->n_chunks >= l->max_chunks) {
            *rc = GLASS_SIM_LINK_FULL;
            return GLASS_SIM_NO_SLOT;
        }
        struct chunk *chunk = calloc(1, sizeof *chunk);
        uint8_t *data = chunk != NULL ? malloc(SLOTS_PER_CHUNK * l->slot_bytes) : NULL;
        if (data == NULL) {
            free(chunk);
            *rc = GLASS_SIM_LINK_NOMEM;
            return GLASS_SIM_NO_SLOT;
        }
        chunk->data = data;
        uint32_t base = l->n_chunks * SLOTS_PER_CHUNK;
        l->chunks[l->n_chunks++] = chunk;
        /* Thread the new slots onto the free list, lowest index first. */
        for (uint32_t i = SLOTS_PER_CHUNK; i-- > 0;) {
            chunk->slots[i].inline_buf = data + (size_t)i * l->slot_bytes;
            chunk->slots[i].heap_pos = NOT_IN_HEAP;
            chunk->slots[i].next_free = l->free_head;
            l->free_head = base + i;
        }
    }
    uint32_t idx = l->free_head;
    l->free_head = slot_at(l, idx)->next_free;
    return idx;
}

/* A slot for a new packet, counted in used, or GLASS_SIM_NO_SLOT (*rc says why). */
static uint32_t slot_get(struct glass_sim_link *l, int *rc)
{
    if (l->used >= l->capacity) {
        *rc = GLASS_SIM_LINK_FULL;
        return GLASS_SIM_NO_SLOT;
    }
    uint32_t idx = slot_alloc(l, rc);
    if (idx != GLASS_SIM_NO_SLOT)
        l->used++;
    return idx;
}

static void slot_put(struct glass_sim_link *l, uint32_t idx)
{
    struct slot *s = slot_at(l, idx);
    free(s->big);
    s->big = NULL;
    s->len = 0;
    s->where = SLOT_FREE;
    s->heap_pos = NOT_IN_HEAP;
    s->in_lane = false;
    s->next_free = l->free_head;
    l->free_head = idx;
    l->used--;
}

static const uint8_t *slot_bytes(const struct slot *s)
{
    return s->big != NULL ? s->big : s->inline_buf;
}

/* Grow an array of elem-sized entries to hold at least need of them. */
static bool grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint32_t ncap = *cap != 0 ? *cap : 16u;
    while (ncap < need)
        ncap = ncap > UINT32_MAX / 2 ? need : ncap * 2;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

static bool meta_before(const struct glass_sim_link_meta *x, const struct glass_sim_link_meta *y)
{
    if (x->deliver_at != y->deliver_at)
        return x->deliver_at < y->deliver_at;
    if (x->rank != y->rank)
        return x->rank < y->rank;
    return x->id < y->id;
}

static bool before(const struct hent *x, const struct hent *y)
{
    if (x->at != y->at)
        return x->at < y->at;
    if (x->rank != y->rank)
        return x->rank < y->rank;
    return x->id < y->id;
}

static void heap_set(struct glass_sim_link *l, uint32_t pos, const struct hent *e)
{
    l->heap[pos] = *e;
    slot_at(l, e->idx)->heap_pos = pos;
}

static void heap_up(struct glass_sim_link *l, uint32_t i)
{
    struct hent e = l->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(&e, &l->heap[parent]))
            break;
        heap_set(l, i, &l->heap[parent]);
        i = parent;
    }
    heap_set(l, i, &e);
}

static void heap_down(struct glass_sim_link *l, uint32_t i)
{
    struct hent e = l->heap[i];
    for (;;) {
        uint32_t left = 2 * i + 1, right = left + 1, best = i;
        const struct hent *b = &e;
        if (left < l->heap_len && before(&l->heap[left], b)) {
            best = left;
            b = &l->heap[left];
        }
        if (right < l->heap_len && before(&l->heap[right], b)) {
            best = right;
            b = &l->heap[right];
        }
        if (best == i)
            break;
        heap_set(l, i, b);
        i = best;
    }
    heap_set(l, i, &e);
}

/* Take slot idx out of the heap. */
static void heap_remove(struct glass_sim_link *l, uint32_t idx)
{
    uint32_t pos = slot_at(l, idx)->heap_pos;
    slot_at(l, idx)->heap_pos = NOT_IN_HEAP;
    l->heap_len--;
    if (pos == l->heap_len)
        return;
    heap_set(l, pos, &l->heap[l->heap_len]);
    if (pos > 0 && before(&l->heap[pos], &l->heap[(pos - 1) / 2]))
        heap_up(l, pos);
    else
        heap_down(l, pos);
}

static struct hent *lane_at(const struct glass_sim_link *l, uint32_t k)
{
    return &l->lane[(l->lane_head + k) % l->lane_cap];
}

/* Queue e in the lane if it does not go before the lane's last entry; false if it does (or
 * the lane cannot grow): then it goes to the heap. */
static bool lane_append(struct glass_sim_link *l, const struct hent *e)
{
    if (l->lane_len > 0 && before(e, lane_at(l, l->lane_len - 1)))
        return false;
    if (l->lane_len == l->lane_cap) {
        uint32_t ncap = l->lane_cap != 0 ? l->lane_cap * 2 : 64u;
        if (ncap < l->lane_cap)
            return false;
        struct hent *nl = malloc((size_t)ncap * sizeof *nl);
        if (nl == NULL)
            return false;
        for (uint32_t k = 0; k < l->lane_len; k++)
            nl[k] = *lane_at(l, k);
        free(l->lane);
        l->lane = nl;
        l->lane_cap = ncap;
        l->lane_head = 0;
    }
    *lane_at(l, l->lane_len) = *e;
    struct slot *s = slot_at(l, e->idx);
    s->in_lane = true;
    s->lane_pos = l->lane_first + l->lane_len;
    l->lane_len++;
    l->lane_live++;
    return true;
}

/* Drop tombstones from the head of the lane; the head entry (live), or NULL. */
static const struct hent *lane_front(struct glass_sim_link *l)
{
    while (l->lane_len > 0 && l->lane[l->lane_head].idx == GLASS_SIM_NO_SLOT) {
        l->lane_head = (l->lane_head + 1) % l->lane_cap;
        l->lane_len--;
        l->lane_first++;
    }
    return l->lane_len > 0 ? &l->lane[l->lane_head] : NULL;
}

/* The next packet to deliver (slot index), GLASS_SIM_NO_SLOT if none. */
static uint32_t next_idx(struct glass_sim_link *l)
{
    const struct hent *a = lane_front(l);
    const struct hent *b = l->heap_len > 0 ? &l->heap[0] : NULL;
    if (a == NULL)
        return b != NULL ? b->idx : GLASS_SIM_NO_SLOT;
    if (b == NULL || before(a, b))
        return a->idx;
    return b->idx;
}

/* Take queued slot idx out of the lane or the heap. */
static void unqueue(struct glass_sim_link *l, uint32_t idx)
{
    struct slot *s = slot_at(l, idx);
    if (!s->in_lane) {
        heap_remove(l, idx);
        return;
    }
    s->in_lane = false;
    lane_at(l, s->lane_pos - l->lane_first)->idx = GLASS_SIM_NO_SLOT;
    l->lane_live--;
    lane_front(l);
}

/* Reserve the index entry a packet will need, so nothing has to be undone after the copy. */
static bool reserve_index(struct glass_sim_link *l, bool hold)
{
    return hold ? grow((void **)&l->held, &l->held_cap, l->held_len + 1, sizeof *l->held)
                : grow((void **)&l->heap, &l->heap_cap, l->heap_len + 1, sizeof *l->heap);
}

/* Slot idx (its bytes and len in place) becomes the packet *m: queued or held. */
static void enqueue(struct glass_sim_link *l, uint32_t idx, const struct glass_sim_link_meta *m,
                    bool hold)
{
    struct slot *s = slot_at(l, idx);
    s->m = *m;
    if (hold) {
        s->where = SLOT_HELD;
        /* Keep id order; ids normally arrive increasing, so this is an append. */
        uint32_t i = l->held_len;
        while (i > 0 && slot_at(l, l->held[i - 1])->m.id > m->id) {
            l->held[i] = l->held[i - 1];
            i--;
        }
        l->held[i] = idx;
        l->held_len++;
    } else {
        s->where = SLOT_QUEUED;
        struct hent e = {.at = m->deliver_at, .rank = m->rank, .id = m->id, .idx = idx};
        if (lane_append(l, &e))
            return;
        l->heap[l->heap_len] = e;
        l->heap_len++;
        heap_up(l, l->heap_len - 1);
    }
}

uint8_t *glass_sim_link_spare(struct glass_sim_link *l, size_t *cap)
{
    if (l->spare == GLASS_SIM_NO_SLOT) {
        int rc;
        l->spare = slot_alloc(l, &rc);
        if (l->spare == GLASS_SIM_NO_SLOT)
            return NULL;
    }
    *cap = l->slot_bytes;
    return slot_at(l, l->spare)->inline_buf;
}

int glass_sim_link_put_spare(struct glass_sim_link *l, const struct glass_sim_link_meta *m,
                             size_t len, bool hold, uint32_t *handle)
{
    if (handle != NULL)
        *handle = GLASS_SIM_NO_SLOT;
    if (l->spare == GLASS_SIM_NO_SLOT || len > l->slot_bytes)
        return GLASS_SIM_LINK_NOMEM;
    if (l->used >= l->capacity)
        return GLASS_SIM_LINK_FULL;
    if (!reserve_index(l, hold))
        return GLASS_SIM_LINK_NOMEM;
    uint32_t idx = l->spare;
    l->spare = GLASS_SIM_NO_SLOT;
    l->used++;
    slot_at(l, idx)->len = len;
    enqueue(l, idx, m, hold);
    if (handle != NULL)
        *handle = idx;
    return GLASS_SIM_LINK_OK;
}

uint8_t *glass_sim_link_bytes(struct glass_sim_link *l, uint32_t handle, size_t *len)
{
    if (!valid(l, handle) || slot_at(l, handle)->where == SLOT_FREE)
        return NULL;
    struct slot *s = slot_at(l, handle);
    *len = s->len;
    return s->big != NULL ? s->big : s->inline_buf;
}

int glass_sim_link_put(struct glass_sim_link *l, const struct glass_sim_link_meta *m,
                       const uint8_t *data, size_t len, bool hold, uint32_t *handle)
{
    int rc = GLASS_SIM_LINK_OK;
    if (handle != NULL)
        *handle = GLASS_SIM_NO_SLOT;
    if (!reserve_index(l, hold))
        return GLASS_SIM_LINK_NOMEM;
    uint32_t idx = slot_get(l, &rc);
    if (idx == GLASS_SIM_NO_SLOT)
        return rc;
    struct slot *s = slot_at(l, idx);
    if (len > l->slot_bytes) {
        s->big = malloc(len);
        if (s->big == NULL) {
            slot_put(l, idx);
            return GLASS_SIM_LINK_NOMEM;
        }
        memcpy(s->big, data, len);
    } else if (len > 0) {
        memcpy(s->inline_buf, data, len);
    }
    s->len = len;
    enqueue(l, idx, m, hold);
    if (handle != NULL)
        *handle = idx;
    return GLASS_SIM_LINK_OK;
}

const struct glass_sim_link_meta *glass_sim_link_meta(const struct glass_sim_link *l,
                                                      uint32_t handle)
{
    if (!valid(l, handle) || slot_at(l, handle)->where == SLOT_FREE)
        return NULL;
    return &slot_at(l, handle)->m;
}

int glass_sim_link_retime(struct glass_sim_link *l, uint32_t handle,
                          const struct glass_sim_link_meta *m)
{
    if (!valid(l, handle))
        return GLASS_SIM_LINK_NOENT;
    struct slot *s = slot_at(l, handle);
    if (s->where != SLOT_QUEUED || s->m.id != m->id)
        return GLASS_SIM_LINK_NOENT;
    if (s->in_lane) {
        /* Leave a tombstone in the lane; the packet goes to the heap with its new time. */
        if (!grow((void **)&l->heap, &l->heap_cap, l->heap_len + 1, sizeof *l->heap))
            return GLASS_SIM_LINK_NOMEM;
        unqueue(l, handle);
        s->m.deliver_at = m->deliver_at;
        s->m.rank = m->rank;
        s->m.flags = m->flags;
        l->heap[l->heap_len] =
            (struct hent){.at = m->deliver_at, .rank = m->rank, .id = m->id, .idx = handle};
        l->heap_len++;
        heap_up(l, l->heap_len - 1);
        return GLASS_SIM_LINK_OK;
    }
    bool earlier = meta_before(m, &s->m);
    s->m.deliver_at = m->deliver_at;
    s->m.rank = m->rank;
    s->m.flags = m->flags;
    struct hent *e = &l->heap[s->heap_pos];
    e->at = m->deliver_at;
    e->rank = m->rank;
    if (earlier)
        heap_up(l, s->heap_pos);
    else
        heap_down(l, s->heap_pos);
    return GLASS_SIM_LINK_OK;
}

bool glass_sim_link_peek(struct glass_sim_link *l, struct glass_sim_link_meta *m)
{
    uint32_t idx = next_idx(l);
    if (idx == GLASS_SIM_NO_SLOT)
        return false;
    *m = slot_at(l, idx)->m;
    return true;
}

uint32_t glass_sim_link_pop_ref(struct glass_sim_link *l, struct glass_sim_link_meta *m,
                                const uint8_t **data, size_t *len)
{
    uint32_t idx = next_idx(l);
    if (idx == GLASS_SIM_NO_SLOT)
        return GLASS_SIM_NO_SLOT;
    unqueue(l, idx);
    struct slot *s = slot_at(l, idx);
    s->where = SLOT_POPPED;
    *m = s->m;
    *data = slot_bytes(s);
    *len = s->len;
    return idx;
}

void glass_sim_link_done(struct glass_sim_link *l, uint32_t handle)
{
    if (!valid(l, handle) || slot_at(l, handle)->where != SLOT_POPPED)
        return;
    slot_put(l, handle);
}

/* Copy a slot out, release it, return the packet's length. */
static size_t take(struct glass_sim_link *l, uint32_t idx, struct glass_sim_link_meta *m,
                   uint8_t *buf, size_t cap)
{
    struct slot *s = slot_at(l, idx);
    size_t len = s->len;
    size_t n = len < cap ? len : cap;
    if (n > 0)
        memcpy(buf, slot_bytes(s), n);
    *m = s->m;
    slot_put(l, idx);
    return len;
}

size_t glass_sim_link_pop(struct glass_sim_link *l, struct glass_sim_link_meta *m, uint8_t *buf,
                          size_t cap)
{
    uint32_t idx = next_idx(l);
    if (idx == GLASS_SIM_NO_SLOT)
        return 0;
    unqueue(l, idx);
    return take(l, idx, m, buf, cap);
}

size_t glass_sim_link_take_held(struct glass_sim_link *l, uint64_t id,
                                struct glass_sim_link_meta *m, uint8_t *buf, size_t cap, int *rc)
{
    for (uint32_t i = 0; i < l->held_len; i++) {
        uint32_t idx = l->held[i];
        if (slot_at(l, idx)->m.id != id)
            continue;
        memmove(&l->held[i], &l->held[i + 1], (size_t)(l->held_len - i - 1) * sizeof *l->held);
        l->held_len--;
        *rc = GLASS_SIM_LINK_OK;
        return take(l, idx, m, buf, cap);
    }
    *rc = GLASS_SIM_LINK_NOENT;
    return 0;
}

size_t glass_sim_link_queued(const struct glass_sim_link *l)
{
    return (size_t)l->heap_len + l->lane_live;
}

size_t glass_sim_link_held(const struct glass_sim_link *l)
{
    return l->held_len;
}
