/* glass demo — TCP state-machine scenarios between two stacks, drawn as ladder diagrams.
 *
 *   glass demo [--seed N] [--json] [--list] [SCENARIO...]
 *
 * Each scenario runs two stacks ("client" 192.0.2.1 on the left, "server" 192.0.2.2 on the
 * right) over a simnet with a 10 ms one-way delay, in virtual time. Every packet, transition,
 * socket call and socket event is printed in time order; the scenario's expectations decide
 * ok / FAILED. With no SCENARIO, all run and a coverage table of the states and legal arcs
 * follows. The output depends only on the seed: no wall clock, no pointers. */
#include "cmds.h"
#include "out.h"
#include "pcapw.h"
#include "scenarios.h"
#include "ss.h"

#include <glass/err.h>
#include <glass/info.h>
#include <glass/sim.h>
#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/stats.h>
#include <glass/trace.h>
#include <glass/wire.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ladder columns: time | left state | arrow | right state | notes. */
#define TIME_W 8
#define LEFT_COL 10  /* TIME_W + 2 */
#define STATE_W 11   /* "ESTABLISHED" */
#define ARROW_W 48
#define RIGHT_COL (LEFT_COL + STATE_W + 1 + ARROW_W + 1)
#define RIGHT_END (RIGHT_COL + STATE_W)

#define MAX_ARCS 64

enum pkt_fate {
    FATE_PASS = 0,
    FATE_FILTERED, /* dropped by the scenario's filter */
    FATE_LOST,     /* dropped by the link (random loss, link full) */
    FATE_NOROUTE,  /* no node has the destination address */
    FATE_HELD,     /* held by the filter */
};

static const char *const side_names[DEMO_SIDES] = {"client", "server"};

/* Coverage summed over every stack of every scenario run. */
struct coverage {
    size_t n_arcs;
    uint64_t arc_any[MAX_ARCS];
    uint64_t arc_cause[MAX_ARCS][GLASS_CAUSE_COUNT];
    unsigned scenarios, stacks;
};

static uint64_t splitmix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Seeds of the simnet (k = 0), the client (1) and the server (2), from --seed. */
static uint64_t derive_seed(uint64_t seed, uint64_t k)
{
    return splitmix64(seed ^ (k * UINT64_C(0xd1b54a32d192ed03)));
}

static uint32_t side_addr(int side)
{
    return side == DEMO_CLIENT ? DEMO_CLIENT_ADDR : DEMO_SERVER_ADDR;
}

static int other_side(int side)
{
    return side == DEMO_CLIENT ? DEMO_SERVER : DEMO_CLIENT;
}

static bool ep_equal(const struct glass_endpoint *a, const struct glass_endpoint *b)
{
    return a->addr == b->addr && a->port == b->port;
}

static const char *state_name(int s)
{
    const char *n = glass_tcp_state_name(s);
    return n != NULL ? n : "?";
}

/* "-ECONNREFUSED (Connection refused)" or "3". */
static void fmt_ret(struct out_buf *b, long r)
{
    const char *name = r < 0 && r >= -4095 ? glass_errname((int)r) : NULL;
    if (name != NULL)
        out_printf(b, "-%s (%s)", name, glass_strerror((int)r));
    else
        out_printf(b, "%ld", r);
}

/* ---- output primitives --------------------------------------------------------------------- */

static void flush_pending(struct demo *d);

/* JSON: start one event object; the caller appends fields and the closing brace. */
static void json_begin(struct demo *d, const char *kind, glass_time_t t)
{
    char tb[32];
    if (!d->first_event)
        out_putc(&d->out, ',');
    d->first_event = false;
    out_printf(&d->out, "{\"t\":%s,\"kind\":\"%s\"", out_time(t, tb), kind);
}

/* Text: the time column. */
static void text_begin(struct demo *d, glass_time_t t)
{
    char tb[32];
    out_printf(&d->out, "%*s  ", TIME_W, out_time(t, tb));
}

/* Text: s on side's half of the ladder (client: from the left column; server: flush right). */
static void text_sided(struct demo *d, int side, const char *s)
{
    size_t len = strlen(s);
    size_t room = RIGHT_END - LEFT_COL;
    if (side == DEMO_SERVER && len < room)
        out_pad(&d->out, room - len);
    out_puts(&d->out, s);
    out_putc(&d->out, '\n');
}

void demo_note(struct demo *d, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    flush_pending(d);
    glass_time_t now = glass_simnet_now(d->net);
    if (d->json) {
        json_begin(d, "note", now);
        out_puts(&d->out, ",\"text\":");
        out_json_str(&d->out, text);
        out_putc(&d->out, '}');
    } else {
        text_begin(d, now);
        out_printf(&d->out, "* %s\n", text);
    }
}

/* ---- connections and sequence numbers -------------------------------------------------- */

static struct demo_conn *conn_get(struct demo_side *sd, uint32_t id, bool add)
{
    for (int i = 0; i < sd->n_conns; i++) {
        if (sd->conns[i].id == id)
            return &sd->conns[i];
    }
    if (!add || sd->n_conns >= DEMO_MAX_CONNS)
        return NULL;
    struct demo_conn *c = &sd->conns[sd->n_conns++];
    memset(c, 0, sizeof *c);
    c->id = id;
    c->state = GLASS_TCP_CLOSED;
    return c;
}

/* Learn every live connection's 4-tuple and state from the stacks. */
static void refresh_conns(struct demo *d)
{
    struct glass_conn_info info[DEMO_MAX_CONNS];
    for (int s = 0; s < DEMO_SIDES; s++) {
        struct demo_side *sd = &d->side[s];
        size_t n = glass_stack_conns(sd->st, info, DEMO_MAX_CONNS);
        if (n > DEMO_MAX_CONNS)
            n = DEMO_MAX_CONNS;
        for (size_t i = 0; i < n; i++) {
            struct demo_conn *c = conn_get(sd, info[i].conn_id, true);
            if (c == NULL)
                continue;
            c->state = info[i].state;
            c->has_tuple = true;
            c->local = info[i].local;
            c->remote = info[i].remote;
        }
    }
}

/* The state to draw for `side` on a packet between its local and remote endpoint: the newest
 * connection with that 4-tuple, else a listener on the local port, else CLOSED (no socket). A
 * SYN arriving where the old connection is already CLOSED goes to the listener. */
static const char *ladder_state(struct demo *d, int side, const struct glass_endpoint *local,
                                const struct glass_endpoint *remote, uint8_t flags)
{
    const struct demo_side *sd = &d->side[side];
    const struct demo_conn *best = NULL, *listener = NULL;
    for (int i = 0; i < sd->n_conns; i++) {
        const struct demo_conn *c = &sd->conns[i];
        if (!c->has_tuple)
            continue;
        if (c->state == GLASS_TCP_LISTEN) {
            if (c->local.port == local->port && (c->local.addr == 0 || c->local.addr == local->addr))
                listener = c;
            continue;
        }
        if (ep_equal(&c->local, local) && ep_equal(&c->remote, remote) &&
            (best == NULL || c->id > best->id))
            best = c;
    }
    bool new_syn = (flags & GLASS_TH_SYN) != 0 && (flags & GLASS_TH_ACK) == 0;
    if (best != NULL && !(best->state == GLASS_TCP_CLOSED && new_syn && listener != NULL))
        return state_name(best->state);
    if (listener != NULL)
        return state_name(GLASS_TCP_LISTEN);
    return state_name(GLASS_TCP_CLOSED);
}

static struct demo_isn *isn_find(struct demo *d, const struct glass_endpoint *src,
                                 const struct glass_endpoint *dst)
{
    for (size_t i = 0; i < d->n_isns; i++) {
        if (ep_equal(&d->isns[i].src, src) && ep_equal(&d->isns[i].dst, dst))
            return &d->isns[i];
    }
    return NULL;
}

static void isn_set(struct demo *d, const struct glass_endpoint *src,
                    const struct glass_endpoint *dst, uint32_t isn, int8_t wscale)
{
    struct demo_isn *e = isn_find(d, src, dst);
    if (e == NULL) {
        if (d->n_isns >= DEMO_MAX_ISNS)
            return;
        e = &d->isns[d->n_isns++];
        e->src = *src;
        e->dst = *dst;
    }
    e->isn = isn;
    e->wscale = wscale;
}

/* ---- packets ----------------------------------------------------------------------------- */

/* The window as the receiver of this segment reads it: scaled by the shift the sender
 * announced, when both SYNs carried the option (RFC 7323 §2.2; never in a SYN). */
static uint32_t scaled_win(const struct glass_pkt_summary *s, const struct demo_isn *mine,
                           const struct demo_isn *theirs)
{
    uint32_t win = s->win;
    if (!(s->flags & GLASS_TH_SYN) && mine != NULL && theirs != NULL && mine->wscale >= 0 &&
        theirs->wscale >= 0)
        win <<= mine->wscale;
    return win;
}

static void pkt_body(struct demo *d, const struct demo_pending *p, struct out_buf *b)
{
    if (!p->decoded) {
        out_printf(b, "?? %zu bytes", p->len);
        return;
    }
    const struct glass_pkt_summary *s = &p->s;
    char fb[16];
    const struct demo_isn *mine = isn_find(d, &s->src, &s->dst);
    const struct demo_isn *theirs = isn_find(d, &s->dst, &s->src);
    uint32_t seq = mine != NULL ? s->seq - mine->isn : s->seq;
    out_printf(b, "%s seq=%" PRIu32, glass_tcp_flags_str(s->flags, fb), seq);
    if (s->flags & GLASS_TH_ACK) {
        uint32_t ack = theirs != NULL ? s->ack - theirs->isn : s->ack;
        out_printf(b, " ack=%" PRIu32, ack);
    }
    out_printf(b, " len=%" PRIu32 " win=%" PRIu32, s->len, scaled_win(s, mine, theirs));
}

static const char *fate_text(int fate)
{
    switch (fate) {
    case FATE_FILTERED:
        return "dropped";
    case FATE_LOST:
        return "lost";
    case FATE_NOROUTE:
        return "no route";
    case FATE_HELD:
        return "held";
    default:
        return NULL;
    }
}

static void print_packet(struct demo *d, const struct demo_pending *p)
{
    const struct glass_pkt_summary *s = &p->s;
    const struct demo_isn *mine = p->decoded ? isn_find(d, &s->src, &s->dst) : NULL;
    const struct demo_isn *theirs = p->decoded ? isn_find(d, &s->dst, &s->src) : NULL;
    bool syn = p->decoded && (s->flags & GLASS_TH_SYN) != 0;
    const char *to_name = p->to >= 0 && p->to < DEMO_SIDES ? side_names[p->to] : "nobody";
    if (d->json) {
        char fb[16];
        json_begin(d, "packet", p->t);
        out_printf(&d->out, ",\"id\":%" PRIu64 ",\"from\":\"%s\",\"to\":\"%s\"", p->id,
                   side_names[p->from], to_name);
        if (p->decoded) {
            out_printf(&d->out, ",\"flags\":\"%s\"", glass_tcp_flags_str(s->flags, fb));
            out_printf(&d->out, ",\"seq\":%" PRIu32,
                       mine != NULL ? s->seq - mine->isn : s->seq);
            if (s->flags & GLASS_TH_ACK)
                out_printf(&d->out, ",\"ack\":%" PRIu32,
                           theirs != NULL ? s->ack - theirs->isn : s->ack);
            else
                out_puts(&d->out, ",\"ack\":null");
            out_printf(&d->out, ",\"len\":%" PRIu32 ",\"win\":%" PRIu32, s->len,
                       scaled_win(s, mine, theirs));
            if (syn)
                out_printf(&d->out, ",\"isn\":%" PRIu32, s->seq);
            out_printf(&d->out, ",\"sport\":%u,\"dport\":%u", (unsigned)s->src.port,
                       (unsigned)s->dst.port);
        } else {
            out_printf(&d->out, ",\"flags\":null,\"bytes\":%zu", p->len);
        }
        out_printf(&d->out, ",\"from_state\":\"%s\",\"to_state\":\"%s\"", p->st_from, p->st_to);
        out_printf(&d->out, ",\"dropped\":%s,\"held\":%s",
                   p->fate != FATE_PASS && p->fate != FATE_HELD ? "true" : "false",
                   p->fate == FATE_HELD ? "true" : "false");
        if (p->fate != FATE_PASS && p->fate != FATE_HELD)
            out_printf(&d->out, ",\"why\":\"%s\"", fate_text(p->fate));
        out_putc(&d->out, '}');
        return;
    }

    struct out_buf body;
    out_init(&body);
    pkt_body(d, p, &body);
    const char *bt = body.p != NULL ? body.p : "";
    size_t blen = strlen(bt);
    bool ltr = p->from == DEMO_CLIENT;
    char tip = ltr ? '>' : '<';
    if (p->fate == FATE_HELD)
        tip = '|';
    else if (p->fate != FATE_PASS)
        tip = 'x';
    const char *left_state = ltr ? p->st_from : p->st_to;
    const char *right_state = ltr ? p->st_to : p->st_from;

    text_begin(d, p->t);
    out_printf(&d->out, "%-*s ", STATE_W, left_state);
    size_t used = 4 + blen + 1; /* "--- " body " " */
    size_t dashes = used + 3 <= ARROW_W ? ARROW_W - used - 1 : 2;
    if (ltr) {
        out_printf(&d->out, "--- %s ", bt);
        for (size_t i = 0; i < dashes; i++)
            out_putc(&d->out, '-');
        out_putc(&d->out, tip);
    } else {
        out_printf(&d->out, "%c-- %s ", tip, bt);
        for (size_t i = 0; i < dashes + 1; i++)
            out_putc(&d->out, '-');
    }
    out_printf(&d->out, " %-*s", STATE_W, right_state);
    if (syn)
        out_printf(&d->out, "  isn %" PRIu32 ", port %u > %u", s->seq, (unsigned)s->src.port,
                   (unsigned)s->dst.port);
    if (p->fate != FATE_PASS)
        out_printf(&d->out, "  [%s]", fate_text(p->fate));
    /* No trailing blanks. */
    while (d->out.len > 0 && d->out.p[d->out.len - 1] == ' ')
        d->out.p[--d->out.len] = '\0';
    out_putc(&d->out, '\n');
    out_free(&body);
}

static void flush_pending(struct demo *d)
{
    if (!d->pending.active)
        return;
    d->pending.active = false;
    print_packet(d, &d->pending);
}

static int side_of_node(const struct demo *d, int node)
{
    for (int s = 0; s < DEMO_SIDES; s++) {
        if (d->side[s].node == node)
            return s;
    }
    return -1;
}

/* --pcap: every scenario's packets as tcpdump on the client's interface would see them, one
 * scenario after the other (each starts a second after the previous one's last packet). */
static struct glass_pcapw *demo_pcap;
static glass_time_t demo_pcap_base, demo_pcap_last;

static void pcap_tap(struct demo *d, const struct glass_sim_packet *p, enum glass_sim_pkt_event what)
{
    int from = side_of_node(d, p->from);
    int to = p->to >= 0 ? side_of_node(d, p->to) : -1;
    if (!((what == GLASS_SIM_SENT && from == 0) || (what == GLASS_SIM_DELIVERED && to == 0)))
        return;
    glass_time_t t =
        demo_pcap_base + (what == GLASS_SIM_SENT ? p->sent_at : glass_simnet_now(d->net));
    glass_pcapw_write(demo_pcap, t, p->data, p->len);
    if (t > demo_pcap_last)
        demo_pcap_last = t;
}

/* --pcapng: the same packets, each commented with both sides' states just after it (as they
 * are at the next event of the link, or at the end of the scenario): the state of the
 * connection the packet belongs to, LISTEN for a listener that has no child for it yet. */
static struct glass_pcapw *demo_pcapng;
static struct glass_endpoint ng_ep[2]; /* the held packet's client and server endpoints */

static const char *conn_state_for(const struct demo_side *sd, const struct glass_endpoint *me,
                                  const struct glass_endpoint *peer)
{
    const char *listen = "CLOSED";
    for (int i = sd->n_conns - 1; i >= 0; i--) {
        const struct demo_conn *c = &sd->conns[i];
        if (c->has_tuple && c->local.port == me->port && c->remote.port == peer->port &&
            c->remote.addr == peer->addr)
            return glass_tcp_state_name(c->state);
        if (c->state == GLASS_TCP_LISTEN && c->local.port == me->port)
            listen = "LISTEN";
    }
    return listen;
}

static void demo_ng_commit(struct demo *d)
{
    if (!glass_pcapw_holding(demo_pcapng))
        return;
    char c[96];
    snprintf(c, sizeof c, "client %s, server %s",
             conn_state_for(&d->side[0], &ng_ep[0], &ng_ep[1]),
             conn_state_for(&d->side[1], &ng_ep[1], &ng_ep[0]));
    glass_pcapw_commit(demo_pcapng, c);
}

static void pcapng_tap(struct demo *d, const struct glass_sim_packet *p,
                       enum glass_sim_pkt_event what)
{
    demo_ng_commit(d);
    int from = side_of_node(d, p->from);
    int to = p->to >= 0 ? side_of_node(d, p->to) : -1;
    if (!((what == GLASS_SIM_SENT && from == 0) || (what == GLASS_SIM_DELIVERED && to == 0)))
        return;
    if (p->len < 24 || (p->data[0] >> 4) != 4 || (size_t)(p->data[0] & 15) * 4 + 4 > p->len)
        return;
    size_t ihl = (size_t)(p->data[0] & 15) * 4;
    struct glass_endpoint src = {(uint32_t)p->data[12] << 24 | (uint32_t)p->data[13] << 16 |
                                     (uint32_t)p->data[14] << 8 | p->data[15],
                                 (uint16_t)(p->data[ihl] << 8 | p->data[ihl + 1])};
    struct glass_endpoint dst = {(uint32_t)p->data[16] << 24 | (uint32_t)p->data[17] << 16 |
                                     (uint32_t)p->data[18] << 8 | p->data[19],
                                 (uint16_t)(p->data[ihl + 2] << 8 | p->data[ihl + 3])};
    ng_ep[0] = from == 0 ? src : dst;
    ng_ep[1] = from == 0 ? dst : src;
    glass_time_t t =
        demo_pcap_base + (what == GLASS_SIM_SENT ? p->sent_at : glass_simnet_now(d->net));
    glass_pcapw_hold(demo_pcapng, t, p->data, p->len);
    if (t > demo_pcap_last)
        demo_pcap_last = t;
}

static void tap_fn(void *ctx, const struct glass_sim_packet *p, enum glass_sim_pkt_event what)
{
    struct demo *d = ctx;
    if (demo_pcap != NULL)
        pcap_tap(d, p, what);
    if (demo_pcapng != NULL)
        pcapng_tap(d, p, what);
    switch (what) {
    case GLASS_SIM_SENT: {
        flush_pending(d);
        d->n_packets++;
        int from = side_of_node(d, p->from);
        if (from < 0)
            return;
        struct demo_pending *pp = &d->pending;
        memset(pp, 0, sizeof *pp);
        pp->id = p->id;
        pp->from = from;
        pp->to = p->to >= 0 ? side_of_node(d, p->to) : -1;
        pp->t = p->sent_at;
        pp->len = p->len;
        pp->decoded = glass_pkt_decode(p->data, p->len, &pp->s) == 0;
        struct demo_side *sd = &d->side[from];
        sd->tx_packets++;
        if (pp->decoded) {
            if (pp->s.flags & GLASS_TH_SYN) {
                sd->tx_syns++;
                isn_set(d, &pp->s.src, &pp->s.dst, pp->s.seq, pp->s.wscale);
            }
            if (pp->s.flags & GLASS_TH_FIN)
                sd->tx_fins++;
            if (pp->s.len > 0)
                sd->tx_data++;
        }
        if (d->n_packets > DEMO_MAX_PACKETS) {
            if (!d->storm)
                demo_expect(d, false, "packet storm: more than %d packets; link cut",
                            DEMO_MAX_PACKETS);
            d->storm = true;
            return; /* not drawn */
        }
        refresh_conns(d);
        if (pp->decoded) {
            pp->st_from = ladder_state(d, from, &pp->s.src, &pp->s.dst, pp->s.flags);
            pp->st_to = pp->to >= 0 ? ladder_state(d, pp->to, &pp->s.dst, &pp->s.src, pp->s.flags)
                                    : "-";
        } else {
            pp->st_from = "?";
            pp->st_to = "?";
        }
        pp->fate = FATE_PASS;
        pp->active = true;
        return;
    }
    case GLASS_SIM_DROPPED:
        if (d->pending.active && d->pending.id == p->id) {
            if (p->to < 0)
                d->pending.fate = FATE_NOROUTE;
            else if (d->verdict_id == p->id && d->verdict == GLASS_SIM_DROP)
                d->pending.fate = FATE_FILTERED;
            else
                d->pending.fate = FATE_LOST;
        } else if (!d->storm) {
            demo_note(d, "held packet #%" PRIu64 " discarded", p->id);
        }
        return;
    case GLASS_SIM_HELD:
        if (d->pending.active && d->pending.id == p->id)
            d->pending.fate = FATE_HELD;
        return;
    case GLASS_SIM_DELIVERED:
        return;
    }
}

static enum glass_sim_verdict filter_fn(void *ctx, const struct glass_sim_packet *p)
{
    struct demo *d = ctx;
    enum glass_sim_verdict v = GLASS_SIM_PASS;
    if (d->storm) {
        v = GLASS_SIM_DROP;
    } else if (d->filter != NULL) {
        struct glass_pkt_summary s;
        int from = side_of_node(d, p->from);
        bool ok;
        if (d->pending.active && d->pending.id == p->id) {
            ok = d->pending.decoded;
            s = d->pending.s;
        } else {
            ok = glass_pkt_decode(p->data, p->len, &s) == 0;
        }
        if (ok && from >= 0)
            v = d->filter(d, from, &s);
    }
    d->verdict_id = p->id;
    d->verdict = v;
    return v;
}

/* ---- transitions ------------------------------------------------------------------------- */

static void print_transition(struct demo *d, int side, const struct glass_transition *t)
{
    flush_pending(d);
    const char *cname = glass_tcp_cause_name(t->cause);
    const char *ctext = glass_tcp_cause_text(t->cause);
    if (d->json) {
        json_begin(d, "transition", t->at);
        out_printf(&d->out,
                   ",\"side\":\"%s\",\"conn\":%" PRIu32
                   ",\"from\":\"%s\",\"to\":\"%s\",\"cause\":\"%s\"}",
                   side_names[side], t->conn, state_name(t->from), state_name(t->to),
                   cname != NULL ? cname : "?");
        return;
    }
    char cause[160];
    snprintf(cause, sizeof cause, "#%" PRIu32 " %s (%s)", t->conn, cname != NULL ? cname : "?",
             ctext != NULL ? ctext : "?");
    text_begin(d, t->at);
    if (side == DEMO_CLIENT) {
        out_printf(&d->out, "%s -> %s  %s\n", state_name(t->from), state_name(t->to), cause);
        return;
    }
    size_t room = RIGHT_COL - LEFT_COL - 2;
    size_t len = strlen(cause);
    if (len < room)
        out_pad(&d->out, room - len);
    out_printf(&d->out, "%s  %s -> %s\n", cause, state_name(t->from), state_name(t->to));
}

static void observer_fn(void *ctx, const struct glass_transition *t)
{
    struct demo_side *sd = ctx;
    struct demo *d = sd->owner;
    int side = sd->index;
    /* A later change of state: the held packet's comment (--pcapng) is due first. */
    if (glass_pcapw_holding(demo_pcapng) &&
        demo_pcap_base + t->at > glass_pcapw_held_at(demo_pcapng))
        demo_ng_commit(d);
    if (d->n_trans < DEMO_MAX_TRANS) {
        struct demo_trans *r = &d->trans[d->n_trans++];
        r->side = side;
        r->conn = t->conn;
        r->from = t->from;
        r->to = t->to;
        r->cause = t->cause;
        r->at = t->at;
    }
    struct demo_conn *c = conn_get(sd, t->conn, true);
    if (c != NULL)
        c->state = t->to;
    int arc = glass_tcp_arc_find(t->from, t->to);
    if (arc >= 0 && arc < MAX_ARCS)
        sd->obs_arc[arc]++;
    else
        sd->obs_illegal++;
    if (d->in_call && d->n_deferred < DEMO_MAX_DEFER) {
        d->deferred[d->n_deferred] = *t;
        d->deferred_side[d->n_deferred] = side;
        d->n_deferred++;
        return;
    }
    print_transition(d, side, t);
}

/* ---- socket calls -------------------------------------------------------------------------- */

static void call_begin(struct demo *d)
{
    flush_pending(d);
    d->in_call = true;
    d->n_deferred = 0;
}

/* A call not worth a line (accept/recv finding nothing): print what it caused, if anything. */
static void call_abandon(struct demo *d)
{
    d->in_call = false;
    for (size_t i = 0; i < d->n_deferred; i++)
        print_transition(d, d->deferred_side[i], &d->deferred[i]);
    d->n_deferred = 0;
}

/* Print "side: text = ret[ extra]", then the transitions the call caused; check expect. */
static void call_end(struct demo *d, int side, const char *text, long ret, const char *extra,
                     long expect)
{
    d->in_call = false;
    glass_time_t now = glass_simnet_now(d->net);
    if (d->json) {
        json_begin(d, "call", now);
        out_printf(&d->out, ",\"side\":\"%s\",\"call\":", side_names[side]);
        out_json_str(&d->out, text);
        out_printf(&d->out, ",\"ret\":%ld,\"err\":", ret);
        out_json_str(&d->out, ret < 0 ? glass_errname((int)ret) : NULL);
        out_putc(&d->out, '}');
    } else {
        struct out_buf line;
        out_init(&line);
        out_printf(&line, "%s: %s = ", side_names[side], text);
        fmt_ret(&line, ret);
        if (extra != NULL)
            out_printf(&line, " %s", extra);
        text_begin(d, now);
        text_sided(d, side, line.p != NULL ? line.p : "");
        out_free(&line);
    }
    for (size_t i = 0; i < d->n_deferred; i++)
        print_transition(d, d->deferred_side[i], &d->deferred[i]);
    d->n_deferred = 0;
    if (expect != DEMO_ANY && ret != expect) {
        struct out_buf why;
        out_init(&why);
        out_printf(&why, "%s: %s returned ", side_names[side], text);
        fmt_ret(&why, ret);
        out_puts(&why, ", expected ");
        fmt_ret(&why, expect);
        demo_expect(d, false, "%s", why.p != NULL ? why.p : "");
        out_free(&why);
    }
}

static struct glass_stack *stack_of(struct demo *d, int side)
{
    return d->side[side].st;
}

int demo_socket(struct demo *d, int side)
{
    call_begin(d);
    int r = glass_socket(stack_of(d, side));
    call_end(d, side, "socket()", r, NULL, DEMO_ANY);
    demo_expect(d, r >= 0, "%s: socket() failed", side_names[side]);
    return r;
}

int demo_reuseaddr(struct demo *d, int side, int fd)
{
    char text[96];
    int one = 1;
    call_begin(d);
    int r = glass_setsockopt(stack_of(d, side), fd, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one,
                             sizeof one);
    snprintf(text, sizeof text, "setsockopt(%d, SOL_SOCKET, SO_REUSEADDR, 1)", fd);
    call_end(d, side, text, r, NULL, 0);
    return r;
}

int demo_linger0(struct demo *d, int side, int fd)
{
    char text[96];
    struct glass_linger lg = {1, 0};
    call_begin(d);
    int r = glass_setsockopt(stack_of(d, side), fd, GLASS_SOL_SOCKET, GLASS_SO_LINGER, &lg,
                             sizeof lg);
    snprintf(text, sizeof text, "setsockopt(%d, SOL_SOCKET, SO_LINGER, {1, 0})", fd);
    call_end(d, side, text, r, NULL, 0);
    return r;
}

int demo_bind(struct demo *d, int side, int fd, uint16_t port, long expect)
{
    char text[96], ip[16];
    struct glass_endpoint ep = {side_addr(side), port};
    call_begin(d);
    int r = glass_bind(stack_of(d, side), fd, &ep);
    snprintf(text, sizeof text, "bind(%d, %s:%u)", fd, glass_ip4_str(ep.addr, ip), (unsigned)port);
    call_end(d, side, text, r, NULL, expect);
    return r;
}

int demo_listen(struct demo *d, int side, int fd, int backlog, long expect)
{
    char text[96];
    call_begin(d);
    int r = glass_listen(stack_of(d, side), fd, backlog);
    snprintf(text, sizeof text, "listen(%d, %d)", fd, backlog);
    call_end(d, side, text, r, NULL, expect);
    return r;
}

int demo_connect(struct demo *d, int side, int fd, uint16_t port, long expect)
{
    char text[96], ip[16];
    struct glass_endpoint ep = {side_addr(other_side(side)), port};
    call_begin(d);
    int r = glass_connect(stack_of(d, side), fd, &ep);
    snprintf(text, sizeof text, "connect(%d, %s:%u)", fd, glass_ip4_str(ep.addr, ip),
             (unsigned)port);
    call_end(d, side, text, r, NULL, expect);
    return r;
}

int demo_accept(struct demo *d, int side, int lfd, long expect)
{
    char text[96];
    call_begin(d);
    int r = glass_accept(stack_of(d, side), lfd, NULL);
    snprintf(text, sizeof text, "accept(%d)", lfd);
    call_end(d, side, text, r, NULL, expect);
    if (r >= 0) {
        d->side[side].fd = r;
        d->side[side].n_accepted++;
    }
    return r;
}

long demo_send(struct demo *d, int side, int fd, const char *data, long expect)
{
    char text[96];
    struct out_buf q;
    out_init(&q);
    out_quoted(&q, data, strlen(data), 40);
    call_begin(d);
    long r = glass_send(stack_of(d, side), fd, data, strlen(data), 0);
    snprintf(text, sizeof text, "send(%d, %s)", fd, q.p != NULL ? q.p : "");
    call_end(d, side, text, r, NULL, expect);
    out_free(&q);
    return r;
}

/* Print a recv() that returned r into buf. */
static void recv_done(struct demo *d, int side, int fd, long r, const uint8_t *buf, long expect)
{
    char text[32];
    snprintf(text, sizeof text, "recv(%d)", fd);
    struct out_buf q;
    out_init(&q);
    if (r > 0) {
        d->side[side].rx_bytes += (uint64_t)r;
        out_quoted(&q, buf, (size_t)r, 40);
    } else if (r == 0) {
        d->side[side].eof_fd = fd;
        out_puts(&q, "(end of stream)");
    }
    call_end(d, side, text, r, q.p, expect);
    out_free(&q);
}

long demo_recv(struct demo *d, int side, int fd, long expect)
{
    uint8_t buf[512];
    call_begin(d);
    long r = glass_recv(stack_of(d, side), fd, buf, sizeof buf, 0);
    recv_done(d, side, fd, r, buf, expect);
    return r;
}

int demo_shutdown(struct demo *d, int side, int fd, int how, long expect)
{
    static const char *const hows[] = {"SHUT_RD", "SHUT_WR", "SHUT_RDWR"};
    char text[96];
    call_begin(d);
    int r = glass_shutdown(stack_of(d, side), fd, how);
    snprintf(text, sizeof text, "shutdown(%d, %s)", fd, how >= 0 && how <= 2 ? hows[how] : "?");
    call_end(d, side, text, r, NULL, expect);
    return r;
}

int demo_close(struct demo *d, int side, int fd, long expect)
{
    char text[96];
    call_begin(d);
    int r = glass_close(stack_of(d, side), fd);
    snprintf(text, sizeof text, "close(%d)", fd);
    call_end(d, side, text, r, NULL, expect);
    return r;
}

void demo_at(struct demo *d, uint64_t ms)
{
    glass_simnet_run_until(d->net, GLASS_MSEC(ms));
    flush_pending(d);
}

/* ---- socket events ------------------------------------------------------------------------- */

static void print_event(struct demo *d, int side, const struct glass_event *ev)
{
    flush_pending(d);
    const char *name = glass_event_name(ev->kind);
    glass_time_t now = glass_simnet_now(d->net);
    if (d->json) {
        json_begin(d, "event", now);
        out_printf(&d->out, ",\"side\":\"%s\",\"event\":\"%s\",\"fd\":%d,\"err\":",
                   side_names[side], name != NULL ? name : "?", ev->fd);
        out_json_str(&d->out, ev->err < 0 ? glass_errname(ev->err) : NULL);
        out_putc(&d->out, '}');
        return;
    }
    struct out_buf line;
    out_init(&line);
    out_printf(&line, "%s: <%s> fd %d", side_names[side], name != NULL ? name : "?", ev->fd);
    if (ev->kind == GLASS_EV_ERROR) {
        out_puts(&line, ": ");
        fmt_ret(&line, ev->err);
    }
    text_begin(d, now);
    text_sided(d, side, line.p != NULL ? line.p : "");
    out_free(&line);
}

/* recv() until EAGAIN (not shown), end of stream or an error. */
static void read_all(struct demo *d, int side, int fd)
{
    struct demo_side *sd = &d->side[side];
    uint8_t buf[512];
    for (int i = 0; i < 64 && sd->eof_fd != fd; i++) {
        call_begin(d);
        long r = glass_recv(sd->st, fd, buf, sizeof buf, 0);
        if (r == -GLASS_EAGAIN) {
            call_abandon(d);
            return;
        }
        recv_done(d, side, fd, r, buf, DEMO_ANY);
        if (r <= 0)
            return;
    }
}

static void app_fn(void *ctx, struct glass_simnet *net, int node, const struct glass_event *ev)
{
    struct demo_side *sd = ctx;
    struct demo *d = sd->owner;
    int side = sd->index;
    (void)net;
    (void)node;
    if (ev->kind != GLASS_EV_WRITABLE)
        print_event(d, side, ev);
    switch (ev->kind) {
    case GLASS_EV_CONNECTED:
        sd->n_connected++;
        break;
    case GLASS_EV_RDHUP:
        sd->n_rdhup++;
        break;
    case GLASS_EV_HUP:
        sd->n_hup++;
        break;
    case GLASS_EV_ERROR:
        sd->n_errors++;
        sd->last_err = ev->err;
        break;
    default:
        break;
    }
    if (d->on_event != NULL && d->on_event(d, side, ev))
        return;
    switch (ev->kind) {
    case GLASS_EV_ACCEPTABLE:
        if (sd->auto_accept) {
            for (int i = 0; i < 16; i++) {
                call_begin(d);
                int r = glass_accept(sd->st, ev->fd, NULL);
                if (r < 0) {
                    call_abandon(d);
                    break;
                }
                char text[32];
                snprintf(text, sizeof text, "accept(%d)", ev->fd);
                call_end(d, side, text, r, NULL, DEMO_ANY);
                sd->fd = r;
                sd->n_accepted++;
            }
        }
        break;
    case GLASS_EV_READABLE:
        if (sd->auto_read)
            read_all(d, side, ev->fd);
        break;
    case GLASS_EV_RDHUP:
        if (sd->auto_read)
            read_all(d, side, ev->fd);
        if (sd->close_on_rdhup)
            demo_close(d, side, ev->fd, 0);
        break;
    default:
        break;
    }
}

/* ---- expectations ------------------------------------------------------------------------ */

bool demo_expect(struct demo *d, bool cond, const char *fmt, ...)
{
    if (cond)
        return true;
    if (!d->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->why, sizeof d->why, fmt, ap);
        va_end(ap);
        d->failed = true;
    }
    return false;
}

static bool trans_match(const struct demo_trans *t, int side, int from, int to, int cause)
{
    return t->side == side && (from < 0 || t->from == from) && (to < 0 || t->to == to) &&
           (cause < 0 || t->cause == cause);
}

unsigned demo_saw(const struct demo *d, int side, int from, int to, int cause)
{
    unsigned n = 0;
    for (size_t i = 0; i < d->n_trans; i++)
        n += trans_match(&d->trans[i], side, from, to, cause);
    return n;
}

glass_time_t demo_saw_at(const struct demo *d, int side, int from, int to, int cause, unsigned n)
{
    for (size_t i = 0; i < d->n_trans; i++) {
        if (trans_match(&d->trans[i], side, from, to, cause) && n-- == 0)
            return d->trans[i].at;
    }
    return GLASS_TIME_NEVER;
}

bool demo_expect_arc(struct demo *d, int side, int from, int to, int cause)
{
    if (demo_saw(d, side, from, to, cause) > 0)
        return true;
    return demo_expect(d, false, "expected %s %s -> %s%s%s%s, not seen", side_names[side],
                       state_name(from), state_name(to), cause >= 0 ? " (" : "",
                       cause >= 0 ? glass_tcp_cause_name(cause) : "", cause >= 0 ? ")" : "");
}

bool demo_expect_no_arc(struct demo *d, int side, int from, int to)
{
    if (demo_saw(d, side, from, to, -1) == 0)
        return true;
    return demo_expect(d, false, "%s went %s -> %s, which this scenario must not do",
                       side_names[side], state_name(from), state_name(to));
}

bool demo_expect_error(struct demo *d, int side, int err)
{
    int got = d->side[side].last_err;
    if (got == err)
        return true;
    struct out_buf b;
    out_init(&b);
    if (got == 0)
        out_puts(&b, "no error event");
    else
        fmt_ret(&b, got);
    bool r = demo_expect(d, false, "%s: expected an error event -%s, got %s", side_names[side],
                         glass_errname(err) != NULL ? glass_errname(err) : "?",
                         b.p != NULL ? b.p : "");
    out_free(&b);
    return r;
}

bool demo_expect_sock_state(struct demo *d, int side, int fd, int state)
{
    int got = glass_sock_state(d->side[side].st, fd);
    if (got == state)
        return true;
    struct out_buf b;
    out_init(&b);
    if (got >= 0)
        out_puts(&b, state_name(got));
    else
        fmt_ret(&b, got);
    bool r = demo_expect(d, false, "%s: socket %d is %s, expected %s", side_names[side], fd,
                         b.p != NULL ? b.p : "", state_name(state));
    out_free(&b);
    return r;
}

bool demo_expect_all_closed(struct demo *d)
{
    struct glass_conn_info info[DEMO_MAX_CONNS];
    for (int s = 0; s < DEMO_SIDES; s++) {
        size_t n = glass_stack_conns(d->side[s].st, info, DEMO_MAX_CONNS);
        if (n > DEMO_MAX_CONNS)
            n = DEMO_MAX_CONNS;
        for (size_t i = 0; i < n; i++) {
            if (info[i].state == GLASS_TCP_CLOSED || info[i].state == GLASS_TCP_LISTEN)
                continue;
            return demo_expect(d, false, "%s: connection #%" PRIu32 " still in %s at the end",
                               side_names[s], info[i].conn_id, state_name(info[i].state));
        }
    }
    return true;
}

/* ---- running a scenario -------------------------------------------------------------------- */

static void print_header(struct demo *d)
{
    const struct scenario *sc = d->sc;
    out_printf(&d->out, "== %s ==\n", sc->name);
    const char *p = sc->explain;
    while (p != NULL && *p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        out_printf(&d->out, "  %.*s\n", (int)n, p);
        p = nl != NULL ? nl + 1 : NULL;
    }
    char ip[16];
    out_putc(&d->out, '\n');
    out_printf(&d->out, "%*s  ", TIME_W, "time");
    struct out_buf l;
    out_init(&l);
    out_printf(&l, "client %s", glass_ip4_str(DEMO_CLIENT_ADDR, ip));
    out_puts(&d->out, l.p);
    out_pad(&d->out, RIGHT_COL - LEFT_COL > l.len ? RIGHT_COL - LEFT_COL - l.len : 1);
    out_printf(&d->out, "server %s\n", glass_ip4_str(DEMO_SERVER_ADDR, ip));
    out_free(&l);
}

/* Checks every scenario gets: the core's own bookkeeping agrees with what was observed. */
static void generic_checks(struct demo *d)
{
    size_t n_arcs = glass_tcp_arc_count();
    if (n_arcs > MAX_ARCS)
        n_arcs = MAX_ARCS;
    for (int s = 0; s < DEMO_SIDES; s++) {
        struct demo_side *sd = &d->side[s];
        uint64_t illegal = glass_stack_mib(sd->st, GLASS_MIB_TcpExtIllegalArcs);
        demo_expect(d, illegal == 0 && sd->obs_illegal == 0,
                    "%s: %" PRIu64 " illegal transitions (observer saw %" PRIu64 ")",
                    side_names[s], illegal, sd->obs_illegal);
        for (size_t i = 0; i < n_arcs; i++) {
            uint64_t taken = glass_stack_arc_taken(sd->st, i, -1);
            const struct glass_arc *a = glass_tcp_arc(i);
            demo_expect(d, taken == sd->obs_arc[i],
                        "%s: arc %s -> %s counted %" PRIu64 " times, observer saw %" PRIu64,
                        side_names[s], a != NULL ? state_name(a->from) : "?",
                        a != NULL ? state_name(a->to) : "?", taken, sd->obs_arc[i]);
        }
    }
}

static void add_coverage(struct demo *d, struct coverage *cov)
{
    cov->n_arcs = glass_tcp_arc_count();
    if (cov->n_arcs > MAX_ARCS)
        cov->n_arcs = MAX_ARCS;
    for (int s = 0; s < DEMO_SIDES; s++) {
        if (d->side[s].st == NULL)
            continue;
        cov->stacks++;
        for (size_t i = 0; i < cov->n_arcs; i++) {
            cov->arc_any[i] += glass_stack_arc_taken(d->side[s].st, i, -1);
            for (int c = 0; c < GLASS_CAUSE_COUNT; c++)
                cov->arc_cause[i][c] += glass_stack_arc_taken(d->side[s].st, i, c);
        }
    }
    cov->scenarios++;
}

static bool setup(struct demo *d)
{
    struct glass_simnet_config ncfg;
    glass_simnet_config_default(&ncfg);
    ncfg.seed = derive_seed(d->seed, 0);
    ncfg.delay = GLASS_MSEC(10);
    d->net = glass_simnet_new(&ncfg);
    if (d->net == NULL)
        return demo_expect(d, false, "glass_simnet_new failed");
    for (int s = 0; s < DEMO_SIDES; s++) {
        struct demo_side *sd = &d->side[s];
        sd->owner = d;
        sd->index = s;
        sd->name = side_names[s];
        sd->fd = -1;
        sd->lfd = -1;
        sd->eof_fd = -1;
        sd->auto_accept = true;
        sd->auto_read = true;
        struct glass_config cfg;
        glass_config_default(&cfg);
        cfg.seed = derive_seed(d->seed, (uint64_t)s + 1);
        if (d->sc->config != NULL)
            d->sc->config(s, &cfg);
        sd->st = glass_stack_new(&cfg);
        if (sd->st == NULL)
            return demo_expect(d, false, "%s: glass_stack_new failed", side_names[s]);
        sd->node = glass_simnet_attach(d->net, sd->st, side_addr(s));
        if (sd->node < 0) {
            struct out_buf b;
            out_init(&b);
            fmt_ret(&b, sd->node);
            demo_expect(d, false, "%s: glass_simnet_attach failed: %s", side_names[s],
                        b.p != NULL ? b.p : "");
            out_free(&b);
            return false;
        }
        glass_stack_set_observer(sd->st, observer_fn, sd);
        glass_simnet_set_app(d->net, sd->node, app_fn, sd);
    }
    glass_simnet_set_tap(d->net, tap_fn, d);
    glass_simnet_set_filter(d->net, filter_fn, d);
    return true;
}

static void teardown(struct demo *d)
{
    for (int s = 0; s < DEMO_SIDES; s++) {
        if (d->side[s].st != NULL) {
            glass_stack_set_observer(d->side[s].st, NULL, NULL);
            glass_stack_free(d->side[s].st);
            d->side[s].st = NULL;
        }
    }
    glass_simnet_free(d->net);
    d->net = NULL;
}

static const char *demo_ss_args; /* --ss[=ARGS] */

static bool run_scenario(const struct scenario *sc, uint64_t seed, bool json,
                         struct coverage *cov)
{
    struct demo *d = calloc(1, sizeof *d);
    if (d == NULL) {
        fprintf(stderr, "glass demo: out of memory\n");
        return false;
    }
    d->sc = sc;
    d->seed = seed;
    d->json = json;
    d->first_event = true;
    out_init(&d->out);
    if (!json)
        print_header(d);

    bool ready = setup(d);
    if (ready) {
        sc->run(d);
        flush_pending(d);
        demo_ng_commit(d);
        generic_checks(d);
        add_coverage(d, cov);
    }
    bool ok = !d->failed;

    if (json) {
        struct out_buf line;
        out_init(&line);
        out_puts(&line, "{\"scenario\":");
        out_json_str(&line, sc->name);
        out_printf(&line, ",\"ok\":%s", ok ? "true" : "false");
        if (!ok) {
            out_puts(&line, ",\"why\":");
            out_json_str(&line, d->why);
        }
        out_puts(&line, ",\"events\":[");
        out_puts(&line, d->out.p != NULL ? d->out.p : "");
        out_puts(&line, "]}\n");
        out_flush(&line, stdout);
        out_free(&line);
    } else {
        if (ok)
            out_puts(&d->out, "result: ok\n\n");
        else
            out_printf(&d->out, "FAILED: %s\n\n", d->why);
        out_flush(&d->out, stdout);
        if (ready && demo_ss_args != NULL) {
            glass_ss_for_stack("client", d->side[0].st, 0, demo_ss_args);
            glass_ss_for_stack("server", d->side[1].st, 0, demo_ss_args);
            printf("\n");
        }
    }
    teardown(d);
    out_free(&d->out);
    free(d);
    return ok;
}

/* ---- coverage table ------------------------------------------------------------------------ */

static bool print_coverage(const struct coverage *cov, bool json)
{
    uint64_t entered[GLASS_TCP_NSTATES];
    memset(entered, 0, sizeof entered);
    size_t covered_arcs = 0;
    for (size_t i = 0; i < cov->n_arcs; i++) {
        const struct glass_arc *a = glass_tcp_arc(i);
        if (a != NULL && a->to < GLASS_TCP_NSTATES)
            entered[a->to] += cov->arc_any[i];
        covered_arcs += cov->arc_any[i] > 0;
    }
    size_t covered_states = 0;
    for (int s = 0; s < GLASS_TCP_NSTATES; s++)
        covered_states += entered[s] > 0;
    size_t n_arcs = glass_tcp_arc_count();

    struct out_buf b;
    out_init(&b);
    if (json) {
        out_puts(&b, "{\"coverage\":{\"states\":{");
        for (int s = 0; s < GLASS_TCP_NSTATES; s++)
            out_printf(&b, "%s\"%s\":%" PRIu64, s > 0 ? "," : "", state_name(s), entered[s]);
        out_puts(&b, "},\"arcs\":[");
        for (size_t i = 0; i < cov->n_arcs; i++) {
            const struct glass_arc *a = glass_tcp_arc(i);
            if (a == NULL)
                continue;
            out_printf(&b, "%s{\"from\":\"%s\",\"to\":\"%s\",\"taken\":%" PRIu64 ",\"causes\":{",
                       i > 0 ? "," : "", state_name(a->from), state_name(a->to), cov->arc_any[i]);
            bool first = true;
            for (int c = 0; c < GLASS_CAUSE_COUNT; c++) {
                if (cov->arc_cause[i][c] == 0)
                    continue;
                out_printf(&b, "%s\"%s\":%" PRIu64, first ? "" : ",", glass_tcp_cause_name(c),
                           cov->arc_cause[i][c]);
                first = false;
            }
            out_puts(&b, "}}");
        }
        out_printf(&b, "],\"states_covered\":%zu,\"transitions_covered\":%zu}}\n", covered_states,
                   covered_arcs);
    } else {
        out_printf(&b, "== coverage: %u scenarios, %u stacks ==\n\n", cov->scenarios, cov->stacks);
        out_printf(&b, "  %-12s %8s\n", "state", "entered");
        for (int s = 0; s < GLASS_TCP_NSTATES; s++)
            out_printf(&b, "  %-12s %8" PRIu64 "%s\n", state_name(s), entered[s],
                       entered[s] == 0 ? "  NOT COVERED" : "");
        out_printf(&b, "\n  %2s  %-12s %-12s %6s  %s\n", "#", "from", "to", "taken", "causes");
        for (size_t i = 0; i < cov->n_arcs; i++) {
            const struct glass_arc *a = glass_tcp_arc(i);
            if (a == NULL)
                continue;
            out_printf(&b, "  %2zu  %-12s %-12s %6" PRIu64 "  ", i + 1, state_name(a->from),
                       state_name(a->to), cov->arc_any[i]);
            if (cov->arc_any[i] == 0)
                out_puts(&b, "NOT COVERED");
            bool first = true;
            for (int c = 0; c < GLASS_CAUSE_COUNT; c++) {
                if (cov->arc_cause[i][c] == 0)
                    continue;
                out_printf(&b, "%s%s %" PRIu64, first ? "" : ", ", glass_tcp_cause_name(c),
                           cov->arc_cause[i][c]);
                first = false;
            }
            out_putc(&b, '\n');
        }
        out_printf(&b, "\nstates covered: %zu/%d\n", covered_states, GLASS_TCP_NSTATES);
        out_printf(&b, "transitions covered: %zu/%zu\n", covered_arcs, n_arcs);
    }
    out_flush(&b, stdout);
    out_free(&b);
    return covered_states == GLASS_TCP_NSTATES && covered_arcs == n_arcs && n_arcs > 0;
}

/* ---- the command --------------------------------------------------------------------------- */

static void demo_usage(FILE *f)
{
    fprintf(f,
            "usage: glass demo [--seed N] [--json] [--pcap FILE] [--pcapng FILE] [--ss[=ARGS]]\n"
            "                  [SCENARIO...]\n"
            "       glass demo --list\n\n"
            "Runs TCP state-machine scenarios between two stacks over a simulated link\n"
            "(10 ms one-way delay, virtual time) and draws each as a ladder diagram with both\n"
            "sides' states. With no SCENARIO, runs them all and ends with a coverage table of\n"
            "the 11 states and the legal arcs. Exit status: 0 if every scenario (and, with no\n"
            "SCENARIO, the coverage) is complete, 1 if not, 2 on a usage error.\n\n"
            "options:\n"
            "  -s, --seed N   seed of the stacks and the link (default 1): same seed, same output\n"
            "  -j, --json     one JSON object per scenario (JSON Lines) instead of the ladder\n"
            "  -l, --list     list the scenarios\n"
            "  -p, --pcap F   write the client's capture of every scenario run to F (pcap)\n"
            "  --pcapng F     the same in pcapng, each packet commented with both states\n"
            "  --ss[=ARGS]    after each scenario, glass ss ARGS (default -a) of both stacks\n"
            "  -h, --help     this help\n");
}

static const struct scenario *find_scenario(const char *name)
{
    for (size_t i = 0; i < demo_scenario_count; i++) {
        if (strcmp(demo_scenarios[i].name, name) == 0)
            return &demo_scenarios[i];
    }
    return NULL;
}

static bool parse_seed(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    *out = (uint64_t)v;
    return true;
}

int glass_cmd_demo(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"list", no_argument, NULL, 'l'},       {"help", no_argument, NULL, 'h'},
        {"pcap", required_argument, NULL, 'p'}, {"pcapng", required_argument, NULL, 'P'},
        {"ss", optional_argument, NULL, 'S'},   {NULL, 0, NULL, 0},
    };
    const char *pcapng_path = NULL;
    demo_ss_args = NULL;
    uint64_t seed = 1;
    const char *pcap_path = NULL;
    bool json = false, list = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":s:jlhp:", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            pcap_path = optarg;
            break;
        case 'P':
            pcapng_path = optarg;
            break;
        case 'S':
            demo_ss_args = optarg != NULL ? optarg : "-a";
            break;
        case 's':
            if (!parse_seed(optarg, &seed)) {
                fprintf(stderr, "glass demo: bad seed '%s' (want a non-negative integer)\n",
                        optarg);
                return GLASS_EXIT_USAGE;
            }
            break;
        case 'j':
            json = true;
            break;
        case 'l':
            list = true;
            break;
        case 'h':
            demo_usage(stdout);
            return GLASS_EXIT_OK;
        case ':':
            fprintf(stderr, "glass demo: option '%s' needs an argument\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        default:
            if (optopt != 0)
                fprintf(stderr, "glass demo: unknown option '-%c'; see 'glass demo --help'\n",
                        optopt);
            else
                fprintf(stderr, "glass demo: unknown option '%s'; see 'glass demo --help'\n",
                        argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        }
    }
    if (list) {
        if (optind < argc) {
            fprintf(stderr, "glass demo: --list takes no scenario names\n");
            return GLASS_EXIT_USAGE;
        }
        for (size_t i = 0; i < demo_scenario_count; i++)
            printf("%-22s %s\n", demo_scenarios[i].name, demo_scenarios[i].summary);
        return GLASS_EXIT_OK;
    }
    for (int i = optind; i < argc; i++) {
        if (find_scenario(argv[i]) == NULL) {
            fprintf(stderr, "glass demo: unknown scenario '%s'; see 'glass demo --list'\n",
                    argv[i]);
            return GLASS_EXIT_USAGE;
        }
    }

    if (glass_pcapw_open_both("demo", pcap_path, pcapng_path, &demo_pcap, &demo_pcapng) < 0)
        return GLASS_EXIT_FAILED;
    static struct coverage cov;
    memset(&cov, 0, sizeof cov);
    unsigned failed = 0, ran = 0;
    size_t n_run = optind < argc ? (size_t)(argc - optind) : demo_scenario_count;
    for (size_t i = 0; i < n_run; i++) {
        const struct scenario *sc =
            optind < argc ? find_scenario(argv[optind + (int)i]) : &demo_scenarios[i];
        failed += !run_scenario(sc, seed, json, &cov);
        ran++;
        demo_pcap_base = demo_pcap_last + GLASS_SEC(1);
    }
    if (demo_pcap != NULL && glass_pcapw_close(demo_pcap) != 0) {
        fprintf(stderr, "glass demo: writing %s failed\n", pcap_path);
        failed++;
    }
    demo_pcap = NULL;
    if (demo_pcapng != NULL && glass_pcapw_close(demo_pcapng) != 0) {
        fprintf(stderr, "glass demo: writing %s failed\n", pcapng_path);
        failed++;
    }
    demo_pcapng = NULL;
    if (optind < argc)
        return failed == 0 ? GLASS_EXIT_OK : GLASS_EXIT_FAILED;
    if (!json) {
        printf("== %u scenarios: %u ok, %u failed ==\n\n", ran, ran - failed, failed);
        fflush(stdout);
    }
    bool complete = print_coverage(&cov, json);
    return failed == 0 && complete ? GLASS_EXIT_OK : GLASS_EXIT_FAILED;
}
