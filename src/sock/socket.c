/* glasstcp — the BSD-like socket facade: handles, argument checks and Linux errno semantics
 * over the core's TCBs. Sans-IO: nothing here sends; it queues and marks for output. */
#include "core/core.h"
#include "util/assert.h"

#include <glass/err.h>
#include <glass/socket.h>

#include <string.h>

static struct glass_tcb *fd_tcb(struct glass_stack *st, int fd)
{
    if (fd < GLASS_FD_BASE)
        return NULL;
    uint32_t i = (uint32_t)(fd - GLASS_FD_BASE);
    if (i >= st->cfg.max_sockets)
        return NULL;
    return st->socks[i].tcb;
}

/* Take the pending asynchronous error (SO_ERROR semantics: read once). */
static int take_error(struct glass_tcb *tcb)
{
    int e = tcb->so_error;
    tcb->so_error = 0;
    return e;
}

/* The lowest free handle, as on Unix. The search starts at socks_free_from, below which every
 * handle is in use, so opening N sockets in a row costs O(N), not O(N^2). */
static int alloc_fd(struct glass_stack *st, struct glass_tcb *tcb)
{
    for (uint32_t i = st->socks_free_from; i < st->cfg.max_sockets; i++) {
        if (st->socks[i].tcb == NULL) {
            st->socks[i].tcb = tcb;
            st->n_socks_used++;
            st->socks_free_from = i + 1u;
            tcb->fd = (int)i + GLASS_FD_BASE;
            return tcb->fd;
        }
    }
    st->socks_free_from = st->cfg.max_sockets;
    return -GLASS_EMFILE;
}

static void release_fd(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->fd < 0)
        return;
    uint32_t i = (uint32_t)(tcb->fd - GLASS_FD_BASE);
    st->socks[i].tcb = NULL;
    st->n_socks_used--;
    if (i < st->socks_free_from)
        st->socks_free_from = i;
    tcb->fd = -1;
}

int glass_socket(struct glass_stack *st)
{
    if (st->n_socks_used >= st->cfg.max_sockets)
        return -GLASS_EMFILE;
    struct glass_tcb *tcb = glass_tcb_new(st);
    if (tcb == NULL)
        return -GLASS_ENOMEM;
    int fd = alloc_fd(st, tcb);
    if (fd < 0) {
        glass_tcb_reap(st, tcb);
        glass_reap_now(st);
    }
    return fd;
}

int glass_bind(struct glass_stack *st, int fd, const struct glass_endpoint *ep)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (ep == NULL)
        return -GLASS_EFAULT;
    if (tcb->state != GLASS_TCP_CLOSED || tcb->local.port != 0 || (tcb->flags & GLASS_TF_BOUND))
        return -GLASS_EINVAL; /* Linux: bind twice is EINVAL */
    if (ep->addr != 0 && !glass_is_local_addr(st, ep->addr))
        return -GLASS_EADDRNOTAVAIL;
    uint16_t port = ep->port;
    if (port == 0) {
        struct glass_endpoint none = {0, 0};
        uint32_t twref;
        port = glass_ephemeral_port(st, tcb, ep->addr, &none, &twref);
        if (port == 0)
            return -GLASS_EADDRINUSE;
    } else {
        int r = glass_bind_check(st, tcb, ep->addr, port);
        if (r < 0)
            return r;
    }
    tcb->local.addr = ep->addr;
    tcb->local.port = port;
    tcb->flags |= GLASS_TF_BOUND;
    glass_tcb_bhash(st, tcb);
    return 0;
}

int glass_listen(struct glass_stack *st, int fd, int backlog)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (backlog < 0)
        backlog = 0;
    if ((uint32_t)backlog > st->cfg.somaxconn)
        backlog = (int)st->cfg.somaxconn;
    if (tcb->state == GLASS_TCP_LISTEN) {
        tcb->x->lq->backlog = (uint32_t)backlog; /* Linux: listen() again adjusts the backlog */
        return 0;
    }
    if (tcb->state != GLASS_TCP_CLOSED || (tcb->flags & GLASS_TF_WAS_CONN))
        return -GLASS_EINVAL;
    if (tcb->x->lq == NULL) {
        struct glass_tcb_ext *x = glass_tcb_xw(st, tcb);
        struct glass_listen_q *q = x != NULL ? glass_zalloc(st, sizeof *q) : NULL;
        if (q == NULL) {
            glass_tcb_xput(st, tcb);
            return -GLASS_ENOMEM;
        }
        q->synq.prev = q->synq.next = &q->synq;
        q->acceptq.prev = q->acceptq.next = &q->acceptq;
        x->lq = q;
    }
    if (tcb->local.port == 0) {
        /* Linux: listen() on an unbound socket binds an ephemeral port (inet_autobind). */
        struct glass_endpoint none = {0, 0};
        uint32_t twref;
        uint16_t port = glass_ephemeral_port(st, tcb, 0, &none, &twref);
        if (port == 0)
            return -GLASS_EADDRINUSE;
        tcb->local.port = port;
    } else {
        /* A listener may not share its port with anything (inet_csk_get_port on listen). */
        int r = glass_bind_check(st, tcb, tcb->local.addr, tcb->local.port);
        if (r < 0)
            return r;
    }
    tcb->x->lq->backlog = (uint32_t)backlog;
    glass_tcb_bhash(st, tcb);
    glass_tcp_set_state(st, tcb, GLASS_TCP_LISTEN, GLASS_CAUSE_APP_LISTEN);
    return 0;
}

int glass_accept(struct glass_stack *st, int fd, struct glass_endpoint *peer)
{
    struct glass_tcb *l = fd_tcb(st, fd);
    if (l == NULL)
        return -GLASS_EBADF;
    if (l->state != GLASS_TCP_LISTEN)
        return -GLASS_EINVAL;
    if (l->x->lq->acceptq_len == 0)
        return -GLASS_EAGAIN;
    if (st->n_socks_used >= st->cfg.max_sockets)
        return -GLASS_EMFILE;
    struct glass_tcb *c = glass_child_of(l->x->lq->acceptq.next);
    glass_child_unlink(st, c);
    int nfd = alloc_fd(st, c);
    if (nfd < 0)
        return nfd;
    if (peer != NULL)
        *peer = c->remote;
    /* Events that happened before the handle existed are level state for poll(); tell the
     * application about data and EOF that are already there. */
    if (c->rb.len > 0)
        glass_event_push(st, c, GLASS_EV_READABLE, 0);
    if (c->flags & GLASS_TF_RCVD_FIN)
        glass_event_push(st, c, GLASS_EV_RDHUP, 0);
    return nfd;
}

int glass_connect(struct glass_stack *st, int fd, const struct glass_endpoint *ep)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (ep == NULL)
        return -GLASS_EFAULT;
    switch ((enum glass_tcp_state)tcb->state) {
    case GLASS_TCP_LISTEN:
        return -GLASS_EISCONN; /* Linux */
    case GLASS_TCP_SYN_SENT:
    case GLASS_TCP_SYN_RCVD:
        return -GLASS_EALREADY;
    case GLASS_TCP_CLOSED:
        break;
    default:
        if (!(tcb->flags & GLASS_TF_CONNECT_SEEN) && !(tcb->flags & GLASS_TF_PASSIVE)) {
            tcb->flags |= GLASS_TF_CONNECT_SEEN; /* Linux: the completed connect reports 0 once */
            return 0;
        }
        return -GLASS_EISCONN;
    }
    if (tcb->so_error != 0)
        return take_error(tcb); /* a failed non-blocking connect reports its error once */
    if (tcb->flags & GLASS_TF_WAS_CONN)
        return -GLASS_EISCONN;
    if (ep->addr == 0 || ep->port == 0)
        return -GLASS_EINVAL;
    int r = glass_tcp_usr_connect(st, tcb, ep);
    glass_reap_now(st);
    return r;
}

/* May tcb take more bytes to send? 0, or the error send() returns. */
static long send_check(struct glass_tcb *tcb)
{
    if (tcb->so_error != 0)
        return take_error(tcb);
    if (tcb->flags & GLASS_TF_FIN_QUEUED)
        return -GLASS_EPIPE; /* after shutdown(SHUT_WR) */
    if (glass_tcp_state_in(tcb, GLASS_TCPF(SYN_SENT) | GLASS_TCPF(SYN_RCVD)))
        return -GLASS_EAGAIN; /* still connecting (non-blocking) */
    if (!glass_tcp_state_in(tcb, GLASS_TCPF_CAN_SEND))
        return -GLASS_EPIPE; /* Linux sk_stream_wait_connect: not connected -> EPIPE */
    return 0;
}

/* n bytes were appended to the send buffer (short of what the application had if `short`). */
static void sent_bytes(struct glass_stack *st, struct glass_tcb *tcb, bool is_short)
{
    if (is_short || glass_ring_space(&tcb->sb) == 0)
        tcb->flags |= GLASS_TF_SNDBUF_FULL; /* GLASS_EV_WRITABLE when room comes back */
    glass_tcp_kick(st, tcb);
}

/* Storage in the send ring for need bytes from its head (at least 1), grown if it can be; if
 * it cannot, what room the storage already has is used. False only when there is none. */
static bool sb_storage(struct glass_stack *st, struct glass_tcb *tcb, uint32_t need)
{
    return glass_ring_reserve(st, &tcb->sb, need > 0 ? need : 1u, glass_sb_stream(tcb)) ||
           tcb->sb.size > tcb->sb.len;
}

long glass_send(struct glass_stack *st, int fd, const void *buf, size_t len, int flags)
{
    (void)flags;
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    long rc = send_check(tcb);
    if (rc != 0 || len == 0)
        return rc;
    if (buf == NULL)
        return -GLASS_EFAULT;
    uint32_t want = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    uint32_t room = glass_ring_space(&tcb->sb);
    if (!sb_storage(st, tcb, tcb->sb.len + (want < room ? want : room)))
        return -GLASS_ENOMEM;
    uint32_t n = glass_ring_write(&tcb->sb, buf, want);
    if (n == 0) {
        tcb->flags |= GLASS_TF_SNDBUF_FULL;
        return -GLASS_EAGAIN;
    }
    sent_bytes(st, tcb, n < want);
    return (long)n;
}

long glass_send_reserve(struct glass_stack *st, int fd, void **p)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (p == NULL)
        return -GLASS_EFAULT;
    long rc = send_check(tcb);
    if (rc != 0)
        return rc;
    /* The caller means to fill what it is given: the storage grows to the whole buffer. */
    if (!sb_storage(st, tcb, tcb->sb.cap))
        return -GLASS_ENOMEM;
    uint8_t *at;
    uint32_t n = glass_ring_tail_span(&tcb->sb, &at);
    if (n == 0) {
        tcb->flags |= GLASS_TF_SNDBUF_FULL;
        return -GLASS_EAGAIN;
    }
    *p = at;
    return (long)n;
}

long glass_send_commit(struct glass_stack *st, int fd, size_t n)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    long rc = send_check(tcb);
    if (rc != 0)
        return rc;
    if (n == 0)
        return 0;
    uint8_t *at;
    if (tcb->sb.buf == NULL || n > glass_ring_tail_span(&tcb->sb, &at))
        return -GLASS_EINVAL; /* more than the reserved span */
    tcb->sb.len += (uint32_t)n;
    sent_bytes(st, tcb, false);
    return (long)n;
}

/* What recv() returns when no byte can be read. */
static long recv_nothing(struct glass_tcb *tcb)
{
    if (tcb->flags & (GLASS_TF_RCVD_FIN | GLASS_TF_SHUT_RD))
        return 0; /* end of stream after the peer's FIN, before any later error (Linux) */
    if (tcb->so_error != 0)
        return take_error(tcb);
    if (tcb->state == GLASS_TCP_CLOSED)
        return (tcb->flags & GLASS_TF_WAS_CONN) ? 0 : -GLASS_ENOTCONN;
    return -GLASS_EAGAIN;
}

/* n bytes were taken from the head of the receive buffer. */
static void consumed(struct glass_stack *st, struct glass_tcb *tcb, uint32_t n)
{
    glass_ring_consume(&tcb->rb, n);
    glass_tcp_window_update(st, tcb);
    if (tcb->rb.len == 0)
        glass_reclaim_note(st, tcb);
}

long glass_recv(struct glass_stack *st, int fd, void *buf, size_t len, int flags)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (tcb->state == GLASS_TCP_LISTEN)
        return -GLASS_ENOTCONN;
    if (tcb->rb.len > 0 && len > 0) {
        if (buf == NULL)
            return -GLASS_EFAULT;
        uint32_t n = len > tcb->rb.len ? tcb->rb.len : (uint32_t)len;
        glass_ring_peek(&tcb->rb, 0, buf, n);
        if (!(flags & GLASS_MSG_PEEK))
            consumed(st, tcb, n);
        return (long)n;
    }
    if (tcb->rb.len > 0)
        return 0; /* len == 0 */
    return recv_nothing(tcb);
}

long glass_recv_peek(struct glass_stack *st, int fd, const void **p)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (p == NULL)
        return -GLASS_EFAULT;
    if (tcb->state == GLASS_TCP_LISTEN)
        return -GLASS_ENOTCONN;
    if (tcb->rb.len == 0)
        return recv_nothing(tcb);
    uint8_t *at;
    uint32_t n = glass_ring_head_span(&tcb->rb, &at);
    *p = at;
    return (long)n;
}

long glass_recv_consume(struct glass_stack *st, int fd, size_t n)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (tcb->state == GLASS_TCP_LISTEN)
        return -GLASS_ENOTCONN;
    if (n > tcb->rb.len)
        return -GLASS_EINVAL;
    if (n > 0)
        consumed(st, tcb, (uint32_t)n);
    return (long)n;
}

int glass_shutdown(struct glass_stack *st, int fd, int how)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (how < GLASS_SHUT_RD || how > GLASS_SHUT_RDWR)
        return -GLASS_EINVAL;
    if (!glass_tcp_state_in(tcb, GLASS_TCPF_SYNCHRONIZED | GLASS_TCPF(SYN_SENT) |
                                     GLASS_TCPF(SYN_RCVD)))
        return -GLASS_ENOTCONN;
    if (how != GLASS_SHUT_WR)
        tcb->flags |= GLASS_TF_SHUT_RD;
    if (how != GLASS_SHUT_RD) {
        if (tcb->state == GLASS_TCP_SYN_SENT)
            glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED, GLASS_CAUSE_APP_SHUTDOWN_WR);
        else if (tcb->state == GLASS_TCP_SYN_RCVD)
            tcb->flags |= GLASS_TF_SHUT_PENDING; /* Linux: the FIN follows the handshake */
        else
            glass_tcp_usr_fin(st, tcb, GLASS_CAUSE_APP_SHUTDOWN_WR);
    }
    glass_reap_now(st);
    return 0;
}

/* Close a listener: every child not yet accepted is reset (Linux inet_csk_listen_stop). */
static void close_listener(struct glass_stack *st, struct glass_tcb *l)
{
    struct glass_list *heads[2] = {&l->x->lq->synq, &l->x->lq->acceptq};
    for (int q = 0; q < 2; q++) {
        while (heads[q]->next != heads[q]) {
            struct glass_tcb *c = glass_child_of(heads[q]->next);
            glass_child_unlink(st, c);
            if (c->state == GLASS_TCP_CLOSED)
                glass_tcb_reap(st, c);
            else if (c->state == GLASS_TCP_SYN_RCVD)
                glass_tcp_set_state(st, c, GLASS_TCP_CLOSED, GLASS_CAUSE_LISTEN_CLOSE);
            else
                glass_tcp_abort(st, c, GLASS_CAUSE_LISTEN_CLOSE);
        }
    }
    glass_tcp_set_state(st, l, GLASS_TCP_CLOSED, GLASS_CAUSE_APP_CLOSE);
}

int glass_close(struct glass_stack *st, int fd)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    release_fd(st, tcb);
    tcb->flags |= GLASS_TF_ORPHAN;
    switch ((enum glass_tcp_state)tcb->state) {
    case GLASS_TCP_CLOSED:
        glass_tcb_unbhash(st, tcb);
        glass_tcb_reap(st, tcb);
        break;
    case GLASS_TCP_LISTEN:
        close_listener(st, tcb);
        break;
    case GLASS_TCP_SYN_SENT:
        glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED,
                            (tcb->flags & GLASS_TF_LINGER0) ? GLASS_CAUSE_APP_ABORT
                                                            : GLASS_CAUSE_APP_CLOSE);
        break;
    default:
        if (tcb->rb.len > 0 && tcb->state != GLASS_TCP_TIME_WAIT) {
            /* RFC 9293 §3.10.4 / Linux tcp_close(): unread data means the peer's bytes were
             * lost; say so with an RST rather than a FIN (TCPAbortOnClose). */
            glass_mib_inc(st, GLASS_MIB_TcpExtTCPAbortOnClose);
            glass_tcp_abort(st, tcb, GLASS_CAUSE_CLOSE_UNREAD);
        } else if ((tcb->flags & GLASS_TF_LINGER0) && tcb->state != GLASS_TCP_TIME_WAIT) {
            /* SO_LINGER {1, 0}: abort (Linux counts TCPAbortOnData). */
            glass_mib_inc(st, GLASS_MIB_TcpExtTCPAbortOnData);
            glass_tcp_abort(st, tcb, GLASS_CAUSE_APP_ABORT);
        } else if (glass_tcp_state_in(tcb, GLASS_TCPF(SYN_RCVD) | GLASS_TCPF(ESTABLISHED) |
                                               GLASS_TCPF(CLOSE_WAIT))) {
            glass_tcp_usr_fin(st, tcb, GLASS_CAUSE_APP_CLOSE);
        } else if (tcb->state == GLASS_TCP_FIN_WAIT_2) {
            /* Closed after shutdown(SHUT_WR): now orphaned, the FIN_WAIT_2 timer applies. */
            glass_timer_set(st, tcb, GLASS_TT_FINWAIT2, st->now + st->cfg.fin_wait_2_timeout);
        } else if (tcb->state == GLASS_TCP_TIME_WAIT) {
            glass_tw_candidate(st, tcb); /* nobody holds it now: a compact record */
        }
        break;
    }
    glass_reap_now(st);
    return 0;
}

static int opt_int(const void *val, size_t len, int *out)
{
    if (val == NULL || len < sizeof(int))
        return -GLASS_EINVAL;
    memcpy(out, val, sizeof(int));
    return 0;
}

static void set_flag(struct glass_tcb *tcb, uint32_t flag, int on)
{
    if (on)
        tcb->flags |= flag;
    else
        tcb->flags &= ~flag;
}

int glass_setsockopt(struct glass_stack *st, int fd, int level, int name, const void *val,
                     size_t len)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    int v = 0;
    if (level == GLASS_SOL_SOCKET) {
        switch (name) {
        case GLASS_SO_REUSEADDR: {
            int r = opt_int(val, len, &v);
            if (r < 0)
                return r;
            set_flag(tcb, GLASS_TF_REUSEADDR, v);
            return 0;
        }
        case GLASS_SO_KEEPALIVE: {
            int r = opt_int(val, len, &v);
            if (r < 0)
                return r;
            set_flag(tcb, GLASS_TF_KEEPALIVE, v);
            if (!v)
                glass_timer_clear(st, tcb, GLASS_TT_KEEPALIVE);
            else if (glass_tcp_state_in(tcb, GLASS_TCPF(ESTABLISHED) | GLASS_TCPF(CLOSE_WAIT)))
                glass_timer_set(st, tcb, GLASS_TT_KEEPALIVE, st->now + glass_tcp_keep_idle(st, tcb));
            return 0;
        }
        case GLASS_SO_LINGER: {
            struct glass_linger lg;
            if (val == NULL || len < sizeof lg)
                return -GLASS_EINVAL;
            memcpy(&lg, val, sizeof lg);
            set_flag(tcb, GLASS_TF_LINGER0, lg.l_onoff != 0 && lg.l_linger == 0);
            return 0;
        }
        case GLASS_SO_SNDBUF:
        case GLASS_SO_RCVBUF: {
            int r = opt_int(val, len, &v);
            if (r < 0)
                return r;
            if (v < 0)
                return -GLASS_EINVAL;
            uint32_t size = (uint32_t)v < 2048u ? 2048u : (uint32_t)v;
            if (size > (1u << 24))
                size = 1u << 24;
            struct glass_ring *ring = name == GLASS_SO_SNDBUF ? &tcb->sb : &tcb->rb;
            uint64_t used = name == GLASS_SO_SNDBUF ? tcb->bytes_acked : tcb->bytes_received;
            if (ring->buf != NULL || used > 0)
                return -GLASS_EINVAL; /* buffers are sized before first use (also when an idle
                                         connection gave them back, reclaim.c) */
            ring->cap = size;
            return 0;
        }
        default:
            return -GLASS_ENOPROTOOPT;
        }
    }
    if (level == GLASS_SOL_TCP) {
        switch (name) {
        case GLASS_TCP_NODELAY: {
            int r = opt_int(val, len, &v);
            if (r < 0)
                return r;
            set_flag(tcb, GLASS_TF_NODELAY, v);
            if (v)
                glass_tcp_kick(st, tcb);
            return 0;
        }
        case GLASS_TCP_KEEPIDLE:
        case GLASS_TCP_KEEPINTVL: {
            /* seconds, 1..32767 as Linux (MAX_TCP_KEEPIDLE) */
            int r = opt_int(val, len, &v);
            if (r < 0)
                return r;
            if (v < 1 || v > 32767)
                return -GLASS_EINVAL;
            struct glass_tcb_ext *x = glass_tcb_xw(st, tcb);
            if (x == NULL)
                return -GLASS_ENOMEM;
            if (name == GLASS_TCP_KEEPIDLE) {
                x->keep_idle_s = (uint16_t)v;
                if ((tcb->flags & GLASS_TF_KEEPALIVE) &&
                    tcb->timer[GLASS_TT_KEEPALIVE] != GLASS_TIME_NEVER)
                    glass_timer_set(st, tcb, GLASS_TT_KEEPALIVE,
                                    tcb->last_rcv + glass_tcp_keep_idle(st, tcb));
            } else {
                x->keep_intvl_s = (uint16_t)v;
            }
            return 0;
        }
        case GLASS_TCP_KEEPCNT: {
            int r = opt_int(val, len, &v);
            if (r < 0)
                return r;
            if (v < 1 || v > 127)
                return -GLASS_EINVAL;
            tcb->keep_cnt = (uint8_t)v;
            return 0;
        }
        case GLASS_TCP_USER_TIMEOUT: {
            /* milliseconds; 0 = the retransmission count decides (RFC 5482, Linux) */
            int r = opt_int(val, len, &v);
            if (r < 0)
                return r;
            if (v < 0)
                return -GLASS_EINVAL;
            if ((uint32_t)v == tcb->x->user_timeout_ms)
                return 0;
            struct glass_tcb_ext *x = glass_tcb_xw(st, tcb);
            if (x == NULL)
                return -GLASS_ENOMEM;
            x->user_timeout_ms = (uint32_t)v;
            glass_tcb_xput(st, tcb); /* setting 0 may leave it empty */
            return 0;
        }
        case GLASS_TCP_CONGESTION: {
            if (val == NULL || len == 0)
                return -GLASS_EINVAL;
            const char *name_s = val;
            size_t n = 0;
            while (n < len && name_s[n] != '\0')
                n++;
            int algo = glass_cc_parse(val, n);
            if (algo < 0)
                return -GLASS_ENOENT;
            tcb->cc_algo = (uint8_t)algo;
            return 0;
        }
        case GLASS_TCP_MAXSEG: {
            int r = opt_int(val, len, &v);
            if (r < 0)
                return r;
            if (v < (int)GLASS_MIN_MSS || v > (int)st->cfg.mss)
                return -GLASS_EINVAL;
            if (tcb->snd_mss > (uint16_t)v || tcb->state == GLASS_TCP_CLOSED)
                tcb->snd_mss = (uint16_t)v;
            return 0;
        }
        default:
            return -GLASS_ENOPROTOOPT;
        }
    }
    return -GLASS_ENOPROTOOPT;
}

static int put_int(void *val, size_t *len, int v)
{
    if (val == NULL || len == NULL || *len < sizeof(int))
        return -GLASS_EINVAL;
    memcpy(val, &v, sizeof v);
    *len = sizeof v;
    return 0;
}

int glass_getsockopt(struct glass_stack *st, int fd, int level, int name, void *val, size_t *len)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (level == GLASS_SOL_SOCKET) {
        switch (name) {
        case GLASS_SO_REUSEADDR:
            return put_int(val, len, (tcb->flags & GLASS_TF_REUSEADDR) ? 1 : 0);
        case GLASS_SO_KEEPALIVE:
            return put_int(val, len, (tcb->flags & GLASS_TF_KEEPALIVE) ? 1 : 0);
        case GLASS_SO_ERROR: {
            int e = tcb->so_error;
            int r = put_int(val, len, e < 0 ? -e : e);
            if (r == 0)
                tcb->so_error = 0;
            return r;
        }
        case GLASS_SO_SNDBUF:
            return put_int(val, len, (int)tcb->sb.cap);
        case GLASS_SO_RCVBUF:
            return put_int(val, len, (int)tcb->rb.cap);
        case GLASS_SO_LINGER: {
            struct glass_linger lg = {(tcb->flags & GLASS_TF_LINGER0) ? 1 : 0, 0};
            if (val == NULL || len == NULL || *len < sizeof lg)
                return -GLASS_EINVAL;
            memcpy(val, &lg, sizeof lg);
            *len = sizeof lg;
            return 0;
        }
        default:
            return -GLASS_ENOPROTOOPT;
        }
    }
    if (level == GLASS_SOL_TCP) {
        switch (name) {
        case GLASS_TCP_NODELAY:
            return put_int(val, len, (tcb->flags & GLASS_TF_NODELAY) ? 1 : 0);
        case GLASS_TCP_MAXSEG:
            return put_int(val, len, (int)tcb->snd_mss);
        case GLASS_TCP_KEEPIDLE:
            return put_int(val, len, (int)(glass_tcp_keep_idle(st, tcb) / GLASS_NSEC_PER_SEC));
        case GLASS_TCP_KEEPINTVL:
            return put_int(val, len, (int)(glass_tcp_keep_intvl(st, tcb) / GLASS_NSEC_PER_SEC));
        case GLASS_TCP_KEEPCNT:
            return put_int(val, len, (int)tcb->keep_cnt);
        case GLASS_TCP_USER_TIMEOUT:
            return put_int(val, len, (int)tcb->x->user_timeout_ms);
        case GLASS_TCP_CONGESTION: {
            const char *nm = glass_cc_name(tcb->cc_algo);
            size_t n = strlen(nm) + 1u;
            if (val == NULL || len == NULL || *len == 0)
                return -GLASS_EINVAL;
            if (n > *len)
                n = *len;
            memcpy(val, nm, n);
            ((char *)val)[n - 1] = '\0';
            *len = n;
            return 0;
        }
        case GLASS_TCP_INFO: {
            struct glass_tcp_info info;
            if (val == NULL || len == NULL)
                return -GLASS_EINVAL;
            glass_tcp_fill_info(st, tcb, &info);
            size_t n = *len < sizeof info ? *len : sizeof info;
            memcpy(val, &info, n);
            *len = n;
            return 0;
        }
        default:
            return -GLASS_ENOPROTOOPT;
        }
    }
    return -GLASS_ENOPROTOOPT;
}

int glass_getsockname(struct glass_stack *st, int fd, struct glass_endpoint *ep)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (ep == NULL)
        return -GLASS_EFAULT;
    *ep = tcb->local;
    return 0;
}

int glass_getpeername(struct glass_stack *st, int fd, struct glass_endpoint *ep)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (ep == NULL)
        return -GLASS_EFAULT;
    if (!glass_tcp_state_in(tcb, GLASS_TCPF_SYNCHRONIZED | GLASS_TCPF(SYN_RCVD)))
        return -GLASS_ENOTCONN;
    *ep = tcb->remote;
    return 0;
}

/* Linux tcp_poll() semantics, level-triggered. */
static short poll_one(const struct glass_tcb *tcb)
{
    short ev = 0;
    if (tcb->state == GLASS_TCP_LISTEN)
        return tcb->x->lq != NULL && tcb->x->lq->acceptq_len > 0 ? GLASS_POLLIN : 0;
    if (tcb->so_error != 0)
        ev |= GLASS_POLLERR;
    bool shut_both = (tcb->flags & GLASS_TF_RCVD_FIN) && (tcb->flags & GLASS_TF_FIN_QUEUED);
    if (tcb->state == GLASS_TCP_CLOSED || shut_both)
        ev |= GLASS_POLLHUP;
    if (tcb->flags & GLASS_TF_RCVD_FIN)
        ev |= GLASS_POLLIN | GLASS_POLLRDHUP;
    if (tcb->rb.len > 0)
        ev |= GLASS_POLLIN;
    if (glass_tcp_state_in(tcb, GLASS_TCPF_CAN_SEND) && !(tcb->flags & GLASS_TF_FIN_QUEUED)) {
        if (glass_ring_space(&tcb->sb) > 0)
            ev |= GLASS_POLLOUT;
    } else if (tcb->state == GLASS_TCP_CLOSED) {
        ev |= GLASS_POLLOUT; /* Linux: a closed socket polls writable (the write fails) */
    }
    if (tcb->state == GLASS_TCP_CLOSED && (tcb->flags & GLASS_TF_WAS_CONN))
        ev |= GLASS_POLLIN | GLASS_POLLRDHUP;
    return ev;
}

int glass_poll(struct glass_stack *st, struct glass_pollfd *fds, size_t n)
{
    int ready = 0;
    for (size_t i = 0; i < n; i++) {
        struct glass_tcb *tcb = fd_tcb(st, fds[i].fd);
        short ev = tcb == NULL ? GLASS_POLLNVAL : poll_one(tcb);
        /* POLLERR, POLLHUP and POLLNVAL are always reported (poll(2)). */
        fds[i].revents = (short)(ev & (fds[i].events | GLASS_POLLERR | GLASS_POLLHUP |
                                       GLASS_POLLNVAL));
        if (fds[i].revents != 0)
            ready++;
    }
    return ready;
}

int glass_tcp_info(struct glass_stack *st, int fd, struct glass_tcp_info *info)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    if (tcb == NULL)
        return -GLASS_EBADF;
    if (info == NULL)
        return -GLASS_EFAULT;
    glass_tcp_fill_info(st, tcb, info);
    return 0;
}

int glass_sock_state(struct glass_stack *st, int fd)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    return tcb == NULL ? -GLASS_EBADF : tcb->state;
}

long glass_sock_conn_id(struct glass_stack *st, int fd)
{
    struct glass_tcb *tcb = fd_tcb(st, fd);
    return tcb == NULL ? -GLASS_EBADF : (long)tcb->id;
}
