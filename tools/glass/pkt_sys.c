/* glass pkt — the system calls of a script, mapped onto glass_* (include/glass/socket.h).
 *
 * Symbols have Linux's values, so a script reads the same here and under packetdrill. glass
 * sockets never block; a script's socket is blocking unless fcntl(O_NONBLOCK) was called, and a
 * call that would block reports SYS_BLOCK: the runner then advances virtual time (timers, and
 * for `...end` calls the later events of the script) and tries again. */
#include "pkt_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glass/err.h>
#include <glass/wire.h>

/* ---- symbols ------------------------------------------------------------------------------ */

struct sym {
    const char *name;
    int64_t val;
};

static const struct sym symbols[] = {
    {"AF_INET", 2},          {"AF_INET6", 10},        {"AF_UNSPEC", 0},
    {"PF_INET", 2},          {"SOCK_STREAM", 1},      {"SOCK_DGRAM", 2},
    {"SOCK_NONBLOCK", 0x800}, {"IPPROTO_IP", 0},      {"IPPROTO_TCP", 6},
    {"IPPROTO_UDP", 17},     {"SOL_SOCKET", 1},       {"SOL_TCP", 6},
    {"SOL_IP", 0},           {"SO_DEBUG", 1},         {"SO_REUSEADDR", 2},
    {"SO_TYPE", 3},          {"SO_ERROR", 4},         {"SO_DONTROUTE", 5},
    {"SO_BROADCAST", 6},     {"SO_SNDBUF", 7},        {"SO_RCVBUF", 8},
    {"SO_KEEPALIVE", 9},     {"SO_OOBINLINE", 10},    {"SO_LINGER", 13},
    {"SO_REUSEPORT", 15},    {"SO_RCVLOWAT", 18},     {"SO_SNDLOWAT", 19},
    {"SO_RCVTIMEO", 20},     {"SO_SNDTIMEO", 21},     {"SO_ACCEPTCONN", 30},
    {"SO_ZEROCOPY", 60},     {"TCP_NODELAY", 1},      {"TCP_MAXSEG", 2},
    {"TCP_CORK", 3},         {"TCP_KEEPIDLE", 4},     {"TCP_KEEPINTVL", 5},
    {"TCP_KEEPCNT", 6},      {"TCP_SYNCNT", 7},       {"TCP_LINGER2", 8},
    {"TCP_DEFER_ACCEPT", 9}, {"TCP_WINDOW_CLAMP", 10}, {"TCP_INFO", 11},
    {"TCP_QUICKACK", 12},    {"TCP_CONGESTION", 13},  {"TCP_USER_TIMEOUT", 18},
    {"TCP_FASTOPEN", 23},    {"TCP_NOTSENT_LOWAT", 25}, {"SHUT_RD", 0},
    {"SHUT_WR", 1},          {"SHUT_RDWR", 2},        {"F_GETFD", 1},
    {"F_SETFD", 2},          {"F_GETFL", 3},          {"F_SETFL", 4},
    {"O_RDONLY", 0},         {"O_WRONLY", 1},         {"O_RDWR", 2},
    {"O_NONBLOCK", 0x800},   {"FD_CLOEXEC", 1},       {"MSG_OOB", 1},
    {"MSG_PEEK", 2},         {"MSG_DONTROUTE", 4},    {"MSG_TRUNC", 0x20},
    {"MSG_DONTWAIT", 0x40},  {"MSG_EOR", 0x80},       {"MSG_WAITALL", 0x100},
    {"MSG_NOSIGNAL", 0x4000}, {"MSG_MORE", 0x8000},   {"POLLIN", 0x1},
    {"POLLPRI", 0x2},        {"POLLOUT", 0x4},        {"POLLERR", 0x8},
    {"POLLHUP", 0x10},       {"POLLNVAL", 0x20},      {"POLLRDNORM", 0x40},
    {"POLLRDBAND", 0x80},    {"POLLWRNORM", 0x100},   {"POLLWRBAND", 0x200},
    {"POLLMSG", 0x400},      {"POLLRDHUP", 0x2000},   {"TCP_ESTABLISHED", 1},
    {"TCP_SYN_SENT", 2},     {"TCP_SYN_RECV", 3},     {"TCP_FIN_WAIT1", 4},
    {"TCP_FIN_WAIT2", 5},    {"TCP_TIME_WAIT", 6},    {"TCP_CLOSE", 7},
    {"TCP_CLOSE_WAIT", 8},   {"TCP_LAST_ACK", 9},     {"TCP_LISTEN", 10},
    {"TCP_CLOSING", 11},     {"TCP_NEW_SYN_RECV", 12}, {"TCP_CA_Open", 0},
    {"TCP_CA_Disorder", 1},  {"TCP_CA_CWR", 2},       {"TCP_CA_Recovery", 3},
    {"TCP_CA_Loss", 4},      {"ENOENT", 2},           {"EINTR", 4},
    {"EIO", 5},              {"EWOULDBLOCK", 11},     {"EACCES", 13},
    {"EBUSY", 16},           {"EEXIST", 17},          {"ENOTTY", 25},
    {"ENOSPC", 28},          {"ESPIPE", 29},          {"ENOSYS", 38},
    {"EPROTOTYPE", 91},      {"EPROTONOSUPPORT", 93}, {"ESOCKTNOSUPPORT", 94},
    {"EPFNOSUPPORT", 96},    {"ENETDOWN", 100},       {"ENETRESET", 102},
    {"ESHUTDOWN", 108},      {"EHOSTDOWN", 112},      {"NULL", 0},
};

bool pkt_symbol(const char *name, int64_t *val)
{
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        if (strcmp(symbols[i].name, name) == 0) {
            *val = symbols[i].val;
            return true;
        }
    }
    int e = glass_errparse(name);
    if (e > 0 && name[0] == 'E') {
        *val = e;
        return true;
    }
    return false;
}

/* ---- system calls ------------------------------------------------------------------------- */

enum sys_name {
    SYS_SOCKET, SYS_BIND, SYS_LISTEN, SYS_ACCEPT, SYS_CONNECT, SYS_WRITE, SYS_SEND, SYS_READ,
    SYS_RECV, SYS_SHUTDOWN, SYS_CLOSE, SYS_SETSOCKOPT, SYS_GETSOCKOPT, SYS_FCNTL, SYS_POLL,
    SYS_GETSOCKNAME, SYS_GETPEERNAME, SYS_COUNT
};

static const char *const sys_names[SYS_COUNT] = {
    "socket", "bind", "listen", "accept", "connect", "write", "send", "read", "recv",
    "shutdown", "close", "setsockopt", "getsockopt", "fcntl", "poll", "getsockname",
    "getpeername",
};

static int sys_lookup(const char *name)
{
    for (int i = 0; i < SYS_COUNT; i++)
        if (strcmp(sys_names[i], name) == 0)
            return i;
    return -1;
}

bool pkt_syscall_known(const char *name)
{
    return sys_lookup(name) >= 0;
}

static bool is_ellipsis(const struct pkt_expr *x)
{
    return x->kind == EX_ELLIPSIS;
}

bool pkt_eval_int(struct pkt_runner *R, const struct pkt_expr *x, int64_t *out)
{
    switch (x->kind) {
    case EX_INT:
        *out = x->i;
        return true;
    case EX_WORD:
        if (pkt_symbol(x->s, out))
            return true;
        pkt_fail(R, x->line, "unknown symbol '%s'", x->s);
        return false;
    case EX_OR: {
        int64_t a, b;
        if (!pkt_eval_int(R, x->items[0], &a) || !pkt_eval_int(R, x->items[1], &b))
            return false;
        *out = a | b;
        return true;
    }
    case EX_LIST:
        if (x->n == 1)
            return pkt_eval_int(R, x->items[0], out);
        break;
    default:
        break;
    }
    pkt_fail(R, x->line, "expected an integer expression");
    return false;
}

static bool arg_count(struct pkt_runner *R, struct pkt_call *c, size_t n)
{
    if (c->ev->sc.nargs != n) {
        pkt_fail(R, c->ev->line, "%s() takes %zu arguments, the script gives %zu",
                 c->ev->sc.name, n, c->ev->sc.nargs);
        return false;
    }
    return true;
}

static bool int_arg(struct pkt_runner *R, struct pkt_call *c, size_t i, int64_t *v)
{
    return pkt_eval_int(R, c->ev->sc.args[i], v);
}

/* The descriptor argument: the script's number mapped to the live one. */
static bool fd_arg(struct pkt_runner *R, struct pkt_call *c, size_t i)
{
    int64_t v;
    if (!int_arg(R, c, i, &v))
        return false;
    c->script_fd = (int)v;
    c->sk = pkt_sock_by_fd(R, (int)v);
    if (c->sk == NULL) {
        /* packetdrill: an fd the script never created is a script error; pass a number
         * no socket has so the call fails with EBADF, as on a live system. */
        c->live_fd = (int)v < 0 ? (int)v : 1000000 + (int)v;
        c->nonblock = false;
    } else {
        c->live_fd = c->sk->live_fd;
        c->nonblock = c->sk->nonblock;
    }
    return true;
}

/* An address argument: `...` (packetdrill's defaults) or {sa_family=AF_INET, sin_port=htons(P),
 * sin_addr=inet_addr("a.b.c.d")}. */
static enum pkt_sys_status addr_arg(struct pkt_runner *R, struct pkt_call *c, size_t i,
                                    struct glass_endpoint *ep)
{
    const struct pkt_expr *x = c->ev->sc.args[i];
    if (is_ellipsis(x))
        return SYS_DONE;
    if (x->kind != EX_STRUCT) {
        pkt_skip(R, x->line, "%s(): only `...` or {sa_family=AF_INET, sin_port=..., "
                             "sin_addr=...} addresses are supported", c->ev->sc.name);
        return SYS_SKIP;
    }
    for (size_t k = 0; k < x->n; k++) {
        const struct pkt_expr *f = x->items[k];
        if (f->kind != EX_ASSIGN)
            goto bad;
        const struct pkt_expr *v = f->items[0];
        if (strcmp(f->s, "sa_family") == 0) {
            int64_t fam;
            if (!pkt_eval_int(R, v, &fam))
                return SYS_FAIL;
            if (fam != 2) {
                pkt_skip(R, f->line, "address family other than AF_INET");
                return SYS_SKIP;
            }
        } else if (strcmp(f->s, "sin_port") == 0) {
            int64_t port;
            if (v->kind == EX_CALL && strcmp(v->s, "htons") == 0 && v->n == 1) {
                if (!pkt_eval_int(R, v->items[0], &port))
                    return SYS_FAIL;
            } else if (!pkt_eval_int(R, v, &port)) {
                return SYS_FAIL;
            }
            ep->port = (uint16_t)port;
        } else if (strcmp(f->s, "sin_addr") == 0) {
            uint32_t a;
            if (v->kind == EX_CALL && strcmp(v->s, "inet_addr") == 0 && v->n == 1 &&
                v->items[0]->kind == EX_STR && glass_ip4_parse(v->items[0]->s, &a) == 0) {
                ep->addr = a;
            } else {
                goto bad;
            }
        } else {
            goto bad;
        }
    }
    return SYS_DONE;
bad:
    pkt_fail(R, x->line, "malformed socket address");
    return SYS_FAIL;
}

static void set_result(struct pkt_call *c, long r)
{
    if (r < 0) {
        c->ret = -1;
        c->err = (int)-r;
    } else {
        c->ret = r;
        c->err = 0;
    }
}

/* ---- TCP_INFO in Linux's layout (struct tcp_info, include/uapi/linux/tcp.h) ---------------- */

#define LINUX_TCPI_LEN 232

struct tcpi_field {
    const char *name;
    unsigned off, size;
};

static const struct tcpi_field tcpi_fields[] = {
    {"tcpi_state", 0, 1},          {"tcpi_ca_state", 1, 1},      {"tcpi_retransmits", 2, 1},
    {"tcpi_probes", 3, 1},         {"tcpi_backoff", 4, 1},       {"tcpi_options", 5, 1},
    {"tcpi_rto", 8, 4},            {"tcpi_ato", 12, 4},          {"tcpi_snd_mss", 16, 4},
    {"tcpi_rcv_mss", 20, 4},       {"tcpi_unacked", 24, 4},      {"tcpi_sacked", 28, 4},
    {"tcpi_lost", 32, 4},          {"tcpi_retrans", 36, 4},      {"tcpi_pmtu", 60, 4},
    {"tcpi_rtt", 68, 4},           {"tcpi_rttvar", 72, 4},       {"tcpi_snd_ssthresh", 76, 4},
    {"tcpi_snd_cwnd", 80, 4},      {"tcpi_advmss", 84, 4},       {"tcpi_reordering", 88, 4},
    {"tcpi_total_retrans", 100, 4},
};

static void put_u32_host(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);
}

static void linux_tcp_info(const struct glass_tcp_info *gi, uint8_t out[LINUX_TCPI_LEN])
{
    memset(out, 0, LINUX_TCPI_LEN);
    uint32_t mss = gi->snd_mss ? gi->snd_mss : 536u;
    out[0] = gi->tcpi_state;
    out[2] = gi->retransmits;
    out[4] = gi->backoff;
    put_u32_host(out + 8, gi->rto_us);
    put_u32_host(out + 16, gi->snd_mss);
    put_u32_host(out + 20, gi->rcv_mss);
    put_u32_host(out + 24, (gi->unacked + mss - 1u) / mss); /* Linux counts packets */
    put_u32_host(out + 60, 1500);
    put_u32_host(out + 68, gi->rtt_us);
    put_u32_host(out + 72, gi->rttvar_us);
    put_u32_host(out + 76, gi->snd_ssthresh == 0 || gi->snd_ssthresh == UINT32_MAX
                               ? 0x7fffffffu
                               : gi->snd_ssthresh / mss);
    put_u32_host(out + 80, gi->snd_cwnd / mss);
    put_u32_host(out + 84, gi->rcv_mss);
    put_u32_host(out + 88, 3);
    put_u32_host(out + 100, gi->total_retrans);
}

static uint32_t tcpi_get(const uint8_t *b, const struct tcpi_field *f)
{
    if (f->size == 1)
        return b[f->off];
    uint32_t v;
    memcpy(&v, b + f->off, sizeof v);
    return v;
}

/* ---- the calls ------------------------------------------------------------------------------ */

static enum pkt_sys_status do_socket(struct pkt_runner *R, struct pkt_call *c)
{
    const struct pkt_syscall *sc = &c->ev->sc;
    if (!arg_count(R, c, 3))
        return SYS_FAIL;
    int64_t dom = 2, type = 1, proto = 6;
    if (!is_ellipsis(sc->args[0]) && !int_arg(R, c, 0, &dom))
        return SYS_FAIL;
    if (!int_arg(R, c, 1, &type) || !int_arg(R, c, 2, &proto))
        return SYS_FAIL;
    if (dom != 2 || (type & ~0x800) != 1 || (proto != 6 && proto != 0)) {
        pkt_skip(R, c->ev->line, "only AF_INET SOCK_STREAM IPPROTO_TCP sockets are driven");
        return SYS_SKIP;
    }
    int fd = glass_socket(R->st);
    set_result(c, fd);
    if (fd >= 0) {
        struct pkt_sock *sk = pkt_sock_new(R);
        if (sk == NULL) {
            pkt_fail(R, c->ev->line, "too many sockets in one script");
            return SYS_FAIL;
        }
        int64_t want = -1;
        if (c->ev->sc.result->kind == EX_INT)
            want = c->ev->sc.result->i;
        sk->script_fd = want >= 0 ? (int)want : fd;
        sk->live_fd = fd;
        sk->nonblock = (type & 0x800) != 0;
        sk->state = SK_NEW;
        R->sut = sk; /* packetdrill: later packets are mapped to the newest socket */
    }
    return SYS_DONE;
}

static enum pkt_sys_status do_bind(struct pkt_runner *R, struct pkt_call *c)
{
    if (!arg_count(R, c, 3) || !fd_arg(R, c, 0))
        return SYS_FAIL;
    struct glass_endpoint ep = {R->local_ip, R->bind_port};
    enum pkt_sys_status s = addr_arg(R, c, 1, &ep);
    if (s != SYS_DONE)
        return s;
    set_result(c, glass_bind(R->st, c->live_fd, &ep));
    return SYS_DONE;
}

static enum pkt_sys_status do_listen(struct pkt_runner *R, struct pkt_call *c)
{
    int64_t backlog;
    if (!arg_count(R, c, 2) || !fd_arg(R, c, 0) || !int_arg(R, c, 1, &backlog))
        return SYS_FAIL;
    if (backlog > INT32_MAX)
        backlog = INT32_MAX;
    if (backlog < INT32_MIN)
        backlog = INT32_MIN;
    set_result(c, glass_listen(R->st, c->live_fd, (int)backlog));
    if (c->ret == 0 && c->sk != NULL)
        c->sk->state = SK_LISTENING;
    return SYS_DONE;
}

static enum pkt_sys_status do_accept(struct pkt_runner *R, struct pkt_call *c)
{
    if (!c->parsed) {
        if (!arg_count(R, c, 3) || !fd_arg(R, c, 0))
            return SYS_FAIL;
        c->parsed = true;
    }
    struct glass_endpoint peer;
    int fd = glass_accept(R->st, c->live_fd, &peer);
    if (fd == -GLASS_EAGAIN && !c->nonblock)
        return SYS_BLOCK;
    set_result(c, fd);
    if (fd >= 0) {
        /* packetdrill: the new descriptor belongs to a child made by an inbound SYN */
        struct pkt_sock *child = NULL;
        for (size_t i = 0; i < R->nsocks; i++) {
            struct pkt_sock *s = R->socks[i];
            if ((s->state == SK_PASSIVE_SYNACK_SENT || s->state == SK_PASSIVE_SYNACK_ACKED) &&
                s->live_fd < 0 && s->r_port == peer.port) {
                child = s;
                break;
            }
        }
        if (child == NULL) {
            for (size_t i = 0; i < R->nsocks; i++) {
                struct pkt_sock *s = R->socks[i];
                if ((s->state == SK_PASSIVE_SYNACK_SENT ||
                     s->state == SK_PASSIVE_SYNACK_ACKED) && s->live_fd < 0) {
                    child = s;
                    break;
                }
            }
        }
        if (child == NULL) {
            child = pkt_sock_new(R);
            if (child == NULL) {
                pkt_fail(R, c->ev->line, "too many sockets in one script");
                return SYS_FAIL;
            }
            child->state = SK_PASSIVE_SYNACK_ACKED;
            child->l_ip = R->local_ip;
            child->l_port = R->bind_port;
            child->r_ip = peer.addr;
            child->r_port = peer.port;
        }
        int64_t want = -1;
        if (c->ev->sc.result->kind == EX_INT)
            want = c->ev->sc.result->i;
        child->script_fd = want >= 0 ? (int)want : fd;
        child->live_fd = fd;
        child->nonblock = false; /* accept() gives a blocking socket (flags not inherited) */
    }
    return SYS_DONE;
}

static enum pkt_sys_status do_connect(struct pkt_runner *R, struct pkt_call *c)
{
    if (!c->started) {
        if (!arg_count(R, c, 3) || !fd_arg(R, c, 0))
            return SYS_FAIL;
        struct glass_endpoint ep = {R->remote_ip, R->connect_port};
        enum pkt_sys_status s = addr_arg(R, c, 1, &ep);
        if (s != SYS_DONE)
            return s;
        struct pkt_sock *sk = c->sk;
        if (sk != NULL && sk->state == SK_NEW) {
            sk->state = SK_CONNECTING;
            sk->r_ip = ep.addr;
            sk->r_port = ep.port;
            sk->l_ip = 0;
            sk->l_port = 0;
            sk->script_local_isn = sk->live_local_isn = sk->remote_isn = 0;
        }
        int r = glass_connect(R->st, c->live_fd, &ep);
        c->started = true;
        if (r != -GLASS_EINPROGRESS || c->nonblock) {
            set_result(c, r);
            return SYS_DONE;
        }
        return SYS_BLOCK;
    }
    /* blocking connect: wait for the handshake to finish or fail */
    int state = glass_sock_state(R->st, c->live_fd);
    if (state == GLASS_TCP_SYN_SENT || state == GLASS_TCP_SYN_RCVD)
        return SYS_BLOCK;
    int err = 0;
    size_t len = sizeof err;
    if (glass_getsockopt(R->st, c->live_fd, GLASS_SOL_SOCKET, GLASS_SO_ERROR, &err, &len) == 0 &&
        err != 0) {
        set_result(c, -err);
    } else if (state < 0) {
        set_result(c, state);
    } else if (state == GLASS_TCP_CLOSED) {
        set_result(c, -GLASS_ECONNREFUSED);
    } else {
        set_result(c, 0);
    }
    return SYS_DONE;
}

static bool buffer_arg(struct pkt_runner *R, struct pkt_call *c, size_t i)
{
    const struct pkt_expr *x = c->ev->sc.args[i];
    if (is_ellipsis(x))
        return true;
    if (x->kind == EX_WORD && strcmp(x->s, "NULL") == 0)
        return true;
    pkt_fail(R, x->line, "%s(): the buffer is written `...` (packetdrill)", c->ev->sc.name);
    return false;
}

static enum pkt_sys_status do_write(struct pkt_runner *R, struct pkt_call *c)
{
    if (!c->parsed) {
        size_t n = c->name == SYS_SEND ? 4 : 3;
        int64_t count, flags = 0;
        if (!arg_count(R, c, n) || !fd_arg(R, c, 0) || !buffer_arg(R, c, 1) ||
            !int_arg(R, c, 2, &count))
            return SYS_FAIL;
        if (n == 4 && !int_arg(R, c, 3, &flags))
            return SYS_FAIL;
        if (count < 0 || count > (1 << 24)) {
            pkt_fail(R, c->ev->line, "%s(): byte count out of range", c->ev->sc.name);
            return SYS_FAIL;
        }
        c->flags = (int)flags;
        if (flags & 0x40)
            c->nonblock = true; /* MSG_DONTWAIT */
        c->want = (uint64_t)count;
        c->buf = calloc(1, c->want ? c->want : 1);
        if (c->buf == NULL) {
            pkt_fail(R, c->ev->line, "out of memory");
            return SYS_FAIL;
        }
        c->parsed = true;
    }
    for (;;) {
        long r = glass_send(R->st, c->live_fd, c->buf + c->done, c->want - c->done,
                            c->flags & ~0x40);
        if (r > 0)
            c->done += (uint64_t)r;
        if (r >= 0 && c->done >= c->want) {
            set_result(c, (long)c->done);
            return SYS_DONE;
        }
        if (r == -GLASS_EAGAIN || (r >= 0 && c->done < c->want)) {
            if (c->nonblock) {
                set_result(c, c->done > 0 ? (long)c->done : r);
                return SYS_DONE;
            }
            if (r == 0)
                return SYS_BLOCK;
            if (r == -GLASS_EAGAIN)
                return SYS_BLOCK;
            continue;
        }
        /* an error: Linux returns what was written before it, or the error */
        set_result(c, c->done > 0 ? (long)c->done : r);
        return SYS_DONE;
    }
}

static enum pkt_sys_status do_read(struct pkt_runner *R, struct pkt_call *c)
{
    if (!c->parsed) {
        size_t n = c->name == SYS_RECV ? 4 : 3;
        int64_t count, flags = 0;
        if (!arg_count(R, c, n) || !fd_arg(R, c, 0) || !buffer_arg(R, c, 1) ||
            !int_arg(R, c, 2, &count))
            return SYS_FAIL;
        if (n == 4 && !int_arg(R, c, 3, &flags))
            return SYS_FAIL;
        if (count < 0 || count > (1 << 24)) {
            pkt_fail(R, c->ev->line, "%s(): byte count out of range", c->ev->sc.name);
            return SYS_FAIL;
        }
        if (flags & ~(int64_t)(0x2 | 0x40)) {
            pkt_skip(R, c->ev->line, "%s(): flags other than MSG_PEEK and MSG_DONTWAIT",
                     c->ev->sc.name);
            return SYS_SKIP;
        }
        c->flags = (int)flags;
        if (flags & 0x40)
            c->nonblock = true;
        c->want = (uint64_t)count;
        c->buf = malloc(c->want ? c->want : 1);
        if (c->buf == NULL) {
            pkt_fail(R, c->ev->line, "out of memory");
            return SYS_FAIL;
        }
        c->parsed = true;
    }
    long r = glass_recv(R->st, c->live_fd, c->buf, c->want, c->flags & GLASS_MSG_PEEK);
    if (r == -GLASS_EAGAIN && !c->nonblock)
        return SYS_BLOCK;
    set_result(c, r);
    pkt_drain(R); /* reading may open the window */
    return SYS_DONE;
}

static enum pkt_sys_status do_shutdown(struct pkt_runner *R, struct pkt_call *c)
{
    int64_t how;
    if (!arg_count(R, c, 2) || !fd_arg(R, c, 0) || !int_arg(R, c, 1, &how))
        return SYS_FAIL;
    set_result(c, glass_shutdown(R->st, c->live_fd, (int)how));
    return SYS_DONE;
}

static enum pkt_sys_status do_close(struct pkt_runner *R, struct pkt_call *c)
{
    if (!arg_count(R, c, 1) || !fd_arg(R, c, 0))
        return SYS_FAIL;
    set_result(c, glass_close(R->st, c->live_fd));
    if (c->ret == 0 && c->sk != NULL)
        c->sk->closed = true;
    return SYS_DONE;
}

/* An option value as bytes: [int], {onoff=, linger=}, "string", or a bare integer. */
static enum pkt_sys_status optval_bytes(struct pkt_runner *R, const struct pkt_expr *x,
                                        uint8_t *buf, size_t cap, size_t *len)
{
    if (x->kind == EX_STR) {
        *len = x->slen < cap ? x->slen : cap;
        memcpy(buf, x->s, *len);
        return SYS_DONE;
    }
    if (x->kind == EX_STRUCT) {
        int32_t v[2] = {0, 0};
        bool seen[2] = {false, false};
        for (size_t k = 0; k < x->n; k++) {
            const struct pkt_expr *f = x->items[k];
            int64_t iv;
            if (f->kind != EX_ASSIGN || !pkt_eval_int(R, f->items[0], &iv))
                goto bad;
            if (strcmp(f->s, "onoff") == 0 || strcmp(f->s, "l_onoff") == 0) {
                v[0] = (int32_t)iv;
                seen[0] = true;
            } else if (strcmp(f->s, "linger") == 0 || strcmp(f->s, "l_linger") == 0) {
                v[1] = (int32_t)iv;
                seen[1] = true;
            } else {
                goto bad;
            }
        }
        if (!seen[0] || !seen[1])
            goto bad;
        memcpy(buf, v, sizeof v);
        *len = sizeof v;
        return SYS_DONE;
    }
    int64_t iv;
    if (!pkt_eval_int(R, x, &iv))
        return SYS_FAIL;
    int32_t i32 = (int32_t)iv;
    memcpy(buf, &i32, sizeof i32);
    *len = sizeof i32;
    return SYS_DONE;
bad:
    pkt_skip(R, x->line, "option value: only [int], {onoff=N, linger=N} and \"bytes\"");
    return SYS_SKIP;
}

static enum pkt_sys_status do_setsockopt(struct pkt_runner *R, struct pkt_call *c)
{
    int64_t level, name, optlen;
    if (!arg_count(R, c, 5) || !fd_arg(R, c, 0) || !int_arg(R, c, 1, &level) ||
        !int_arg(R, c, 2, &name) || !int_arg(R, c, 4, &optlen))
        return SYS_FAIL;
    uint8_t buf[256];
    size_t len = 0;
    enum pkt_sys_status s = optval_bytes(R, c->ev->sc.args[3], buf, sizeof buf, &len);
    if (s != SYS_DONE)
        return s;
    if (level == 1 && name == 13 && len == 8) {
        int32_t lg[2];
        memcpy(lg, buf, sizeof lg);
        if (lg[0] != 0 && lg[1] != 0) {
            pkt_skip(R, c->ev->line, "SO_LINGER with a linger time > 0 (close() would block)");
            return SYS_SKIP;
        }
    }
    if (optlen < 0 || (uint64_t)optlen > sizeof buf) {
        set_result(c, -GLASS_EINVAL);
        return SYS_DONE;
    }
    if ((size_t)optlen > len)
        memset(buf + len, 0, (size_t)optlen - len);
    set_result(c, glass_setsockopt(R->st, c->live_fd, (int)level, (int)name, buf,
                                   (size_t)optlen));
    return SYS_DONE;
}

/* getsockopt checks the value itself (packetdrill does too): a mismatch fails here. */
static enum pkt_sys_status do_getsockopt(struct pkt_runner *R, struct pkt_call *c)
{
    int64_t level, name, optlen;
    const struct pkt_syscall *sc = &c->ev->sc;
    if (!arg_count(R, c, 5) || !fd_arg(R, c, 0) || !int_arg(R, c, 1, &level) ||
        !int_arg(R, c, 2, &name))
        return SYS_FAIL;
    const struct pkt_expr *lx = sc->args[4];
    if (!(lx->kind == EX_LIST && lx->n == 1) || !pkt_eval_int(R, lx, &optlen)) {
        pkt_fail(R, lx->line, "getsockopt(): the length is written [N]");
        return SYS_FAIL;
    }
    if (optlen < 0 || optlen > 4096) {
        pkt_fail(R, lx->line, "getsockopt(): length out of range");
        return SYS_FAIL;
    }
    uint8_t live[4096];
    size_t live_len = (size_t)optlen;
    memset(live, 0, sizeof live);
    const struct pkt_expr *vx = sc->args[3];
    bool is_tcpi = level == 6 && name == 11;
    if (is_tcpi) {
        struct glass_tcp_info gi;
        int r = glass_tcp_info(R->st, c->live_fd, &gi);
        if (r < 0) {
            set_result(c, r);
            return SYS_DONE;
        }
        uint8_t li[LINUX_TCPI_LEN];
        linux_tcp_info(&gi, li);
        if (live_len > LINUX_TCPI_LEN)
            live_len = LINUX_TCPI_LEN;
        memcpy(live, li, live_len);
        set_result(c, 0);
    } else {
        set_result(c, glass_getsockopt(R->st, c->live_fd, (int)level, (int)name, live,
                                       &live_len));
    }
    if (c->ret != 0 || is_ellipsis(vx))
        return SYS_DONE;
    /* the value */
    struct out_buf want = {0}, got = {0};
    bool ok = true;
    if (is_tcpi && vx->kind == EX_STRUCT) {
        for (size_t k = 0; k < vx->n && ok; k++) {
            const struct pkt_expr *f = vx->items[k];
            const struct tcpi_field *fd = NULL;
            for (size_t j = 0; f->kind == EX_ASSIGN && j < sizeof tcpi_fields /
                                                            sizeof tcpi_fields[0]; j++)
                if (strcmp(tcpi_fields[j].name, f->s) == 0)
                    fd = &tcpi_fields[j];
            if (fd == NULL) {
                pkt_skip(R, f->line, "TCP_INFO field not known to glass pkt");
                return SYS_SKIP;
            }
            int64_t w;
            if (!pkt_eval_int(R, f->items[0], &w))
                return SYS_FAIL;
            uint32_t a = fd->off + fd->size <= live_len ? tcpi_get(live, fd) : 0;
            if (fd->off + fd->size > live_len || (int64_t)a != w) {
                ok = false;
                out_printf(&want, "%s=%" PRId64, fd->name, w);
                out_printf(&got, "%s=%" PRIu32, fd->name, a);
            }
        }
    } else if (vx->kind == EX_STR) {
        if (vx->slen != (size_t)optlen) {
            pkt_fail(R, vx->line, "getsockopt(): the expected value has %zu bytes, the length "
                                  "%" PRId64, vx->slen, optlen);
            return SYS_FAIL;
        }
        if (live_len != vx->slen || memcmp(live, vx->s, vx->slen) != 0) {
            ok = false;
            out_quoted(&want, vx->s, vx->slen, 64);
            out_quoted(&got, live, live_len, 64);
        }
    } else if (vx->kind == EX_STRUCT) {
        uint8_t wb[64];
        size_t wl = 0;
        enum pkt_sys_status s = optval_bytes(R, vx, wb, sizeof wb, &wl);
        if (s != SYS_DONE)
            return s;
        if (live_len != wl || memcmp(live, wb, wl) != 0) {
            int32_t a[2] = {0, 0}, w[2];
            memcpy(w, wb, sizeof w);
            memcpy(a, live, live_len < sizeof a ? live_len : sizeof a);
            ok = false;
            out_printf(&want, "{onoff=%d, linger=%d}", (int)w[0], (int)w[1]);
            out_printf(&got, "{onoff=%d, linger=%d}", (int)a[0], (int)a[1]);
        }
    } else {
        int64_t w;
        if (!pkt_eval_int(R, vx, &w))
            return SYS_FAIL;
        int32_t a = 0;
        memcpy(&a, live, live_len < sizeof a ? live_len : sizeof a);
        if (optlen != 4) {
            pkt_fail(R, lx->line, "getsockopt(): an [int] value needs length [4]");
            return SYS_FAIL;
        }
        if (a != (int32_t)w) {
            ok = false;
            out_printf(&want, "[%" PRId64 "]", w);
            out_printf(&got, "[%d]", (int)a);
        }
    }
    if (ok && live_len != (size_t)optlen) {
        ok = false;
        out_printf(&want, "length [%" PRId64 "]", optlen);
        out_printf(&got, "length [%zu]", live_len);
    }
    if (!ok) {
        pkt_fail(R, c->ev->line, "getsockopt() value: expected %s, actual %s",
                 want.p ? want.p : "?", got.p ? got.p : "?");
        out_free(&want);
        out_free(&got);
        return SYS_FAIL;
    }
    out_free(&want);
    out_free(&got);
    return SYS_DONE;
}

static enum pkt_sys_status do_fcntl(struct pkt_runner *R, struct pkt_call *c)
{
    const struct pkt_syscall *sc = &c->ev->sc;
    int64_t cmd, arg = 0;
    if (sc->nargs < 2 || sc->nargs > 3) {
        pkt_fail(R, c->ev->line, "fcntl() takes 2 or 3 arguments");
        return SYS_FAIL;
    }
    if (!fd_arg(R, c, 0) || !int_arg(R, c, 1, &cmd))
        return SYS_FAIL;
    if (sc->nargs == 3 && !int_arg(R, c, 2, &arg))
        return SYS_FAIL;
    if (c->sk == NULL || glass_sock_state(R->st, c->live_fd) < 0) {
        set_result(c, -GLASS_EBADF);
        return SYS_DONE;
    }
    if (cmd == 3) { /* F_GETFL */
        set_result(c, 0x2 | (c->sk->nonblock ? 0x800 : 0));
    } else if (cmd == 4) { /* F_SETFL */
        c->sk->nonblock = (arg & 0x800) != 0;
        set_result(c, 0);
    } else {
        pkt_skip(R, c->ev->line, "fcntl() commands other than F_GETFL and F_SETFL");
        return SYS_SKIP;
    }
    return SYS_DONE;
}

static short linux_revents(short g)
{
    short r = g;
    if (g & GLASS_POLLIN)
        r |= 0x40; /* POLLRDNORM */
    if (g & GLASS_POLLOUT)
        r |= 0x100; /* POLLWRNORM */
    return r;
}

static enum pkt_sys_status do_poll(struct pkt_runner *R, struct pkt_call *c)
{
    const struct pkt_syscall *sc = &c->ev->sc;
    if (!c->parsed) {
        int64_t nfds, timeout;
        if (!arg_count(R, c, 3) || !int_arg(R, c, 1, &nfds) || !int_arg(R, c, 2, &timeout))
            return SYS_FAIL;
        const struct pkt_expr *lx = sc->args[0];
        if (lx->kind != EX_LIST || lx->n > PKT_MAX_POLLFDS || (int64_t)lx->n != nfds) {
            pkt_fail(R, lx->line, "poll(): a list of nfds {fd=..., events=...[, revents=...]}");
            return SYS_FAIL;
        }
        c->nfds = lx->n;
        for (size_t k = 0; k < lx->n; k++) {
            const struct pkt_expr *px = lx->items[k];
            if (px->kind != EX_STRUCT) {
                pkt_fail(R, px->line, "poll(): each entry is {fd=N, events=..., revents=...}");
                return SYS_FAIL;
            }
            int64_t fd = -1, ev = 0;
            for (size_t j = 0; j < px->n; j++) {
                const struct pkt_expr *f = px->items[j];
                int64_t v;
                if (f->kind != EX_ASSIGN || !pkt_eval_int(R, f->items[0], &v)) {
                    pkt_fail(R, f->line, "poll(): malformed entry");
                    return SYS_FAIL;
                }
                if (strcmp(f->s, "fd") == 0) {
                    fd = v;
                } else if (strcmp(f->s, "events") == 0) {
                    ev = v;
                } else if (strcmp(f->s, "revents") == 0) {
                    c->want_revents[k] = v;
                    c->check_revents[k] = true;
                } else {
                    pkt_fail(R, f->line, "poll(): unknown field '%s'", f->s);
                    return SYS_FAIL;
                }
            }
            if (!c->check_revents[k]) { /* packetdrill: revents default to 0 */
                c->want_revents[k] = 0;
                c->check_revents[k] = true;
            }
            struct pkt_sock *sk = pkt_sock_by_fd(R, (int)fd);
            c->pfd[k].fd = sk != NULL ? sk->live_fd : 1000000 + (int)fd;
            c->pfd[k].events = (short)ev;
        }
        c->timeout_ms = timeout;
        c->deadline_ns = timeout < 0 ? UINT64_MAX
                                      : R->now_ns + (uint64_t)timeout * 1000000u;
        c->parsed = true;
    }
    int ready = 0;
    for (size_t k = 0; k < c->nfds; k++) {
        struct glass_pollfd p = {c->pfd[k].fd,
                                 (short)(GLASS_POLLIN | GLASS_POLLOUT | GLASS_POLLRDHUP), 0};
        glass_poll(R->st, &p, 1);
        short all = linux_revents(p.revents);
        short mask = (short)(c->pfd[k].events | GLASS_POLLERR | GLASS_POLLHUP | GLASS_POLLNVAL);
        c->pfd[k].revents = (short)(all & mask);
        if (c->pfd[k].revents != 0)
            ready++;
    }
    if (ready == 0 && R->now_ns < c->deadline_ns && c->timeout_ms != 0)
        return SYS_BLOCK;
    set_result(c, ready);
    return SYS_DONE;
}

static enum pkt_sys_status do_sockname(struct pkt_runner *R, struct pkt_call *c)
{
    if (!arg_count(R, c, 3) || !fd_arg(R, c, 0))
        return SYS_FAIL;
    if (!is_ellipsis(c->ev->sc.args[1])) {
        pkt_skip(R, c->ev->line, "%s(): only `...` addresses are supported", c->ev->sc.name);
        return SYS_SKIP;
    }
    struct glass_endpoint ep;
    int r = c->name == SYS_GETSOCKNAME ? glass_getsockname(R->st, c->live_fd, &ep)
                                        : glass_getpeername(R->st, c->live_fd, &ep);
    set_result(c, r);
    return SYS_DONE;
}

enum pkt_sys_status pkt_sys_attempt(struct pkt_runner *R, struct pkt_call *c)
{
    if (c->name < 0 || c->name >= SYS_COUNT) {
        c->name = sys_lookup(c->ev->sc.name);
        if (c->name < 0) {
            pkt_skip(R, c->ev->line, "system call %s() is not supported", c->ev->sc.name);
            return SYS_SKIP;
        }
    }
    enum pkt_sys_status s;
    switch ((enum sys_name)c->name) {
    case SYS_SOCKET: s = do_socket(R, c); break;
    case SYS_BIND: s = do_bind(R, c); break;
    case SYS_LISTEN: s = do_listen(R, c); break;
    case SYS_ACCEPT: s = do_accept(R, c); break;
    case SYS_CONNECT: s = do_connect(R, c); break;
    case SYS_WRITE:
    case SYS_SEND: s = do_write(R, c); break;
    case SYS_READ:
    case SYS_RECV: s = do_read(R, c); break;
    case SYS_SHUTDOWN: s = do_shutdown(R, c); break;
    case SYS_CLOSE: s = do_close(R, c); break;
    case SYS_SETSOCKOPT: s = do_setsockopt(R, c); break;
    case SYS_GETSOCKOPT: s = do_getsockopt(R, c); break;
    case SYS_FCNTL: s = do_fcntl(R, c); break;
    case SYS_POLL: s = do_poll(R, c); break;
    case SYS_GETSOCKNAME:
    case SYS_GETPEERNAME: s = do_sockname(R, c); break;
    default: s = SYS_SKIP; break;
    }
    pkt_drain(R);
    return s;
}

void pkt_call_free(struct pkt_call *c)
{
    free(c->buf);
    c->buf = NULL;
}

void pkt_sys_result_str(struct out_buf *b, const struct pkt_call *c)
{
    if (c->ret == -1) {
        const char *n = glass_errname(c->err);
        out_printf(b, "-1 %s (%s)", n != NULL ? n : "E?", glass_strerror(c->err));
    } else if (c->name == SYS_FCNTL && c->ret > 9) {
        out_printf(b, "%#lx", c->ret);
    } else {
        out_printf(b, "%ld", c->ret);
    }
}

bool pkt_sys_check(struct pkt_runner *R, struct pkt_call *c)
{
    const struct pkt_syscall *sc = &c->ev->sc;
    int64_t want;
    if (!pkt_eval_int(R, sc->result, &want))
        return false;
    bool fd_call = c->name == SYS_SOCKET || c->name == SYS_ACCEPT;
    bool ok;
    if (want == -1) {
        ok = c->ret == -1;
        if (ok && sc->errno_name != NULL) {
            const char *n = glass_errname(c->err);
            int64_t alias;
            ok = (n != NULL && strcmp(n, sc->errno_name) == 0) ||
                 (pkt_symbol(sc->errno_name, &alias) && alias == c->err);
        }
    } else if (fd_call && want >= 0) {
        ok = c->ret >= 0;
    } else {
        ok = c->ret == want;
    }
    if (ok && c->name == SYS_POLL) {
        for (size_t k = 0; k < c->nfds; k++) {
            if (c->check_revents[k] && c->pfd[k].revents != (short)c->want_revents[k]) {
                pkt_fail(R, c->ev->line, "poll(): revents of entry %zu: expected %#x, actual "
                                         "%#x", k, (unsigned)c->want_revents[k],
                         (unsigned)(unsigned short)c->pfd[k].revents);
                return false;
            }
        }
    }
    if (ok)
        return true;
    struct out_buf got = {0};
    pkt_sys_result_str(&got, c);
    /* the script's text without its time: "accept(3, ..., ...) = 4" */
    const char *p = c->ev->src, *end = c->ev->src + c->ev->src_len;
    while (p < end && *p != ' ' && *p != '\t')
        p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (c->ev->sc.blocking) { /* "0...0.1 read(...)" : skip the end time too */
        const char *q = p;
        while (q < end && *q != '(')
            q++;
        while (q > p && q[-1] != ' ' && q[-1] != '\t' && q[-1] != '.')
            q--;
        p = q;
    }
    pkt_fail(R, c->ev->line, "expected %.*s, actual %s", (int)(end - p), p,
             got.p ? got.p : "?");
    out_free(&got);
    return false;
}
