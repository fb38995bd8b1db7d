/* glasstcp — the simulated link: copies of packets ordered by (deliver_at, id). See sim_link.h. */
#include "link/sim_link.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS_PER_CHUNK 64u
#define NO_SLOT UINT32_MAX

struct slot {
    struct glass_sim_link_meta m;
    size_t len;
    uint8_t *big;       /* malloc'ed copy when len > GLASS_SIM_SLOT_BYTES, else NULL */
    uint32_t next_free; /* free-list link */
    uint8_t data[GLASS_SIM_SLOT_BYTES];
};

struct glass_sim_link {
    uint32_t capacity;
    uint32_t used;        /* slots holding a packet (queued + held) */

    struct slot **chunks; /* chunks[i] holds SLOTS_PER_CHUNK slots, allocated on demand */
    uint32_t n_chunks;    /* allocated so far */
    uint32_t max_chunks;
    uint32_t free_head;   /* recycled slots */

    uint32_t *heap;       /* min-heap of slot indexes by (deliver_at, id) */
    uint32_t heap_len, heap_cap;

    uint32_t *held;       /* slot indexes in id order */
    uint32_t held_len, held_cap;
};

static struct slot *slot_at(const struct glass_sim_link *l, uint32_t idx)
{
    return &l->chunks[idx / SLOTS_PER_CHUNK][idx % SLOTS_PER_CHUNK];
}

struct glass_sim_link *glass_sim_link_new(uint32_t capacity)
{
    if (capacity == 0)
        return NULL;
    struct glass_sim_link *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->capacity = capacity;
    l->max_chunks = (uint32_t)(((uint64_t)capacity + SLOTS_PER_CHUNK - 1) / SLOTS_PER_CHUNK);
    l->chunks = calloc(l->max_chunks, sizeof *l->chunks);
    if (l->chunks == NULL) {
        free(l);
        return NULL;
    }
    l->free_head = NO_SLOT;
    return l;
}

void glass_sim_link_free(struct glass_sim_link *l)
{
    if (l == NULL)
        return;
    for (uint32_t c = 0; c < l->n_chunks; c++) {
        for (uint32_t i = 0; i < SLOTS_PER_CHUNK; i++)
            free(l->chunks[c][i].big);
        free(l->chunks[c]);
    }
    free(l->chunks);
    free(l->heap);
    free(l->held);
    free(l);
}

/* A free slot index, or NO_SLOT (full or out of memory: *rc says which). */
static uint32_t slot_get(struct glass_sim_link *l, int *rc)
{
    if (l->used >= l->capacity) {
        *rc = GLASS_SIM_LINK_FULL;
        return NO_SLOT;
    }
    if (l->free_head == NO_SLOT) {
        if (l->n_chunks >= l->max_chunks) {
            *rc = GLASS_SIM_LINK_FULL;
            return NO_SLOT;
        }
        struct slot *chunk = calloc(SLOTS_PER_CHUNK, sizeof *chunk);
        if (chunk == NULL) {
            *rc = GLASS_SIM_LINK_NOMEM;
            return NO_SLOT;
        }
        uint32_t base = l->n_chunks * SLOTS_PER_CHUNK;
        l->chunks[l->n_chunks++] = chunk;
        /* Thread the new slots onto the free list, lowest index first. */
        for (uint32_t i = SLOTS_PER_CHUNK; i-- > 0;) {
            chunk[i].next_free = l->free_head;
            l->free_head = base + i;
        }
    }
    uint32_t idx = l->free_head;
    l->free_head = slot_at(l, idx)->next_free;
    l->used++;
    return idx;
}

static void slot_put(struct glass_sim_link *l, uint32_t idx)
{
    struct slot *s = slot_at(l, idx);
    free(s->big);
    s->big = NULL;
    s->len = 0;
    s->next_free = l->free_head;
    l->free_head = idx;
    l->used--;
}

static const uint8_t *slot_bytes(const struct slot *s)
{
    return s->big != NULL ? s->big : s->data;
}

/* Grow an index array to hold at least need entries (need <= capacity). */
static bool grow(uint32_t **arr, uint32_t *cap, uint32_t need)
{
    if (need <= *cap)
        return true;
    uint32_t ncap = *cap != 0 ? *cap : 16u;
    while (ncap < need)
        ncap = ncap > UINT32_MAX / 2 ? need : ncap * 2;
    uint32_t *p = realloc(*arr, (size_t)ncap * sizeof *p);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

static bool before(const struct glass_sim_link *l, uint32_t a, uint32_t b)
{
    const struct glass_sim_link_meta *x = &slot_at(l, a)->m;
    const struct glass_sim_link_meta *y = &slot_at(l, b)->m;
    if (x->deliver_at != y->deliver_at)
        return x->deliver_at < y->deliver_at;
    return x->id < y->id;
}

static void heap_up(struct glass_sim_link *l, uint32_t i)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(l, l->heap[i], l->heap[parent]))
            break;
        uint32_t t = l->heap[i];
        l->heap[i] = l->heap[parent];
        l->heap[parent] = t;
        i = parent;
    }
}

static void heap_down(struct glass_sim_link *l, uint32_t i)
{
    for (;;) {
        uint32_t left = 2 * i + 1, right = left + 1, best = i;
        if (left < l->heap_len && before(l, l->heap[left], l->heap[best]))
            best = left;
        if (right < l->heap_len && before(l, l->heap[right], l->heap[best]))
            best = right;
        if (best == i)
            return;
        uint32_t t = l->heap[i];
        l->heap[i] = l->heap[best];
        l->heap[best] = t;
        i = best;
    }
}

int glass_sim_link_put(struct glass_sim_link *l, const struct glass_sim_link_meta *m,
                       const uint8_t *data, size_t len, bool hold)
{
    int rc = GLASS_SIM_LINK_OK;
    /* Reserve the index entry first so that nothing needs undoing after the copy. */
    if (hold ? !grow(&l->held, &l->held_cap, l->held_len + 1)
             : !grow(&l->heap, &l->heap_cap, l->heap_len + 1))
        return GLASS_SIM_LINK_NOMEM;
    uint32_t idx = slot_get(l, &rc);
    if (idx == NO_SLOT)
        return rc;
    struct slot *s = slot_at(l, idx);
    if (len > GLASS_SIM_SLOT_BYTES) {
        s->big = malloc(len);
        if (s->big == NULL) {
            slot_put(l, idx);
            return GLASS_SIM_LINK_NOMEM;
        }
        memcpy(s->big, data, len);
    } else if (len > 0) {
        memcpy(s->data, data, len);
    }
    s->len = len;
    s->m = *m;
    if (hold) {
        /* Keep id order; ids normally arrive increasing, so this is an append. */
        uint32_t i = l->held_len;
        while (i > 0 && slot_at(l, l->held[i - 1])->m.id > m->id) {
            l->held[i] = l->held[i - 1];
            i--;
        }
        l->held[i] = idx;
        l->held_len++;
    } else {
        l->heap[l->heap_len] = idx;
        heap_up(l, l->heap_len);
        l->heap_len++;
    }
    return GLASS_SIM_LINK_OK;
}

bool glass_sim_link_peek(const struct glass_sim_link *l, struct glass_sim_link_meta *m)
{
    if (l->heap_len == 0)
        return false;
    *m = slot_at(l, l->heap[0])->m;
    return true;
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
    if (l->heap_len == 0)
        return 0;
    uint32_t idx = l->heap[0];
    l->heap_len--;
    if (l->heap_len > 0) {
        l->heap[0] = l->heap[l->heap_len];
        heap_down(l, 0);
    }
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
    return l->heap_len;
}

size_t glass_sim_link_held(const struct glass_sim_link *l)
{
    return l->held_len;
}
