/* glass CLI — a group of shards behind one control socket (shards.h, docs/sharding.md). */
#define _GNU_SOURCE
#include "shards.h"

#include "ctl_client.h"

#include <glass/err.h>
#include <glass/info.h>
#include <glass/stats.h>
#include <glass/wire.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#define FWD_MAX 4096u /* datagrams waiting for one shard; more are dropped (TCP resends them) */

/* A datagram on its way to the shard that owns its flow (--steer software). */
struct fwd_pkt {
    struct fwd_pkt *next;
    size_t len;
    unsigned flags;
    uint8_t data[];
};

struct shard {
    struct shard_group *g;
    unsigned idx;
    struct glass_loop *loop;
    struct glass_stack *st;
    int efd;
    atomic_uint req;   /* SHARD_REQ_* bits not yet handled */
    bool stopping;     /* written and read by the shard's own thread only */
    shard_reload_fn reload;
    void *ctx;
    /* --steer software: datagrams other shards read for our flows (many producers, one
     * consumer; rare after a flow's first packets, so a lock is cheap enough) */
    pthread_mutex_t qmu;
    struct fwd_pkt *qhead, *qtail;
    unsigned qlen;
    /* counters, each written by this shard's thread only */
    uint64_t fwd_out, fwd_in, fwd_drops;
};

struct shard_group {
    unsigned n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool park;         /* under mu: the control thread wants the others parked */
    unsigned parked;   /* under mu: shards waiting in park() */
    unsigned done;     /* under mu: shards whose thread is finished with its stack */
    bool soft;         /* --steer software: glass_flow_hash() decides, not the queue */
    uint64_t key;      /* its key, random per process */
    struct shard sh[SHARDS_MAX];
};

struct shard_group *shards_new(unsigned n, bool soft)
{
    if (n < 2 || n > SHARDS_MAX)
        return NULL;
    struct shard_group *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->n = n;
    g->soft = soft;
    if (getrandom(&g->key, sizeof g->key, 0) != (ssize_t)sizeof g->key)
        g->key = (uint64_t)getpid() * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)(uintptr_t)g;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    for (unsigned i = 0; i < n; i++) {
        g->sh[i].g = g;
        g->sh[i].idx = i;
        pthread_mutex_init(&g->sh[i].qmu, NULL);
        g->sh[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (g->sh[i].efd < 0) {
            g->n = i;
            shards_free(g);
            return NULL;
        }
    }
    return g;
}

void shards_free(struct shard_group *g)
{
    if (g == NULL)
        return;
    for (unsigned i = 0; i < g->n; i++) {
        close(g->sh[i].efd);
        for (struct fwd_pkt *p = g->sh[i].qhead, *nx; p != NULL; p = nx) {
            nx = p->next;
            free(p);
        }
        pthread_mutex_destroy(&g->sh[i].qmu);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

/* ---- requests between threads ----------------------------------------------------------- */

void shards_notify(struct shard_group *g, unsigned i, unsigned req)
{
    atomic_fetch_or(&g->sh[i].req, req);
    uint64_t one = 1;
    if (write(g->sh[i].efd, &one, sizeof one) < 0) {
        /* EAGAIN: the counter is full, so the shard is being woken anyway */
    }
}

void shards_notify_all(struct shard_group *g, unsigned except, unsigned req)
{
    for (unsigned i = 0; i < g->n; i++)
        if (i != except)
            shards_notify(g, i, req);
}

/* Wait while the control thread reads the stacks; the lock hands our stack's memory over and
 * back. */
static void park(struct shard_group *g)
{
    pthread_mutex_lock(&g->mu);
    g->parked++;
    pthread_cond_broadcast(&g->cv);
    while (g->park)
        pthread_cond_wait(&g->cv, &g->mu);
    g->parked--;
    pthread_mutex_unlock(&g->mu);
}

/* ---- software steering ------------------------------------------------------------------ */

bool shards_steer(struct shard_group *g, unsigned i, const uint8_t *pkt, size_t len,
                  unsigned flags)
{
    uint32_t h;
    if (!g->soft || glass_flow_hash(pkt, len, g->key, &h) < 0)
        return false; /* not steered: fragments and non-TCP stay where the kernel put them */
    unsigned owner = glass_flow_pick(h, g->n);
    if (owner == i)
        return false;
    struct shard *o = &g->sh[owner];
    struct fwd_pkt *p = malloc(sizeof *p + len);
    pthread_mutex_lock(&o->qmu);
    bool room = p != NULL && o->qlen < FWD_MAX;
    if (room) {
        p->next = NULL;
        p->len = len;
        p->flags = flags;
        memcpy(p->data, pkt, len);
        if (o->qtail != NULL)
            o->qtail->next = p;
        else
            o->qhead = p;
        o->qtail = p;
        o->qlen++;
    }
    pthread_mutex_unlock(&o->qmu);
    if (!room) {
        free(p);
        g->sh[i].fwd_drops++;
        return true; /* lost, as on a full NIC queue: the sender retransmits */
    }
    g->sh[i].fwd_out++;
    shards_notify(g, owner, SHARD_REQ_INPUT);
    return true;
}

/* The datagrams other shards read for our flows, into our stack (the loop writes the answers
 * on our queue after this callback, and the kernel's flow table learns the queue from them). */
static void take_forwarded(struct shard *s, struct glass_loop *loop)
{
    pthread_mutex_lock(&s->qmu);
    struct fwd_pkt *p = s->qhead;
    s->qhead = s->qtail = NULL;
    s->qlen = 0;
    pthread_mutex_unlock(&s->qmu);
    glass_time_t now = glass_loop_now(loop);
    while (p != NULL) {
        struct fwd_pkt *nx = p->next;
        glass_stack_input_flags(s->st, now, p->data, p->len, p->flags);
        s->fwd_in++;
        free(p);
        p = nx;
    }
}

static void on_wake(void *ctx, struct glass_loop *loop, int fd, unsigned events)
{
    (void)events;
    struct shard *s = ctx;
    uint64_t v;
    if (read(fd, &v, sizeof v) < 0) {
        /* EAGAIN: another wakeup took it; the request bits are what count */
    }
    unsigned req = atomic_exchange(&s->req, 0u);
    if ((req & SHARD_REQ_STOP) && !s->stopping)
        glass_loop_stop(loop, 0);
    if ((req & SHARD_REQ_RELOAD) && s->reload != NULL)
        s->reload(s->ctx, loop);
    if (req & SHARD_REQ_INPUT)
        take_forwarded(s, loop);
    if (req & SHARD_REQ_PARK)
        park(s->g);
}

int shards_attach(struct shard_group *g, unsigned i, struct glass_loop *loop,
                  struct glass_stack *st, shard_reload_fn reload, void *ctx)
{
    struct shard *s = &g->sh[i];
    s->loop = loop;
    s->st = st;
    s->reload = reload;
    s->ctx = ctx;
    return glass_loop_add_fd(loop, s->efd, GLASS_LOOP_IN, on_wake, s);
}

void shards_stopping(struct shard_group *g, unsigned i)
{
    g->sh[i].stopping = true;
}

void shards_done(struct shard_group *g, unsigned i)
{
    if (i == 0)
        return; /* shard 0 is the one that parks the others, never parked itself */
    pthread_mutex_lock(&g->mu);
    g->done++;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Shard 0 (the control socket's thread) stops the others: each is parked or done when this
 * returns, with the lock held. */
static void park_others(struct shard_group *g)
{
    pthread_mutex_lock(&g->mu);
    g->park = true;
    shards_notify_all(g, 0, SHARD_REQ_PARK);
    while (g->parked + g->done < g->n - 1)
        pthread_cond_wait(&g->cv, &g->mu);
}

static void unpark_others(struct shard_group *g)
{
    g->park = false;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* ---- the control socket's front --------------------------------------------------------- */

/* Shard i's answer to one command line; NULL when out of memory. */
static char *ask(struct shard_group *g, unsigned i, const char *line)
{
    char *buf = NULL;
    size_t len = 0;
    return glass_loop_answer(g->sh[i].loop, line, &buf, &len) == 0 ? buf : NULL;
}

/* The next line of a reply (NUL-terminated in place); NULL at the end. */
static char *next_line(char **p)
{
    char *l = *p;
    if (l == NULL || *l == '\0')
        return NULL;
    char *nl = strchr(l, '\n');
    if (nl != NULL) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = l + strlen(l);
    }
    return l;
}

/* Where the number after "key": starts in a one-line JSON object, or NULL. */
static const char *num_at(const char *line, const char *key)
{
    const char *p = glass_ctl_json_at(line, key);
    return p != NULL && *p >= '0' && *p <= '9' ? p : NULL;
}

static uint64_t num_of(const char *line, const char *key)
{
    const char *p = num_at(line, key);
    return p != NULL ? strtoull(p, NULL, 10) : 0;
}

static const char *const id_keys[] = {"id", "conn", "closed", "aborted"};

/* line with the number after the first of id_keys found (a connection id of shard `shard`)
 * made group-wide, local * n + shard, and "shard":N put first. */
static void emit_line(struct glass_loop_reply *r, const char *line, unsigned shard, unsigned n)
{
    if (line[0] != '{') {
        glass_loop_reply(r, "%s", line);
        return;
    }
    const char *body = line + 1, *at = NULL;
    for (size_t k = 0; k < sizeof id_keys / sizeof id_keys[0] && at == NULL; k++)
        at = num_at(line, id_keys[k]);
    if (at == NULL) {
        glass_loop_reply(r, "{\"shard\":%u,%s", shard, body);
        return;
    }
    char *end;
    uint64_t local = strtoull(at, &end, 10);
    glass_loop_reply(r, "{\"shard\":%u,%.*s%" PRIu64 "%s", shard, (int)(at - body), body,
                     local * n + shard, end);
}

/* Every shard's lines, ids made group-wide. */
static void concat(struct shard_group *g, const char *line, struct glass_loop_reply *r)
{
    for (unsigned i = 0; i < g->n; i++) {
        char *buf = ask(g, i, line), *p = buf, *l;
        while ((l = next_line(&p)) != NULL)
            emit_line(r, l, i, g->n);
        free(buf);
    }
}

/* {"name":...,"value":N} lines (mib, drops): the same names in the same order from every
 * shard (they run the same code); the values summed. */
static void sum(struct shard_group *g, const char *line, struct glass_loop_reply *r)
{
    char *buf[SHARDS_MAX] = {NULL}, *p[SHARDS_MAX] = {NULL};
    for (unsigned i = 0; i < g->n; i++)
        p[i] = buf[i] = ask(g, i, line);
    char *l0;
    while ((l0 = next_line(&p[0])) != NULL) {
        const char *at = num_at(l0, "value");
        uint64_t total = num_of(l0, "value");
        for (unsigned i = 1; i < g->n; i++) {
            char *li = next_line(&p[i]);
            if (li != NULL && at != NULL && strncmp(li, l0, (size_t)(at - l0)) == 0)
                total += num_of(li, "value");
        }
        if (at == NULL)
            glass_loop_reply(r, "%s", l0);
        else
            glass_loop_reply(r, "%.*s%" PRIu64 "}", (int)(at - l0), l0, total);
    }
    for (unsigned i = 0; i < g->n; i++)
        free(buf[i]);
}

/* The link's counters in "info", summed over the queues. */
static const char *const info_sums[] = {"rx_packets", "tx_packets", "rx_bytes",
                                        "tx_bytes",   "rx_truncated", "tx_dropped",
                                        "rx_gso",     "rx_csum_trusted", "tx_gso"};

static void info(struct shard_group *g, struct glass_loop_reply *r)
{
    char *buf[SHARDS_MAX] = {NULL};
    for (unsigned i = 0; i < g->n; i++)
        buf[i] = ask(g, i, "info");
    char *line = buf[0] != NULL ? strdup(buf[0]) : NULL;
    for (size_t k = 0; line != NULL && k < sizeof info_sums / sizeof info_sums[0]; k++) {
        const char *at = num_at(line, info_sums[k]);
        if (at == NULL)
            continue;
        uint64_t total = 0;
        for (unsigned i = 0; i < g->n; i++)
            total += buf[i] != NULL ? num_of(buf[i], info_sums[k]) : 0;
        char *end;
        strtoull(at, &end, 10);
        char *nl;
        if (asprintf(&nl, "%.*s%" PRIu64 "%s", (int)(at - line), line, total, end) < 0) {
            free(line);
            line = NULL;
            break;
        }
        free(line);
        line = nl;
    }
    if (line != NULL) {
        line[strcspn(line, "\n")] = '\0';
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '}')
            line[--len] = '\0';
        glass_loop_reply(r, "%s,\"shards\":%u}", line, g->n);
    } else {
        glass_loop_reply(r, "{\"error\":\"out of memory\"}");
    }
    free(line);
    for (unsigned i = 0; i < g->n; i++)
        free(buf[i]);
}

/* One line per shard: its queue's counters and what its stack did. */
static void per_shard(struct shard_group *g, struct glass_loop_reply *r)
{
    for (unsigned i = 0; i < g->n; i++) {
        char *buf = ask(g, i, "info");
        struct glass_stack *st = g->sh[i].st;
        glass_loop_reply(r,
                         "{\"shard\":%u,\"rx_packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64
                         ",\"passive_opens\":%" PRIu64 ",\"active_opens\":%" PRIu64
                         ",\"estab_resets\":%" PRIu64 ",\"out_rsts\":%" PRIu64
                         ",\"conns\":%zu,\"forwarded_out\":%" PRIu64
                         ",\"forwarded_in\":%" PRIu64 ",\"forward_drops\":%" PRIu64 "}",
                         i, buf != NULL ? num_of(buf, "rx_packets") : 0,
                         buf != NULL ? num_of(buf, "tx_packets") : 0,
                         glass_stack_mib(st, GLASS_MIB_TcpPassiveOpens),
                         glass_stack_mib(st, GLASS_MIB_TcpActiveOpens),
                         glass_stack_mib(st, GLASS_MIB_TcpEstabResets),
                         glass_stack_mib(st, GLASS_MIB_TcpOutRsts),
                         glass_stack_conns(st, NULL, 0), g->sh[i].fwd_out, g->sh[i].fwd_in,
                         g->sh[i].fwd_drops);
        free(buf);
    }
}

/* A shard's error about its connection `local`, told with the group-wide id the client gave
 * ("no connection 3" from shard 1 of 2 is "no connection 7" to the client). */
static void error_line(struct glass_loop_reply *r, const char *line, unsigned long long local,
                       unsigned long long id)
{
    char num[24];
    int nl = snprintf(num, sizeof num, " %llu", local);
    for (const char *at = strstr(line, num); at != NULL; at = strstr(at + 1, num)) {
        char after = at[nl];
        if (after < '0' || after > '9') {
            glass_loop_reply(r, "%.*s %llu%s", (int)(at - line), line, id, at + nl);
            return;
        }
    }
    glass_loop_reply(r, "%s", line);
}

/* "history ID", "close ID", "abort ID": to the shard that owns the group-wide ID. */
static int routed(struct shard_group *g, const char *cmd, const char *args,
                  struct glass_loop_reply *r)
{
    char *end = NULL;
    errno = 0;
    unsigned long long id = strtoull(args, &end, 10);
    if (args[0] < '0' || args[0] > '9' || errno != 0 || *end != '\0' || id > UINT32_MAX)
        return -1; /* shard 0 answers with the usage */
    unsigned i = (unsigned)(id % g->n);
    char line[64];
    snprintf(line, sizeof line, "%s %llu", cmd, id / g->n);
    char *buf = ask(g, i, line), *p = buf, *l;
    while ((l = next_line(&p)) != NULL) {
        if (strstr(l, "\"error\"") != NULL)
            error_line(r, l, id / g->n, id);
        else
            emit_line(r, l, i, g->n);
    }
    free(buf);
    return 0;
}

/* "reload": every shard's application; the first error, else shard 0's answer. */
static void reload_all(struct shard_group *g, struct glass_loop_reply *r)
{
    char *first = NULL, *err = NULL;
    for (unsigned i = 0; i < g->n; i++) {
        char *buf = ask(g, i, "reload");
        if (err == NULL && buf != NULL && strstr(buf, "\"error\"") != NULL)
            err = buf;
        else if (i == 0)
            first = buf;
        else
            free(buf);
    }
    const char *out = err != NULL ? err : first;
    if (out != NULL)
        glass_loop_reply(r, "%.*s", (int)strcspn(out, "\n"), out);
    free(first);
    free(err);
}

int shards_ctl(struct shard_group *g, const char *cmd, const char *args,
               struct glass_loop_reply *r)
{
    enum { NONE, CONCAT, SUM, INFO, SHARDS, ROUTED, RELOAD } how = NONE;
    if (strcmp(cmd, "conns") == 0 || strcmp(cmd, "transitions") == 0 || strcmp(cmd, "app") == 0)
        how = CONCAT;
    else if (strcmp(cmd, "mib") == 0 || strcmp(cmd, "drops") == 0)
        how = SUM;
    else if (strcmp(cmd, "info") == 0)
        how = INFO;
    else if (strcmp(cmd, "shards") == 0)
        how = SHARDS;
    else if (strcmp(cmd, "history") == 0 || strcmp(cmd, "close") == 0 ||
             strcmp(cmd, "abort") == 0)
        how = ROUTED;
    else if (strcmp(cmd, "reload") == 0)
        how = RELOAD;
    if (how == NONE)
        return -1;
    int rc = 0;
    park_others(g);
    switch (how) {
    case CONCAT:
        concat(g, cmd, r);
        break;
    case SUM:
        sum(g, cmd, r);
        break;
    case INFO:
        info(g, r);
        break;
    case SHARDS:
        per_shard(g, r);
        break;
    case ROUTED:
        rc = routed(g, cmd, args, r);
        break;
    case RELOAD:
        reload_all(g, r);
        break;
    case NONE:
        break;
    }
    unpark_others(g);
    return rc;
}
