/* glasstcp — capture analysis: frame decoding, the connection table, connection lifetime.
 *
 * Per frame: link header -> IPv4 (glass_ipv4_parse) -> TCP (glass_tcp_parse, checksums not
 * verified: captures taken on the sending host carry offloaded, unfilled checksums), then the
 * connection is found in a hash table keyed by the canonical 4-tuple, Wireshark's sequence
 * analysis runs (flow.c), then the state inference (infer.c). Connections live in a pool of
 * fixed-size records (no allocation per frame; one per 256 new connections at most) and on one
 * of two lists: "open" and "closed" (both sides done, lingering for late retransmissions). The
 * heads of both lists are checked on every frame (expire_list), so finalising idle and closed
 * connections costs O(1) per frame, amortised. */
#include "analyze/analyze_priv.h"
#include "wire/wire_priv.h"

#include <glass/err.h>

#include <stdlib.h>
#include <string.h>

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_VLAN 0x8100u /* IEEE 802.1Q */
#define ETHERTYPE_QINQ 0x88a8u /* IEEE 802.1ad */
#define ETHERTYPE_QINQ_OLD 0x9100u
#define ETH_HDR_LEN 14u
#define VLAN_TAG_LEN 4u
#define MAX_VLAN_TAGS 4
#define SLL_HDR_LEN 16u
#define SLL2_HDR_LEN 20u
#define NULL_HDR_LEN 4u
#define AF_INET_VALUE 2u /* AF_INET is 2 on every system that writes these headers */

#define POOL_CHUNK 256
#define INITIAL_BUCKETS 1024u
/* Enough for the longest IPv4 and TCP headers: what the slow path copies out of a frame that
 * the snap length cut short. */
#define HDR_COPY_MAX (60u + 60u)

struct ana_chunk {
    struct ana_chunk *next;
    struct ana_conn conns[POOL_CHUNK];
};

struct ana_list {
    struct ana_conn *head, *tail;
};

/* What is kept of a finalised connection: its 4-tuple and the ISN (Wireshark's base_seq) of
 * each direction, [0] for segments sent by (key_a, port_a). */
struct ana_tomb {
    struct ana_tomb *hnext, *prev, *next;
    uint64_t hash;
    uint32_t key_a, key_b;
    uint16_t port_a, port_b;
    uint32_t base[2];
    bool base_set[2];
};

#define TOMB_CHUNK 1024

struct ana_tomb_chunk {
    struct ana_tomb_chunk *next;
    struct ana_tomb tombs[TOMB_CHUNK];
};

struct glass_ana {
    struct glass_ana_config cfg;
    struct glass_ana_totals tot;
    struct ana_conn **buckets;
    size_t nbuckets; /* power of two */
    size_t count;    /* connections held */
    struct ana_chunk *chunks;
    struct ana_conn *free_list; /* linked through hnext */
    struct ana_list open, closed;
    /* tombstones: their own table, pool and oldest-first list */
    struct ana_tomb **tbuckets;
    size_t ntbuckets, ntombs;
    struct ana_tomb_chunk *tchunks;
    struct ana_tomb *tfree, *thead, *ttail;
    uint64_t next_stream;
    glass_time_t now; /* latest capture time seen */
};

static const char *const flag_fields[] = {
#define GLASS_X(n, field, tag, sev) field,
    GLASS_ANA_FLAGS(GLASS_X)
#undef GLASS_X
};
static const char *const flag_tags[] = {
#define GLASS_X(n, field, tag, sev) tag,
    GLASS_ANA_FLAGS(GLASS_X)
#undef GLASS_X
};
static const char *const flag_sevs[] = {
#define GLASS_X(n, field, tag, sev) sev,
    GLASS_ANA_FLAGS(GLASS_X)
#undef GLASS_X
};
static const char *const note_fields[] = {
#define GLASS_X(n, field, text, sev) field,
    GLASS_ANA_NOTES(GLASS_X)
#undef GLASS_X
};
static const char *const note_texts[] = {
#define GLASS_X(n, field, text, sev) text,
    GLASS_ANA_NOTES(GLASS_X)
#undef GLASS_X
};
static const char *const note_sevs[] = {
#define GLASS_X(n, field, text, sev) sev,
    GLASS_ANA_NOTES(GLASS_X)
#undef GLASS_X
};

const char *glass_ana_flag_field(int flag)
{
    return flag >= 0 && flag < GLASS_ANA_NFLAGS ? flag_fields[flag] : "?";
}

const char *glass_ana_flag_tag(int flag)
{
    return flag >= 0 && flag < GLASS_ANA_NFLAGS ? flag_tags[flag] : "?";
}

const char *glass_ana_flag_severity(int flag)
{
    return flag >= 0 && flag < GLASS_ANA_NFLAGS ? flag_sevs[flag] : "?";
}

const char *glass_ana_note_field(int note)
{
    return note >= 0 && note < GLASS_ANA_NNOTES ? note_fields[note] : "?";
}

const char *glass_ana_note_text(int note)
{
    return note >= 0 && note < GLASS_ANA_NNOTES ? note_texts[note] : "?";
}

const char *glass_ana_note_severity(int note)
{
    return note >= 0 && note < GLASS_ANA_NNOTES ? note_sevs[note] : "?";
}

const char *glass_ana_state_name(int state)
{
    if (state == GLASS_ANA_STATE_UNKNOWN)
        return "?";
    return glass_tcp_state_name(state);
}

const char *glass_ana_cause_name(int cause)
{
    if (cause == GLASS_ANA_CAUSE_MIDSTREAM)
        return "midstream";
    return glass_tcp_cause_name(cause);
}

bool glass_ana_link_supported(int linktype)
{
    switch (linktype) {
    case GLASS_LINKTYPE_NULL:
    case GLASS_LINKTYPE_ETHERNET:
    case GLASS_LINKTYPE_RAW:
    case GLASS_LINKTYPE_LOOP:
    case GLASS_LINKTYPE_LINUX_SLL:
    case GLASS_LINKTYPE_IPV4:
    case GLASS_LINKTYPE_LINUX_SLL2:
        return true;
    default:
        return false;
    }
}

void glass_ana_config_default(struct glass_ana_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->idle_timeout = GLASS_SEC(300);
    cfg->close_linger = GLASS_SEC(10);
    cfg->max_conns = 1000000;
    cfg->finished_syn_is_new = true;
    cfg->max_tombstones = 1000000;
}

struct glass_ana *glass_ana_new(const struct glass_ana_config *cfg)
{
    struct glass_ana *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    if (cfg != NULL)
        a->cfg = *cfg;
    else
        glass_ana_config_default(&a->cfg);
    a->nbuckets = INITIAL_BUCKETS;
    a->buckets = calloc(a->nbuckets, sizeof(*a->buckets));
    if (a->buckets == NULL) {
        free(a);
        return NULL;
    }
    return a;
}

void glass_ana_free(struct glass_ana *a)
{
    if (a == NULL)
        return;
    struct ana_chunk *ch = a->chunks;
    while (ch != NULL) {
        struct ana_chunk *next = ch->next;
        free(ch);
        ch = next;
    }
    struct ana_tomb_chunk *tc = a->tchunks;
    while (tc != NULL) {
        struct ana_tomb_chunk *next = tc->next;
        free(tc);
        tc = next;
    }
    free(a->tbuckets);
    free(a->buckets);
    free(a);
}

const struct glass_ana_totals *glass_ana_totals(const struct glass_ana *a)
{
    return &a->tot;
}

/* ---- decoding -------------------------------------------------------------------------- */

/* Find the IPv4 header in a frame: its offset, or a reason to skip the frame. */
static const char *link_ipv4(int linktype, const uint8_t *p, size_t caplen, size_t *off)
{
    unsigned et;
    switch (linktype) {
    case GLASS_LINKTYPE_ETHERNET:
    case GLASS_LINKTYPE_LINUX_SLL: {
        size_t o = linktype == GLASS_LINKTYPE_ETHERNET ? ETH_HDR_LEN : SLL_HDR_LEN;
        if (caplen < o)
            return "short link-layer header";
        et = glass_get16(p + o - 2);
        for (int tags = 0; et == ETHERTYPE_VLAN || et == ETHERTYPE_QINQ || et == ETHERTYPE_QINQ_OLD;
             tags++) {
            if (tags == MAX_VLAN_TAGS || caplen < o + VLAN_TAG_LEN)
                return "short link-layer header";
            et = glass_get16(p + o + 2);
            o += VLAN_TAG_LEN;
        }
        if (et != ETHERTYPE_IPV4)
            return "not IPv4";
        *off = o;
        return NULL;
    }
    case GLASS_LINKTYPE_LINUX_SLL2:
        if (caplen < SLL2_HDR_LEN)
            return "short link-layer header";
        if (glass_get16(p) != ETHERTYPE_IPV4)
            return "not IPv4";
        *off = SLL2_HDR_LEN;
        return NULL;
    case GLASS_LINKTYPE_NULL:
    case GLASS_LINKTYPE_LOOP: {
        if (caplen < NULL_HDR_LEN)
            return "short link-layer header";
        /* NULL: the writer's byte order, unknown to us; LOOP: network order. */
        uint32_t be = glass_get32(p);
        uint32_t le = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                      ((uint32_t)p[3] << 24);
        if (be != AF_INET_VALUE && !(linktype == GLASS_LINKTYPE_NULL && le == AF_INET_VALUE))
            return "not IPv4";
        *off = NULL_HDR_LEN;
        return NULL;
    }
    case GLASS_LINKTYPE_RAW:
    case GLASS_LINKTYPE_IPV4:
        *off = 0;
        return NULL;
    default:
        return "unsupported link type";
    }
}

/* Decode an IPv4/TCP frame into seg, or say why not. Counts the reason in tot. */
static const char *decode(struct glass_ana_totals *tot, int linktype, const uint8_t *data,
                          size_t caplen, size_t wirelen, struct ana_seg *seg)
{
    size_t off = 0;
    const char *why = link_ipv4(linktype, data, caplen, &off);
    if (why != NULL) {
        if (why[0] == 's')
            tot->malformed++;
        else
            tot->not_ip4++;
        return why;
    }
    const uint8_t *ip = data + off;
    size_t avail = caplen - off;
    size_t wire_avail = wirelen > caplen ? wirelen - off : avail;
    if (avail < 1 || (ip[0] >> 4) != 4) {
        tot->not_ip4++;
        return "not IPv4";
    }

    struct glass_ipv4_repr ip4;
    struct glass_tcp_repr tcp;
    uint32_t seglen;
    if (glass_ipv4_parse(ip, avail, false, &ip4) == GLASS_DROP_NONE) {
        if (ip4.frag & (GLASS_IPV4_MF | GLASS_IPV4_OFFMASK)) {
            tot->fragments++;
            return "IPv4 fragment";
        }
        if (ip4.proto != GLASS_IPV4_PROTO_TCP) {
            tot->not_tcp++;
            return "not TCP";
        }
        if (glass_tcp_parse(ip4.payload, ip4.payload_len, ip4.src, ip4.dst, false, &tcp) !=
            GLASS_DROP_NONE) {
            tot->malformed++;
            return "malformed TCP header";
        }
        seglen = (uint32_t)tcp.payload_len;
    } else {
        /* The headers may still be whole when the datagram is not: the snap length cut the
         * frame, or TSO left the total length 0. Parse the headers from a copy whose total
         * length says "this much is here", and take the segment length from the header (or,
         * for TSO, from the frame's length on the wire). */
        if (avail < GLASS_IPV4_HDR_MIN) {
            tot->malformed++;
            return "malformed IPv4 header";
        }
        size_t total = glass_get16(ip + 2);
        bool cut = wire_avail > avail && total > avail;
        bool tso = total == 0;
        if (!cut && !tso) {
            tot->malformed++;
            return "malformed IPv4 header";
        }
        uint8_t hdr[HDR_COPY_MAX];
        size_t n = avail < sizeof(hdr) ? avail : sizeof(hdr);
        memcpy(hdr, ip, n);
        glass_put16(hdr + 2, (uint16_t)n);
        if (glass_ipv4_parse(hdr, n, false, &ip4) != GLASS_DROP_NONE) {
            tot->malformed++;
            return "malformed IPv4 header";
        }
        if (ip4.frag & (GLASS_IPV4_MF | GLASS_IPV4_OFFMASK)) {
            tot->fragments++;
            return "IPv4 fragment";
        }
        if (ip4.proto != GLASS_IPV4_PROTO_TCP) {
            tot->not_tcp++;
            return "not TCP";
        }
        if (glass_tcp_parse(ip4.payload, ip4.payload_len, ip4.src, ip4.dst, false, &tcp) !=
            GLASS_DROP_NONE) {
            tot->malformed++;
            return "TCP header cut short by the snap length";
        }
        size_t dgram = tso ? wire_avail : total;
        if (dgram > UINT16_MAX || dgram < (size_t)ip4.hdr_len + tcp.hdr_len) {
            tot->malformed++;
            return "malformed IPv4 header";
        }
        seglen = (uint32_t)(dgram - ip4.hdr_len - tcp.hdr_len);
    }
    seg->src = ip4.src;
    seg->dst = ip4.dst;
    seg->sport = tcp.src_port;
    seg->dport = tcp.dst_port;
    seg->seq = tcp.seq;
    seg->ack = tcp.ack;
    seg->len = seglen;
    seg->win = tcp.win;
    seg->mss = tcp.mss;
    seg->wscale = tcp.wscale;
    seg->flags = tcp.flags;
    return NULL;
}

/* ---- the connection table -------------------------------------------------------------- */

static uint64_t key_hash(uint32_t a, uint16_t pa, uint32_t b, uint16_t pb)
{
    uint64_t h = (((uint64_t)a << 32) | b) * UINT64_C(0x9e3779b97f4a7c15);
    h ^= (((uint64_t)pa << 16) | pb) * UINT64_C(0xc2b2ae3d27d4eb4f);
    h ^= h >> 31;
    h *= UINT64_C(0x94d049bb133111eb);
    return h ^ (h >> 29);
}

/* Canonical order of the two endpoints: the smaller (address, port) first. */
static void canon(const struct ana_seg *s, uint32_t *a, uint16_t *pa, uint32_t *b, uint16_t *pb)
{
    if (s->src < s->dst || (s->src == s->dst && s->sport <= s->dport)) {
        *a = s->src;
        *pa = s->sport;
        *b = s->dst;
        *pb = s->dport;
    } else {
        *a = s->dst;
        *pa = s->dport;
        *b = s->src;
        *pb = s->sport;
    }
}

static struct ana_conn *lookup(struct glass_ana *a, uint64_t h, uint32_t ka, uint16_t pa,
                               uint32_t kb, uint16_t pb)
{
    struct ana_conn *c = a->buckets[h & (a->nbuckets - 1)];
    for (; c != NULL; c = c->hnext) {
        if (c->hash == h && c->key_a == ka && c->key_b == kb && c->port_a == pa && c->port_b == pb)
            return c;
    }
    return NULL;
}

static void table_grow(struct glass_ana *a)
{
    size_t n = a->nbuckets * 2;
    struct ana_conn **nb = calloc(n, sizeof(*nb));
    if (nb == NULL)
        return; /* keep the old table: longer chains, still correct */
    for (size_t i = 0; i < a->nbuckets; i++) {
        struct ana_conn *c = a->buckets[i];
        while (c != NULL) {
            struct ana_conn *next = c->hnext;
            size_t j = c->hash & (n - 1);
            c->hnext = nb[j];
            nb[j] = c;
            c = next;
        }
    }
    free(a->buckets);
    a->buckets = nb;
    a->nbuckets = n;
}

static void table_remove(struct glass_ana *a, struct ana_conn *c)
{
    struct ana_conn **pp = &a->buckets[c->hash & (a->nbuckets - 1)];
    while (*pp != NULL && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp == c)
        *pp = c->hnext;
}

static void list_remove(struct ana_list *l, struct ana_conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
}

static void list_append(struct ana_list *l, struct ana_conn *c)
{
    c->next = NULL;
    c->prev = l->tail;
    if (l->tail != NULL)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
}

static struct ana_conn *conn_alloc(struct glass_ana *a)
{
    if (a->free_list == NULL) {
        struct ana_chunk *ch = malloc(sizeof(*ch));
        if (ch == NULL)
            return NULL;
        ch->next = a->chunks;
        a->chunks = ch;
        for (size_t i = POOL_CHUNK; i-- > 0;) {
            ch->conns[i].hnext = a->free_list;
            a->free_list = &ch->conns[i];
        }
    }
    struct ana_conn *c = a->free_list;
    a->free_list = c->hnext;
    memset(c, 0, sizeof(*c));
    return c;
}

/* ---- tombstones ---------------------------------------------------------------------- */

static struct ana_tomb *tomb_find(struct glass_ana *a, uint64_t h, uint32_t ka, uint16_t pa,
                                  uint32_t kb, uint16_t pb)
{
    if (a->tbuckets == NULL)
        return NULL;
    struct ana_tomb *t = a->tbuckets[h & (a->ntbuckets - 1)];
    for (; t != NULL; t = t->hnext) {
        if (t->hash == h && t->key_a == ka && t->key_b == kb && t->port_a == pa && t->port_b == pb)
            return t;
    }
    return NULL;
}

static void tomb_remove(struct glass_ana *a, struct ana_tomb *t)
{
    struct ana_tomb **pp = &a->tbuckets[t->hash & (a->ntbuckets - 1)];
    while (*pp != NULL && *pp != t)
        pp = &(*pp)->hnext;
    if (*pp == t)
        *pp = t->hnext;
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        a->thead = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        a->ttail = t->prev;
    t->hnext = a->tfree;
    a->tfree = t;
    a->ntombs--;
}

/* Remember a finalised connection's 4-tuple and ISNs (best effort: nothing if out of memory). */
static void tomb_bury(struct glass_ana *a, const struct ana_conn *c)
{
    if (a->cfg.max_tombstones == 0)
        return;
    if (a->tbuckets == NULL) {
        size_t n = 1024;
        while (n < a->cfg.max_tombstones && n < ((size_t)1 << 24))
            n *= 2;
        a->tbuckets = calloc(n, sizeof(*a->tbuckets));
        if (a->tbuckets == NULL)
            return;
        a->ntbuckets = n;
    }
    struct ana_tomb *t = tomb_find(a, c->hash, c->key_a, c->port_a, c->key_b, c->port_b);
    if (t != NULL)
        tomb_remove(a, t);
    if (a->ntombs >= a->cfg.max_tombstones && a->thead != NULL)
        tomb_remove(a, a->thead);
    if (a->tfree == NULL) {
        struct ana_tomb_chunk *ch = malloc(sizeof(*ch));
        if (ch == NULL)
            return;
        ch->next = a->tchunks;
        a->tchunks = ch;
        for (size_t i = TOMB_CHUNK; i-- > 0;) {
            ch->tombs[i].hnext = a->tfree;
            a->tfree = &ch->tombs[i];
        }
    }
    t = a->tfree;
    a->tfree = t->hnext;
    memset(t, 0, sizeof(*t));
    t->hash = c->hash;
    t->key_a = c->key_a;
    t->key_b = c->key_b;
    t->port_a = c->port_a;
    t->port_b = c->port_b;
    /* flow[d] is indexed by role; canonical direction 0 is sent by (key_a, port_a). */
    int d0 = (c->pub.side[0].ep.addr == c->key_a && c->pub.side[0].ep.port == c->port_a) ? 0 : 1;
    for (int k = 0; k < 2; k++) {
        const struct ana_flow *f = &c->flow[k ^ d0];
        t->base[k] = f->base_seq.v;
        t->base_set[k] = f->base_set;
    }
    size_t i = t->hash & (a->ntbuckets - 1);
    t->hnext = a->tbuckets[i];
    a->tbuckets[i] = t;
    t->prev = a->ttail;
    if (a->ttail != NULL)
        a->ttail->next = t;
    else
        a->thead = t;
    a->ttail = t;
    a->ntombs++;
}

/* Report and free a connection. */
static void finalise(struct glass_ana *a, struct ana_conn *c, const char *why)
{
    tomb_bury(a, c);
    glass_ana_infer_finalise(c, a->now, &a->tot);
    c->pub.end = why;
    if (a->cfg.on_conn != NULL)
        a->cfg.on_conn(a->cfg.ctx, &c->pub);
    list_remove(c->closed_list ? &a->closed : &a->open, c);
    table_remove(a, c);
    a->count--;
    a->tot.open_conns = a->count;
    c->hnext = a->free_list;
    a->free_list = c;
}

static bool older_than(glass_time_t now, glass_time_t t, glass_time_t limit)
{
    return now > t && now - t > limit;
}

/* The lists are kept in the order connections were (re)queued, not strictly by activity:
 * moving a connection to the tail on every segment would touch two other connections' cache
 * lines per segment. Instead the head is examined: if it has been quiet for the whole
 * timeout it is finalised, otherwise it is requeued with the time of its last segment. No
 * connection is finalised early; one is at most one timeout late. */
static void expire_list(struct glass_ana *a, struct ana_list *l, glass_time_t limit,
                        const char *why)
{
    struct ana_conn *c;
    while ((c = l->head) != NULL && older_than(a->now, c->queued_at, limit)) {
        if (older_than(a->now, c->last, limit)) {
            finalise(a, c, why);
        } else {
            list_remove(l, c);
            c->queued_at = c->last;
            list_append(l, c);
        }
    }
}

static void expire(struct glass_ana *a)
{
    expire_list(a, &a->open, a->cfg.idle_timeout, "idle");
    expire_list(a, &a->closed, a->cfg.close_linger, "closed");
}

/* Is the sender of a connection's first segment its client? For a SYN yes, for a SYN,ACK no.
 * Otherwise (the capture starts mid-connection) a side on a port below 1024 facing one above
 * is the server; failing that, the first sender is taken for the client. */
static bool first_sender_is_client(const struct ana_seg *s)
{
    const bool syn = s->flags & GLASS_TH_SYN, ack = s->flags & GLASS_TH_ACK;
    if (syn)
        return !ack;
    if (s->sport < 1024 && s->dport >= 1024)
        return false;
    return true;
}

static struct ana_conn *conn_new(struct glass_ana *a, const struct ana_seg *s, uint64_t h,
                                 uint32_t ka, uint16_t pa, uint32_t kb, uint16_t pb)
{
    if (a->cfg.max_conns != 0 && a->count >= a->cfg.max_conns) {
        struct ana_conn *victim = a->closed.head != NULL ? a->closed.head : a->open.head;
        if (victim != NULL)
            finalise(a, victim, "evicted");
    }
    struct ana_conn *c = conn_alloc(a);
    if (c == NULL)
        return NULL;
    c->key_a = ka;
    c->port_a = pa;
    c->key_b = kb;
    c->port_b = pb;
    c->hash = h;
    bool client_first = first_sender_is_client(s);
    int cl = client_first ? 0 : 1;
    c->pub.side[cl].ep = (struct glass_endpoint){s->src, s->sport};
    c->pub.side[cl ^ 1].ep = (struct glass_endpoint){s->dst, s->dport};
    c->first_from_server = !client_first;
    if (!client_first) {
        c->pub.history[0] = '^';
        c->hlen = 1;
    }
    for (int k = 0; k < 2; k++) {
        c->flow[k].win_scale = -1;
        c->flow[k].window = UINT32_MAX; /* Wireshark: no window seen yet */
    }
    c->pub.stream = a->next_stream++;

    size_t i = h & (a->nbuckets - 1);
    c->hnext = a->buckets[i];
    a->buckets[i] = c;
    c->queued_at = s->at;
    list_append(&a->open, c);
    a->count++;
    a->tot.conns++;
    a->tot.open_conns = a->count;
    if (a->count > a->tot.peak_conns)
        a->tot.peak_conns = a->count;
    if (a->count > a->nbuckets / 2) /* short chains: a lookup is one or two cache misses */
        table_grow(a);
    return c;
}

int glass_ana_packet(struct glass_ana *a, glass_time_t at, int linktype, const uint8_t *data,
                     size_t caplen, size_t wirelen)
{
    struct glass_ana_pkt_info pi;
    memset(&pi, 0, sizeof(pi));
    pi.frame = ++a->tot.frames;
    pi.at = at;
    if (at > a->now)
        a->now = at;

    struct ana_seg s;
    pi.skip = decode(&a->tot, linktype, data, caplen, wirelen, &s);
    if (pi.skip != NULL) {
        if (a->cfg.on_packet != NULL)
            a->cfg.on_packet(a->cfg.ctx, &pi);
        return 0;
    }
    s.at = at;
    a->tot.tcp++;
    expire(a);

    uint32_t ka, kb;
    uint16_t pa, pb;
    canon(&s, &ka, &pa, &kb, &pb);
    uint64_t h = key_hash(ka, pa, kb, pb);
    struct ana_conn *c = lookup(a, h, ka, pa, kb, pb);
    const bool syn = s.flags & GLASS_TH_SYN, ack = s.flags & GLASS_TH_ACK;
    uint32_t extra = 0;
    int d = 0;

    if (c != NULL) {
        d = (c->pub.side[0].ep.addr == s.src && c->pub.side[0].ep.port == s.sport) ? 0 : 1;
        struct ana_flow *f = &c->flow[d];
        if (syn && !ack) {
            /* A new SYN with another ISN (Wireshark: tcp.analysis.reused_ports), or any SYN
             * once the old connection is over, starts a new connection on this 4-tuple --
             * unless its sender had sent nothing in the old one (then that was only the
             * peer's segments, e.g. an RST that overtook this SYN, as tshark sees it). */
            bool other_isn = f->base_set && f->base_seq.v != s.seq;
            bool over =
                a->cfg.finished_syn_is_new && c->peer[d].pkts > 0 && glass_ana_infer_finished(c);
            if (other_isn || over) {
                if (other_isn)
                    extra |= GLASS_ANAF(REUSED_PORTS);
                glass_ana_infer_reuse(c, at, pi.frame, &a->tot);
                finalise(a, c, "reused");
                c = NULL;
            } else if (f->base_set) {
                /* The same SYN again. Wireshark (issue 17616) first rewinds nextseq to the
                 * highest contiguous sequence number, in case an RST moved it on. */
                f->nextseq = f->maxseqtobeacked;
            }
        } else if (syn && ack && f->base_set && f->base_seq.v != s.seq) {
            /* A SYN,ACK with another ISN: Wireshark flags it and restarts the numbering. */
            extra |= GLASS_ANAF(REUSED_PORTS);
            f->base_seq = glass_seq(s.seq);
        }
    }
    bool fresh = c == NULL;
    if (fresh) {
        /* A finalised connection on this 4-tuple: a SYN with another ISN is a reuse. */
        struct ana_tomb *tb = tomb_find(a, h, ka, pa, kb, pb);
        if (tb != NULL) {
            int k = (s.src == ka && s.sport == pa) ? 0 : 1;
            if (syn && !ack && tb->base_set[k] && tb->base[k] != s.seq)
                extra |= GLASS_ANAF(REUSED_PORTS);
            tomb_remove(a, tb);
        }
        c = conn_new(a, &s, h, ka, pa, kb, pb);
        if (c == NULL) {
            pi.skip = "out of memory";
            if (a->cfg.on_packet != NULL)
                a->cfg.on_packet(a->cfg.ctx, &pi);
            return -GLASS_ENOMEM;
        }
        c->pub.reused = (extra & GLASS_ANAF(REUSED_PORTS)) != 0;
        c->pub.first = at;
        c->pub.first_frame = pi.frame;
        d = (c->pub.side[0].ep.addr == s.src && c->pub.side[0].ep.port == s.sport) ? 0 : 1;
    }

    pi.conn = &c->pub;
    pi.dir = (uint8_t)d;
    pi.tcp_flags = s.flags;
    pi.win = s.win;
    pi.seq = s.seq;
    pi.ack = s.ack;
    pi.len = s.len;
    pi.mss = s.mss;
    pi.wscale = s.wscale;

    glass_ana_flow_segment(c, d, &s, at, pi.frame, extra, &pi);
    if (fresh)
        glass_ana_infer_start(c, d, &s, at, pi.frame, &a->tot, &pi);
    glass_ana_infer_segment(c, d, &s, at, pi.frame, &a->tot, &pi);

    c->peer[d].pkts++;
    c->peer[d].bytes += s.len;
    c->last = at;
    c->last_frame = pi.frame;
    for (uint32_t f = pi.flags; f != 0; f &= f - 1) {
        int k = 0;
        while (!(f & (1u << k)))
            k++;
        c->pub.flag_count[k]++;
        a->tot.flag_count[k]++;
    }
    pi.state[0] = c->peer[0].state;
    pi.state[1] = c->peer[1].state;

    /* Both sides done: over to the closed list (where the linger applies). */
    if (!c->closed_list && glass_ana_infer_finished(c)) {
        list_remove(&a->open, c);
        c->closed_list = true;
        c->queued_at = at;
        list_append(&a->closed, c);
    }

    if (a->cfg.on_packet != NULL)
        a->cfg.on_packet(a->cfg.ctx, &pi);
    return 0;
}

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

void glass_ana_prefetch_bucket(struct glass_ana *a, int linktype, const uint8_t *data,
                               size_t caplen, struct glass_ana_hint *hint)
{
    size_t off;
    hint->ok = false;
    if (link_ipv4(linktype, data, caplen, &off) != NULL || caplen - off < GLASS_IPV4_HDR_MIN)
        return;
    const uint8_t *ip = data + off;
    size_t ihl = ((size_t)ip[0] & 0x0fu) * 4u;
    if ((ip[0] >> 4) != 4 || ip[9] != GLASS_IPV4_PROTO_TCP || ihl < GLASS_IPV4_HDR_MIN ||
        caplen - off < ihl + 4)
        return;
    struct ana_seg s;
    s.src = glass_get32(ip + 12);
    s.dst = glass_get32(ip + 16);
    s.sport = glass_get16(ip + ihl);
    s.dport = glass_get16(ip + ihl + 2);
    uint32_t ka, kb;
    uint16_t pa, pb;
    canon(&s, &ka, &pa, &kb, &pb);
    hint->hash = key_hash(ka, pa, kb, pb);
    hint->ok = true;
    PREFETCH(&a->buckets[hint->hash & (a->nbuckets - 1)]);
}

void glass_ana_prefetch_conn(const struct glass_ana *a, const struct glass_ana_hint *hint)
{
    if (!hint->ok)
        return;
    const struct ana_conn *c = a->buckets[hint->hash & (a->nbuckets - 1)];
    if (c == NULL)
        return;
    /* the lines a segment reads: key, flows, peers (all that comes before pub) */
    const char *p = (const char *)c;
    PREFETCH(p);
    PREFETCH(p + 64);
    PREFETCH(p + 128);
    PREFETCH(p + 192);
    PREFETCH(p + 256);
    PREFETCH(p + 320);
}

static int by_stream(const void *x, const void *y)
{
    const struct ana_conn *a = *(const struct ana_conn *const *)x;
    const struct ana_conn *b = *(const struct ana_conn *const *)y;
    return a->pub.stream < b->pub.stream ? -1 : a->pub.stream > b->pub.stream;
}

void glass_ana_finish(struct glass_ana *a)
{
    size_t n = a->count;
    struct ana_conn **all = n > 0 ? malloc(n * sizeof(*all)) : NULL;
    if (all != NULL) {
        size_t i = 0;
        for (struct ana_conn *c = a->open.head; c != NULL && i < n; c = c->next)
            all[i++] = c;
        for (struct ana_conn *c = a->closed.head; c != NULL && i < n; c = c->next)
            all[i++] = c;
        qsort(all, i, sizeof(*all), by_stream);
        for (size_t k = 0; k < i; k++)
            finalise(a, all[k], "end");
        free(all);
    }
    /* Without memory for the sort: in activity order. */
    while (a->open.head != NULL)
        finalise(a, a->open.head, "end");
    while (a->closed.head != NULL)
        finalise(a, a->closed.head, "end");
}
