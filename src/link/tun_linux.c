/* glasstcp — the Linux TUN link (include/glass/tun.h). Knows packets and file descriptors,
 * nothing of the stack: it includes only public headers and the C/Linux libraries. */
#define _GNU_SOURCE
#include <glass/tun.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct glass_tun {
    int fd;
    char name[IFNAMSIZ];
    struct glass_tun_stats stats;
};

GLASS_API int glass_tun_open(const char *name, struct glass_tun **out)
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
    memcpy(ifr.ifr_name, name, nlen);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        int err = errno;
        close(t->fd);
        free(t);
        return -err;
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
    /* A spare byte after the caller's buffer tells a datagram of exactly cap bytes from a
     * longer one the kernel cut to fit (a TUN read truncates silently). */
    uint8_t spare;
    struct iovec iov[2] = {{buf, cap}, {&spare, 1}};
    for (;;) {
        ssize_t n = readv(t->fd, iov, 2);
        if (n >= 0) {
            if ((size_t)n > cap) {
                t->stats.rx_truncated++;
                return -EMSGSIZE;
            }
            if (n == 0)
                return -EAGAIN; /* a zero-length read carries no datagram (catalogue 1) */
            t->stats.rx_packets++;
            t->stats.rx_bytes += (uint64_t)n;
            return (long)n;
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

GLASS_API long glass_tun_write(struct glass_tun *t, const uint8_t *pkt, size_t len)
{
    for (;;) {
        ssize_t n = write(t->fd, pkt, len);
        if (n >= 0) {
            t->stats.tx_packets++;
            t->stats.tx_bytes += (uint64_t)n;
            return (long)n;
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
