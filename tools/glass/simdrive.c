/* glass CLI — the application of a simulated bulk transfer (simdrive.h): `glass sim` and the
 * soak test run the same calls at the same virtual times through this file. */
#include "simdrive.h"

#include "util/stream.h"

#include <glass/err.h>
#include <glass/socket.h>
#include <glass/stack.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIMDRIVE_CLIENT_ADDR GLASS_IP4(192, 0, 2, 1)
#define SIMDRIVE_SERVER_ADDR GLASS_IP4(192, 0, 2, 2)

#if defined(__GNUC__)
#define SIMDRIVE_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SIMDRIVE_PRINTF(fmt, args)
#endif

static const char *const side_names[SIMDRIVE_SIDES] = {"client", "server"};

const char *simdrive_side_name(int idx)
{
    return idx == SIMDRIVE_CLIENT ? side_names[SIMDRIVE_CLIENT] : side_names[SIMDRIVE_SERVER];
}

void simdrive_opts_default(struct simdrive_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->delay_ms = 10.0;
    o->reorder_max = 3;
    o->spike_len_ms = 1500.0;
    o->cc = GLASS_CC_CUBIC;
    o->buf = 1u << 20;
}

glass_time_t simdrive_ms(double ms)
{
    return (glass_time_t)(ms * 1e6 + 0.5);
}

static uint64_t splitmix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

uint64_t simdrive_seed(uint64_t seed, uint64_t k)
{
    return splitmix64(seed ^ (k * UINT64_C(0xd1b54a32d192ed03)));
}

static void drive_fail(struct simdrive *d, const char *fmt, ...) SIMDRIVE_PRINTF(2, 3);
static void drive_fail(struct simdrive *d, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->hooks.fail != NULL)
        d->hooks.fail(d->hooks.ctx, msg);
}

static const char *errname(long rc)
{
    const char *n = rc < 0 && rc >= -4095 ? glass_errname((int)rc) : NULL;
    return n != NULL ? n : "?";
}

/* ---- sending ------------------------------------------------------------------------------- */

/* Send with glass_send(): the stream is generated into txb and copied into the socket. */
static long send_copy(struct simdrive_side *sd, uint64_t left)
{
    if (sd->txb_pos == sd->txb_len) {
        size_t n = left < SIMDRIVE_CHUNK ? (size_t)left : SIMDRIVE_CHUNK;
        sd->txb_off = sd->tx_done;
        glass_stream_fill(sd->tx_key, sd->txb_off, sd->txb, n);
        sd->txb_len = n;
        sd->txb_pos = 0;
    }
    long rc = glass_send(sd->st, sd->fd, sd->txb + sd->txb_pos, sd->txb_len - sd->txb_pos, 0);
    if (rc > 0)
        sd->txb_pos += (size_t)rc;
    return rc;
}

/* Send with glass_send_reserve/commit: the stream is generated inside the send buffer. */
static long send_zerocopy(struct simdrive_side *sd, uint64_t left)
{
    void *p;
    long rc = glass_send_reserve(sd->st, sd->fd, &p);
    if (rc <= 0)
        return rc;
    size_t n = (uint64_t)rc < left ? (size_t)rc : (size_t)left;
    glass_stream_fill(sd->tx_key, sd->tx_done, p, n);
    return glass_send_commit(sd->st, sd->fd, n);
}

static void side_send(struct simdrive_side *sd)
{
    struct simdrive *d = sd->d;
    while (sd->tx_done < sd->tx_total) {
        uint64_t left = sd->tx_total - sd->tx_done;
        long rc = d->o->copy ? send_copy(sd, left) : send_zerocopy(sd, left);
        if (rc == -GLASS_EAGAIN)
            return;
        if (rc <= 0) {
            drive_fail(d, "%s: send() = %ld (-%s) after %" PRIu64 " bytes", side_names[sd->idx], rc,
                       errname(rc), sd->tx_done);
            return;
        }
        sd->tx_done += (uint64_t)rc;
    }
}

/* ---- receiving ----------------------------------------------------------------------------- */

/* How many bytes the application is willing to read now (read_rate, pause_at/pause_ms). */
static uint64_t read_allowance(struct simdrive_side *sd)
{
    const struct simdrive_opts *o = sd->d->o;
    glass_time_t now = glass_simnet_now(sd->d->net);
    if (o->pause_ms > 0.0 && sd->rx_done >= o->pause_at) {
        if (!sd->paused) {
            sd->paused = true;
            sd->pause_end = now + simdrive_ms(o->pause_ms);
        }
        if (now < sd->pause_end)
            return 0;
        sd->resumed = true;
    }
    if (o->read_rate == 0)
        return UINT64_MAX;
    /* Bytes allowed so far: rate * elapsed, computed without overflow. */
    glass_time_t el = now - sd->d->t0;
    uint64_t allowed = (el / GLASS_NSEC_PER_SEC) * o->read_rate +
                       (el % GLASS_NSEC_PER_SEC) * o->read_rate / GLASS_NSEC_PER_SEC;
    return allowed > sd->rx_done ? allowed - sd->rx_done : 0;
}

/* The next bytes of the stream, at most want: copied into rbuf with glass_recv(), or shown in
 * place by glass_recv_peek() (then consumed with glass_recv_consume()). */
static long recv_some(struct simdrive_side *sd, size_t want, const uint8_t **p)
{
    struct simdrive *d = sd->d;
    if (d->o->copy) {
        *p = d->rbuf;
        return glass_recv(sd->st, sd->fd, d->rbuf, want, 0);
    }
    const void *at;
    long rc = glass_recv_peek(sd->st, sd->fd, &at);
    *p = at;
    return rc > 0 && (size_t)rc > want ? (long)want : rc;
}

/* End of stream: only after every byte, and then again on the next call. */
static void side_eof(struct simdrive_side *sd)
{
    sd->eof = true;
    if (sd->rx_done != sd->rx_expect)
        drive_fail(sd->d, "%s: end of stream after %" PRIu64 " of %" PRIu64 " bytes",
                   side_names[sd->idx], sd->rx_done, sd->rx_expect);
    const uint8_t *p;
    long again = recv_some(sd, 1, &p);
    if (again != 0)
        drive_fail(sd->d, "%s: recv() after end of stream = %ld, not 0", side_names[sd->idx],
                   again);
}

/* n bytes read at p: a prefix of what the peer handed to send(), intact. */
static void check_read(struct simdrive_side *sd, const uint8_t *p, size_t n)
{
    const struct simdrive_side *peer = &sd->d->side[1 - sd->idx];
    if (sd->rx_done + n > sd->rx_expect) {
        drive_fail(sd->d, "%s: received %" PRIu64 " bytes, more than the %" PRIu64 " sent",
                   side_names[sd->idx], sd->rx_done + n, sd->rx_expect);
        return;
    }
    if (sd->rx_done + n > peer->tx_done) {
        drive_fail(sd->d, "%s: received %" PRIu64 " bytes, but the peer has sent only %" PRIu64,
                   side_names[sd->idx], sd->rx_done + n, peer->tx_done);
        return;
    }
    size_t bad = glass_stream_check(sd->rx_key, sd->rx_done, p, n);
    if (bad < n)
        drive_fail(sd->d, "%s: byte %" PRIu64 " of the stream is 0x%02x, expected 0x%02x",
                   side_names[sd->idx], sd->rx_done + bad, p[bad],
                   glass_stream_byte(sd->rx_key, sd->rx_done + bad));
}

static void side_recv(struct simdrive_side *sd)
{
    struct simdrive *d = sd->d;
    while (!sd->eof) {
        uint64_t allow = read_allowance(sd);
        if (allow == 0)
            return;
        size_t want = allow < SIMDRIVE_CHUNK ? (size_t)allow : SIMDRIVE_CHUNK;
        const uint8_t *p;
        long rc = recv_some(sd, want, &p);
        if (rc == -GLASS_EAGAIN)
            return;
        if (rc < 0) {
            drive_fail(d, "%s: recv() = %ld (-%s) after %" PRIu64 " of %" PRIu64 " bytes",
                       side_names[sd->idx], rc, errname(rc), sd->rx_done, sd->rx_expect);
            sd->eof = true; /* nothing more will come */
            return;
        }
        if (rc == 0) {
            side_eof(sd);
            return;
        }
        size_t n = (size_t)rc;
        check_read(sd, p, n);
        if (!d->o->copy && (rc = glass_recv_consume(sd->st, sd->fd, n)) != (long)n)
            drive_fail(d, "%s: recv_consume() = %ld", side_names[sd->idx], rc);
        sd->rx_done += n;
        sd->rx_last_at = glass_simnet_now(d->net);
    }
}

/* ---- the application ----------------------------------------------------------------------- */

/* When a paced receiver next wants to look at its socket without an event, or NEVER. */
static glass_time_t side_wake(const struct simdrive_side *sd)
{
    const struct simdrive_opts *o = sd->d->o;
    if (sd->fd < 0 || sd->closed || sd->eof)
        return GLASS_TIME_NEVER;
    glass_time_t now = glass_simnet_now(sd->d->net);
    /* The end of the read pause wakes the application even when a packet arriving at that
     * very time made the clock reach it first: nothing else would (the data is already in the
     * buffer, and the zero window's probes bring no new data). */
    if (sd->paused && !sd->resumed)
        return sd->pause_end;
    if (o->read_rate == 0)
        return GLASS_TIME_NEVER;
    glass_time_t el = now - sd->d->t0;
    return sd->d->t0 + (el / SIMDRIVE_READ_TICK + 1) * SIMDRIVE_READ_TICK;
}

/* Send what fits, read what is there, shut down and close when it is time. */
static void side_pump(struct simdrive_side *sd)
{
    if (sd->fd < 0 || sd->closed)
        return;
    side_send(sd);
    side_recv(sd);
    bool sent = sd->tx_done == sd->tx_total;
    if (sent && sd->shut_when_sent && !sd->shut) {
        int rc = glass_shutdown(sd->st, sd->fd, GLASS_SHUT_WR);
        if (rc < 0)
            drive_fail(sd->d, "%s: shutdown() = %d (-%s)", side_names[sd->idx], rc, errname(rc));
        sd->shut = true;
    }
    if (sent && sd->eof && (sd->shut || !sd->shut_when_sent)) {
        int rc = glass_close(sd->st, sd->fd);
        if (rc < 0)
            drive_fail(sd->d, "%s: close() = %d (-%s)", side_names[sd->idx], rc, errname(rc));
        sd->closed = true;
        sd->fd = -1;
    }
}

static void side_accept(struct simdrive_side *sd)
{
    struct glass_endpoint peer;
    int fd = glass_accept(sd->st, sd->lfd, &peer);
    if (fd == -GLASS_EAGAIN)
        return;
    if (fd < 0) {
        drive_fail(sd->d, "server: accept() = %d (-%s)", fd, errname(fd));
        return;
    }
    if (sd->fd >= 0) {
        drive_fail(sd->d, "server: a second connection was accepted");
        glass_close(sd->st, fd);
        return;
    }
    sd->fd = fd;
    sd->conn_id = glass_sock_conn_id(sd->st, fd);
    /* One connection only: the listener goes, so that the stack ends empty. */
    glass_close(sd->st, sd->lfd);
    sd->lfd = -1;
}

static void app_fn(void *ctx, struct glass_simnet *net, int node, const struct glass_event *ev)
{
    struct simdrive_side *sd = ctx;
    (void)net;
    (void)node;
    if (ev->kind == GLASS_EV_ACCEPTABLE && ev->fd == sd->lfd && sd->lfd >= 0)
        side_accept(sd);
    if (ev->kind == GLASS_EV_ERROR && ev->fd == sd->fd && sd->fd >= 0)
        drive_fail(sd->d, "%s: asynchronous error %d (-%s)", side_names[sd->idx], ev->err,
                   errname(ev->err));
    side_pump(sd);
}

static void observer_fn(void *ctx, const struct glass_transition *t)
{
    struct simdrive_side *sd = ctx;
    const struct simdrive_hooks *h = &sd->d->hooks;
    if (h->transition != NULL)
        h->transition(h->ctx, sd, t);
    for (size_t i = 0; i < sd->n_conns; i++) {
        if (sd->conns[i].conn == t->conn) {
            sd->conns[i].last = t->to;
            sd->conns[i].last_cause = t->cause;
            sd->conns[i].time_wait |= t->to == GLASS_TCP_TIME_WAIT;
            return;
        }
    }
    if (sd->n_conns < SIMDRIVE_MAX_CONNS)
        sd->conns[sd->n_conns++] =
            (struct simdrive_conn){.conn = t->conn,
                                   .last = t->to,
                                   .last_cause = t->cause,
                                   .time_wait = t->to == GLASS_TCP_TIME_WAIT};
}

const struct simdrive_conn *simdrive_side_conn(const struct simdrive_side *sd)
{
    if (sd->conn_id < 0)
        return NULL;
    for (size_t i = 0; i < sd->n_conns; i++) {
        if (sd->conns[i].conn == (uint32_t)sd->conn_id)
            return &sd->conns[i];
    }
    return NULL;
}

const char *simdrive_side_state(const struct simdrive_side *sd)
{
    const struct simdrive_conn *c = simdrive_side_conn(sd);
    if (c != NULL)
        return glass_tcp_state_name(c->last);
    if (sd->fd >= 0) {
        int s = glass_sock_state(sd->st, sd->fd);
        if (s >= 0)
            return glass_tcp_state_name(s);
    }
    return "none";
}

const char *simdrive_side_how(const struct simdrive_side *sd, char *buf, size_t n)
{
    const struct simdrive_conn *c = simdrive_side_conn(sd);
    if (c != NULL)
        snprintf(buf, n, "%s after %s", glass_tcp_state_name(c->last),
                 glass_tcp_cause_name(c->last_cause));
    else
        snprintf(buf, n, "%s", simdrive_side_state(sd));
    return buf;
}

static bool side_finished(const struct simdrive_side *sd)
{
    const struct simdrive_conn *c = simdrive_side_conn(sd);
    return sd->closed && c != NULL && c->last == GLASS_TCP_CLOSED;
}

bool simdrive_finished(const struct simdrive *d)
{
    return side_finished(&d->side[SIMDRIVE_CLIENT]) && side_finished(&d->side[SIMDRIVE_SERVER]);
}

glass_time_t simdrive_wake(const struct simdrive *d)
{
    glass_time_t c = side_wake(&d->side[SIMDRIVE_CLIENT]);
    glass_time_t s = side_wake(&d->side[SIMDRIVE_SERVER]);
    return c < s ? c : s;
}

void simdrive_tick(struct simdrive *d, glass_time_t wake)
{
    glass_simnet_run_until(d->net, wake);
    side_pump(&d->side[SIMDRIVE_CLIENT]);
    side_pump(&d->side[SIMDRIVE_SERVER]);
    glass_simnet_flush(d->net);
}

/* ---- setting up ---------------------------------------------------------------------------- */

static void net_config(const struct simdrive_opts *o, struct glass_simnet_config *ncfg)
{
    glass_simnet_config_default(ncfg);
    ncfg->seed = simdrive_seed(o->seed, 0);
    ncfg->delay = simdrive_ms(o->delay_ms);
    ncfg->loss = o->loss;
    ncfg->dup = o->dup;
    ncfg->reorder = o->reorder;
    ncfg->reorder_max = o->reorder_max;
    ncfg->corrupt = o->corrupt;
    ncfg->jitter = simdrive_ms(o->jitter_ms);
    ncfg->rate_bps = (uint64_t)(o->rate_mbit * 1e6 + 0.5);
    ncfg->queue_pkts = o->queue;
    if (o->spike_every_ms > 0.0 && o->spike_len_ms > 0.0) {
        ncfg->spike_every = simdrive_ms(o->spike_every_ms);
        ncfg->spike_len = simdrive_ms(o->spike_len_ms);
    }
    if (o->mss_set && o->mss + 40u > ncfg->mtu)
        ncfg->mtu = o->mss + 40u;
    ncfg->csum_offload = !o->no_offload;
}

static void stack_config(const struct simdrive *d, int s, struct glass_config *cfg)
{
    const struct simdrive_opts *o = d->o;
    glass_config_default(cfg);
    cfg->seed = simdrive_seed(o->seed, (uint64_t)s + 1);
    cfg->sndbuf = o->buf;
    cfg->rcvbuf = o->buf;
    cfg->tx_csum_offload = !o->no_offload;
    cfg->tso_max = o->tso_max;
    if (o->mss_set)
        cfg->mss = (uint16_t)o->mss;
    if (o->cc_set)
        cfg->cc = o->cc;
    if (o->syn_retries != 0) {
        cfg->syn_retries = (uint8_t)o->syn_retries;
        cfg->synack_retries = (uint8_t)o->syn_retries;
    }
    if (o->retries != 0) {
        /* Both limits: an application that has sent and read everything closes its socket,
         * and from then on orphan_retries, not retries2, bounds the retransmissions of what
         * is still unacknowledged (RFC 1122 §4.2.3.5 R2; Linux tcp_orphan_retries). */
        cfg->retries2 = (uint8_t)o->retries;
        cfg->orphan_retries = (uint8_t)o->retries;
    }
    if (d->hooks.configure != NULL)
        d->hooks.configure(d->hooks.ctx, s, cfg);
}

static int open_side(struct simdrive *d, int s, char *err, size_t errcap)
{
    struct simdrive_side *sd = &d->side[s];
    struct glass_config cfg;
    stack_config(d, s, &cfg);
    sd->st = glass_stack_new(&cfg);
    if (sd->st == NULL) {
        snprintf(err, errcap, "the stack rejected its configuration (mss %u, buffers %" PRIu32 ")",
                 cfg.mss, cfg.sndbuf);
        return -1;
    }
    sd->node = glass_simnet_attach(
        d->net, sd->st, s == SIMDRIVE_CLIENT ? SIMDRIVE_CLIENT_ADDR : SIMDRIVE_SERVER_ADDR);
    if (sd->node < 0) {
        snprintf(err, errcap, "glass_simnet_attach: %s", glass_strerror(sd->node));
        return -1;
    }
    glass_stack_set_observer(sd->st, observer_fn, sd);
    glass_simnet_set_app(d->net, sd->node, app_fn, sd);
    sd->txb = malloc(SIMDRIVE_CHUNK);
    if (sd->txb == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    return 0;
}

int simdrive_open(struct simdrive *d, const struct simdrive_opts *o,
                  const struct simdrive_hooks *hooks, char *err, size_t errcap)
{
    memset(d, 0, sizeof *d);
    d->o = o;
    if (hooks != NULL)
        d->hooks = *hooks;
    for (int s = 0; s < SIMDRIVE_SIDES; s++) {
        struct simdrive_side *sd = &d->side[s];
        sd->d = d;
        sd->idx = s;
        sd->fd = -1;
        sd->lfd = -1;
        sd->conn_id = -1;
    }
    d->rbuf = malloc(SIMDRIVE_CHUNK);
    net_config(o, &d->ncfg);
    d->net = glass_simnet_new(&d->ncfg);
    if (d->rbuf == NULL || d->net == NULL) {
        snprintf(err, errcap, "cannot create the simulated network");
        return -1;
    }
    for (int s = 0; s < SIMDRIVE_SIDES; s++) {
        if (open_side(d, s, err, errcap) < 0)
            return -1;
    }
    struct simdrive_side *cs = &d->side[SIMDRIVE_CLIENT], *ss = &d->side[SIMDRIVE_SERVER];
    uint64_t key_c = simdrive_seed(o->seed, 3), key_s = simdrive_seed(o->seed, 4);
    cs->tx_key = key_c;
    cs->rx_key = key_s;
    ss->tx_key = key_s;
    ss->rx_key = key_c;
    cs->tx_total = o->bytes;
    ss->rx_expect = o->bytes;
    cs->shut_when_sent = true;
    if (o->duplex) {
        ss->tx_total = o->bytes;
        cs->rx_expect = o->bytes;
        ss->shut_when_sent = true;
    }
    return 0;
}

int simdrive_start(struct simdrive *d, char *err, size_t errcap)
{
    struct simdrive_side *cs = &d->side[SIMDRIVE_CLIENT], *ss = &d->side[SIMDRIVE_SERVER];
    ss->lfd = glass_socket(ss->st);
    int one = 1;
    if (ss->lfd < 0 ||
        glass_setsockopt(ss->st, ss->lfd, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one) <
            0 ||
        glass_bind(ss->st, ss->lfd, &(struct glass_endpoint){0, SIMDRIVE_PORT}) < 0 ||
        glass_listen(ss->st, ss->lfd, 1) < 0) {
        snprintf(err, errcap, "the server cannot listen");
        return -1;
    }
    cs->fd = glass_socket(cs->st);
    if (cs->fd < 0) {
        snprintf(err, errcap, "socket() = %d", cs->fd);
        return -1;
    }
    cs->conn_id = glass_sock_conn_id(cs->st, cs->fd);
    d->t0 = glass_simnet_now(d->net);
    int rc = glass_connect(cs->st, cs->fd,
                           &(struct glass_endpoint){SIMDRIVE_SERVER_ADDR, SIMDRIVE_PORT});
    if (rc != -GLASS_EINPROGRESS && rc != 0) {
        snprintf(err, errcap, "connect() = %d (-%s)", rc, errname(rc));
        return -1;
    }
    return 0;
}

void simdrive_close(struct simdrive *d)
{
    for (int s = 0; s < SIMDRIVE_SIDES; s++) {
        struct simdrive_side *sd = &d->side[s];
        if (sd->st != NULL) {
            glass_stack_set_observer(sd->st, NULL, NULL);
            glass_stack_free(sd->st);
            sd->st = NULL;
        }
        free(sd->txb);
        sd->txb = NULL;
    }
    glass_simnet_free(d->net);
    d->net = NULL;
    free(d->rbuf);
    d->rbuf = NULL;
}
