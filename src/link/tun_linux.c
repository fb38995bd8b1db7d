/* glasstcp — the Linux TUN link (include/glass/tun.h). Knows packets and file descriptors,
 * nothing of the stack: it includes only public headers and the C/Linux libraries. */
#define _GNU_SOURCE
#include <glass/stack.h>
#include <glass/tun.h>
#include <glass/wire.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct glass_tun {
    int fd;
    bool vnet; /* IFF_VNET_HDR: a struct virtio_net_hdr before every datagram (offload) */
    char name[IFNAMSIZ];
    struct glass_tun_stats stats;
    uint8_t *join; /* 64 KiB, on first use: a datagram joined or cut up before a plain write */
};

#define TUN_JOIN 65536u

/* Offload as virtio-net does it: the vnet header in native byte order (the legacy layout the
 * kernel uses unless told TUNSETVNETLE/BE), the size set explicitly, TCP checksum and TSO for
 * IPv4 (no UFO, no ECN). */
static int enable_offload(struct glass_tun *t)
{
    int sz = (int)sizeof(struct virtio_net_hdr);
    if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) < 0)
        return -errno;
    if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0)
        return -errno;
    t->vnet = true;
    return 0;
}

GLASS_API int glass_tun_open(const char *name, struct glass_tun **out)
{
    return glass_tun_open_flags(name, 0, out);
}

GLASS_API bool glass_tun_offload(const struct glass_tun *t)
{
    return t->vnet;
}

GLASS_API int glass_tun_open_flags(const char *name, unsigned flags, struct glass_tun **out)
{
    *out = NULL;
    size_t nlen = name != NULL ? strlen(name) : 0;
    if (nlen == 0 || nlen >= IFNAMSIZ || strchr(name, '/') != NULL)
        return -EINVAL;
    struct glass_tun *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        int err = errno;
        free(t);
        return -err;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    /* One IP datagram per read/write, no packet-information header: there is nothing before
     * the IPv4 header to disagree with it (catalogue 4). */
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (flags & GLASS_TUN_OFFLOAD)
        ifr.ifr_flags |= IFF_VNET_HDR;
    if (flags & GLASS_TUN_MULTI_QUEUE)
        ifr.ifr_flags |= IFF_MULTI_QUEUE;
    memcpy(ifr.ifr_name, name, nlen);
    int err = ioctl(t->fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
    if (err == 0 && (flags & GLASS_TUN_OFFLOAD))
        err = enable_offload(t);
    else if (err == 0)
        (void)ioctl(t->fd, TUNSETOFFLOAD, 0UL); /* a persistent device keeps a previous
                                                    user's offloads: none without headers */
    if (err != 0) {
        close(t->fd);
        free(t);
        return err;
    }
    memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
    t->name[IFNAMSIZ - 1] = '\0';
    *out = t;
    return 0;
}

GLASS_API void glass_tun_close(struct glass_tun *t)
{
    if (t == NULL)
        return;
    if (t->fd >= 0)
        close(t->fd);
    free(t->join);
    free(t);
}

GLASS_API int glass_tun_fd(const struct glass_tun *t)
{
    return t->fd;
}

GLASS_API const char *glass_tun_name(const struct glass_tun *t)
{
    return t->name;
}

/* An ioctl on the interface through a throw-away AF_INET socket. */
static int if_ioctl(const struct glass_tun *t, unsigned long req, struct ifreq *ifr)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    memcpy(ifr->ifr_name, t->name, IFNAMSIZ);
    int r = ioctl(s, req, ifr) < 0 ? -errno : 0;
    close(s);
    return r;
}

GLASS_API int glass_tun_mtu(const struct glass_tun *t)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int r = if_ioctl(t, SIOCGIFMTU, &ifr);
    return r < 0 ? r : ifr.ifr_mtu;
}

GLASS_API int glass_tun_set_up(struct glass_tun *t)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int r = if_ioctl(t, SIOCGIFFLAGS, &ifr);
    if (r < 0)
        return r;
    if (ifr.ifr_flags & IFF_UP)
        return 0;
    ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
    return if_ioctl(t, SIOCSIFFLAGS, &ifr);
}

GLASS_API long glass_tun_read(struct glass_tun *t, uint8_t *buf, size_t cap)
{
    unsigned in_flags;
    return glass_tun_read_flags(t, buf, cap, &in_flags);
}

/* What the vnet header of a received datagram tells the stack. */
static unsigned rx_flags(struct glass_tun *t, const struct virtio_net_hdr *h)
{
    if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
        t->stats.rx_gso++;
    /* NEEDS_CSUM: the kernel left the checksum to a device (the bytes come from its memory);
     * DATA_VALID: it checked it. Either way there is nothing for the stack to verify. */
    if (h->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) {
        t->stats.rx_csum_trusted++;
        return GLASS_INPUT_CSUM_OK;
    }
    return 0;
}

GLASS_API long glass_tun_read_flags(struct glass_tun *t, uint8_t *buf, size_t cap,
                                    unsigned *in_flags)
{
    /* A spare byte after the caller's buffer tells a datagram of exactly cap bytes from a
     * longer one the kernel cut to fit (a TUN read truncates silently). */
    uint8_t spare;
    struct virtio_net_hdr vh;
    size_t hl = t->vnet ? sizeof vh : 0;
    struct iovec iov[3] = {{&vh, sizeof vh}, {buf, cap}, {&spare, 1}};
    struct iovec *v = t->vnet ? iov : iov + 1;
    int nv = t->vnet ? 3 : 2;
    *in_flags = 0;
    for (;;) {
        ssize_t n = readv(t->fd, v, nv);
        if (n >= 0) {
            if ((size_t)n <= hl)
                return -EAGAIN; /* a read without a datagram (catalogue 1) */
            size_t len = (size_t)n - hl;
            if (len > cap) {
                t->stats.rx_truncated++;
                return -EMSGSIZE;
            }
            t->stats.rx_packets++;
            t->stats.rx_bytes += (uint64_t)len;
            if (t->vnet)
                *in_flags = rx_flags(t, &vh);
            return (long)len;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -EAGAIN;
        t->stats.rx_errors++;
        return -errno;
    }
}

GLASS_API long glass_tun_read_batch(struct glass_tun *t, struct glass_tun_pkt *pkts, size_t n)
{
    size_t got = 0;
    /* Each truncated datagram costs one extra read; bounded so a flood of them cannot keep
     * the caller here forever. */
    size_t budget = 2 * n;
    while (got < n && budget-- > 0) {
        long r = glass_tun_read(t, pkts[got].data, pkts[got].cap);
        if (r > 0) {
            pkts[got++].len = (size_t)r;
            continue;
        }
        if (r == -EMSGSIZE)
            continue;
        if (r == -EAGAIN || got > 0)
            break;
        return r;
    }
    return (long)got;
}

/* One datagram to the kernel, behind hdr when the device has vnet headers. */
static long write_one(struct glass_tun *t, const struct virtio_net_hdr *hdr, const uint8_t *pkt,
                      size_t len)
{
    struct virtio_net_hdr none;
    if (hdr == NULL) {
        memset(&none, 0, sizeof none);
        hdr = &none;
    }
    struct iovec iov[2] = {{(void *)(uintptr_t)hdr, sizeof *hdr}, {(void *)(uintptr_t)pkt, len}};
    struct iovec *v = t->vnet ? iov : iov + 1;
    size_t hl = t->vnet ? sizeof *hdr : 0;
    for (;;) {
        ssize_t n = writev(t->fd, v, t->vnet ? 2 : 1);
        if (n >= 0) {
            size_t sent = (size_t)n > hl ? (size_t)n - hl : 0;
            t->stats.tx_packets++;
            t->stats.tx_bytes += (uint64_t)sent;
            return (long)sent;
        }
        if (errno == EINTR)
            continue;
        t->stats.tx_dropped++;
        return -errno;
    }
}

GLASS_API long glass_tun_write(struct glass_tun *t, const uint8_t *pkt, size_t len)
{
    struct virtio_net_hdr h;
    memset(&h, 0, sizeof h);
    return write_one(t, &h, pkt, len);
}

GLASS_API long glass_tun_write_flags(struct glass_tun *t, uint8_t *pkt, size_t len,
                                     unsigned flags)
{
    struct virtio_net_hdr h;
    memset(&h, 0, sizeof h);
    size_t ihl = glass_ipv4_tcp_off(pkt, len);
    if ((flags & GLASS_TUN_TX_CSUM_PARTIAL) && ihl != 0) {
        if (t->vnet) {
            /* The kernel sums from csum_start and stores at csum_start + csum_offset. */
            h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
            h.csum_start = (uint16_t)ihl;
            h.csum_offset = 16;
        } else {
            glass_tcp_csum_fill(pkt, len);
        }
    }
    return write_one(t, &h, pkt, len);
}

/* The vnet header that leaves a partial TCP checksum to the kernel (it sums from csum_start and
 * stores at csum_start + csum_offset) and, for a super-segment, its segmentation: pieces of
 * gso_size behind copies of the hdr_len bytes of headers (as a virtio-net guest asks its host:
 * VIRTIO_NET_HDR_GSO_TCPV4). */
static void vnet_offload(struct virtio_net_hdr *h, const uint8_t *pkt, size_t ihl, size_t total,
                         size_t gso_size)
{
    h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h->csum_start = (uint16_t)ihl;
    h->csum_offset = 16;
    size_t hdr_len = ihl + (size_t)(pkt[ihl + 12u] >> 4) * 4u; /* glass_ipv4_tcp_off: in pkt */
    if (gso_size != 0 && gso_size <= 0xffffu && total > hdr_len + gso_size) {
        h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        h->gso_size = (uint16_t)gso_size;
        h->hdr_len = (uint16_t)hdr_len;
    }
}

/* A device without vnet headers takes whole, summed datagrams only: join the two parts (or
 * cut a super-segment into its pieces) in t->join, complete each checksum, write each. */
static long write_plain_sg(struct glass_tun *t, const uint8_t *hdr, size_t hlen,
                           const uint8_t *payload, size_t plen, size_t gso_size, bool partial)
{
    if (t->join == NULL && (t->join = malloc(TUN_JOIN)) == NULL) {
        t->stats.tx_dropped++;
        return -ENOMEM;
    }
    if (gso_size == 0) {
        if (hlen + plen > TUN_JOIN) {
            t->stats.tx_dropped++;
            return -EMSGSIZE;
        }
        memcpy(t->join, hdr, hlen);
        if (plen > 0)
            memcpy(t->join + hlen, payload, plen);
        if (partial)
            glass_tcp_csum_fill(t->join, hlen + plen);
        long r = write_one(t, NULL, t->join, hlen + plen);
        return r < 0 ? r : (long)(hlen + plen);
    }
    long r = -EINVAL;
    size_t m;
    for (size_t k = 0; (m = glass_tso_piece(hdr, hlen, payload, plen, gso_size, k, t->join,
                                            TUN_JOIN)) > 0;
         k++) {
        glass_tcp_csum_fill(t->join, m);
        r = write_one(t, NULL, t->join, m);
        if (r < 0)
            return r;
    }
    if (r < 0)
        t->stats.tx_dropped++; /* not a datagram glass_tso_piece could cut */
    return r < 0 ? r : (long)(hlen + plen);
}

GLASS_API long glass_tun_write_sg(struct glass_tun *t, const uint8_t *hdr, size_t hlen,
                                  const uint8_t *payload, size_t plen, size_t gso_size,
                                  unsigned flags)
{
    if (payload == NULL)
        plen = 0;
    size_t ihl = glass_ipv4_tcp_off(hdr, hlen);
    if (ihl == 0)
        gso_size = 0; /* not TCP: nothing to segment */
    bool partial = ((flags & GLASS_TUN_TX_CSUM_PARTIAL) || gso_size != 0) && ihl != 0;
    if (!t->vnet && (partial || gso_size != 0))
        return write_plain_sg(t, hdr, hlen, payload, plen, gso_size, partial);
    struct virtio_net_hdr h;
    memset(&h, 0, sizeof h);
    if (t->vnet && partial)
        vnet_offload(&h, hdr, ihl, hlen + plen, gso_size);
    struct iovec iov[3] = {{&h, sizeof h},
                           {(void *)(uintptr_t)hdr, hlen},
                           {(void *)(uintptr_t)payload, plen}};
    struct iovec *v = t->vnet ? iov : iov + 1;
    int nv = (t->vnet ? 3 : 2) - (plen == 0 ? 1 : 0);
    size_t vl = t->vnet ? sizeof h : 0;
    for (;;) {
        ssize_t n = writev(t->fd, v, nv);
        if (n >= 0) {
            size_t sent = (size_t)n > vl ? (size_t)n - vl : 0;
            t->stats.tx_packets++;
            t->stats.tx_bytes += (uint64_t)sent;
            if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
                t->stats.tx_gso++;
            return (long)sent;
        }
        if (errno == EINTR)
            continue;
        t->stats.tx_dropped++;
        return -errno;
    }
}

GLASS_API long glass_tun_write_batch(struct glass_tun *t, const struct glass_tun_pkt *pkts,
                                     size_t n)
{
    long done = 0;
    for (size_t i = 0; i < n; i++)
        if (glass_tun_write(t, pkts[i].data, pkts[i].len) >= 0)
            done++;
    return done;
}

GLASS_API void glass_tun_stats(const struct glass_tun *t, struct glass_tun_stats *out)
{
    *out = t->stats;
}
