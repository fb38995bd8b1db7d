/** @file
 * glasstcp — the Linux TUN link: raw IPv4 datagrams to and from a kernel network interface.
 *
 * A pure packet mover (src/link/tun_linux.c): it knows nothing of stacks or TCP. The device is
 * opened IFF_TUN | IFF_NO_PI (every read is one IP datagram, nothing in front), non-blocking
 * and close-on-exec; it is created if it does not exist (CAP_NET_ADMIN) and attached if it does
 * (a persistent device made by `ip tuntap add` or `glass lab up`). The length a read returns
 * is the only truth about a packet: a datagram longer than the caller's buffer is detected,
 * dropped and counted, never passed on cut short (robustness/README.md §2.A, catalogue 3).
 *
 * Errors are negative Linux errno values, which are also the -GLASS_E* codes of <glass/err.h>
 * where those exist. */
#ifndef GLASS_TUN_H
#define GLASS_TUN_H

#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An open TUN device. Opaque; made by glass_tun_open(). */
struct glass_tun;

/** One packet slot for the batch calls. */
struct glass_tun_pkt {
    uint8_t *data; /**< buffer (read) or packet (write) */
    size_t cap;    /**< read: buffer size */
    size_t len;    /**< read: packet length on return; write: packet length */
};

/** What went through the device since it was opened. */
struct glass_tun_stats {
    uint64_t rx_packets,   /**< datagrams read */
        rx_bytes;          /**< their bytes */
    uint64_t rx_truncated; /**< datagrams longer than the read buffer: dropped */
    uint64_t rx_errors;    /**< reads that failed with something other than EAGAIN */
    uint64_t tx_packets,   /**< datagrams written */
        tx_bytes;          /**< their bytes */
    uint64_t tx_dropped;   /**< writes refused (EAGAIN, ENOBUFS, EIO while the link is down) */
    uint64_t rx_gso;       /**< offload: TSO super-segments received (counted in rx_packets) */
    uint64_t rx_csum_trusted; /**< offload: datagrams whose TCP checksum the kernel vouched for */
    uint64_t tx_gso;       /**< offload: TSO super-segments written whole, for the kernel to
                                segment (counted once in tx_packets) */
};

/** Open (creating if needed) the TUN device @p name, non-blocking, one IPv4 datagram per read.
 *  A device this call creates is down: glass_tun_set_up() brings it up.
 *  @return 0, with the device in *@p out.
 *  @retval -EINVAL @p name is NULL, empty, longer than 15 bytes or contains a '/'.
 *  @retval -ENOMEM out of memory.
 *  @retval -EPERM no CAP_NET_ADMIN (creating, or attaching to a device of another user).
 *  @retval -EBUSY another process has the device open.
 *  @retval -ENOENT no /dev/net/tun.
 *  @return another negative errno from open(2) or ioctl(TUNSETIFF). */
GLASS_API int glass_tun_open(const char *name, struct glass_tun **out);

/** glass_tun_open_flags(): checksum and segmentation offload with the kernel, as QEMU's
 *  virtio-net does. The device is opened with IFF_VNET_HDR (a struct virtio_net_hdr before each
 *  datagram, handled inside this module) and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4): the
 *  kernel may hand over TCP datagrams whose checksum it did not compute (trusted: the bytes
 *  never left the machine) and TSO super-segments of up to 64 KiB (one datagram, total length
 *  up to 65535, with many MSS of payload), and takes datagrams whose TCP checksum is partial
 *  (glass_tun_write_flags GLASS_TUN_TX_CSUM_PARTIAL). Reads then need buffers of 65535 bytes. */
#define GLASS_TUN_OFFLOAD 1u
/** glass_tun_open_flags(): one queue of a multi-queue device (IFF_MULTI_QUEUE). Opening the same
 *  name again with this flag attaches another queue (up to 256); the kernel steers each flow to
 *  one queue by a symmetric hash of its addresses and ports, and remembers the queue a flow's
 *  datagrams were last written on (docs/sharding.md). Every queue of a device must be opened
 *  with the flag: a device made without it (`ip tuntap add` without `multi_queue`) refuses
 *  with -EINVAL. */
#define GLASS_TUN_MULTI_QUEUE 2u
/** glass_tun_open() with flags (GLASS_TUN_*). */
GLASS_API int glass_tun_open_flags(const char *name, unsigned flags, struct glass_tun **out);
/** Whether the device was opened with GLASS_TUN_OFFLOAD and the kernel accepted it. */
GLASS_API bool glass_tun_offload(const struct glass_tun *t);
/** Close the device's file descriptor; a device glass_tun_open() created disappears with it (a
 *  persistent one stays). NULL is allowed. */
GLASS_API void glass_tun_close(struct glass_tun *t);
/** The file descriptor, for epoll (readable = a packet waits). */
GLASS_API int glass_tun_fd(const struct glass_tun *t);
/** The interface name the kernel gave the device. */
GLASS_API const char *glass_tun_name(const struct glass_tun *t);
/** The device's MTU now (SIOCGIFMTU).
 *  @return the MTU (> 0), or a negative errno from the ioctl. */
GLASS_API int glass_tun_mtu(const struct glass_tun *t);
/** Bring the kernel side of the interface up (SIOCSIFFLAGS IFF_UP); harmless if it is up.
 *  @return 0, or a negative errno from the ioctl (-EPERM without CAP_NET_ADMIN). */
GLASS_API int glass_tun_set_up(struct glass_tun *t);

/** Read one datagram into buf[0..cap).
 *  @return its length (> 0).
 *  @retval -EAGAIN none is waiting.
 *  @retval -EMSGSIZE it was longer than @p cap (it is dropped and counted in rx_truncated).
 *  @return another negative errno of read(2) (counted in rx_errors). */
GLASS_API long glass_tun_read(struct glass_tun *t, uint8_t *buf, size_t cap);
/** glass_tun_read(), and *in_flags receives the flags to pass to glass_stack_input_flags():
 *  GLASS_INPUT_CSUM_OK when the kernel vouches for the TCP checksum (offload only). */
GLASS_API long glass_tun_read_flags(struct glass_tun *t, uint8_t *buf, size_t cap,
                                    unsigned *in_flags);
/** Read up to n datagrams (one read(2) each, until none is waiting). Sets pkts[i].len and
 *  returns how many were read (0 if none); truncated datagrams are skipped. A negative errno
 *  only if nothing was read and the device failed. */
GLASS_API long glass_tun_read_batch(struct glass_tun *t, struct glass_tun_pkt *pkts, size_t n);
/** Write one datagram.
 *  @return @p len.
 *  @return a negative errno of write(2) (-EAGAIN, -ENOBUFS, -EIO while the link is down ...):
 *          the datagram is dropped and counted in tx_dropped (IP is a datagram service; TCP
 *          retransmits). */
GLASS_API long glass_tun_write(struct glass_tun *t, const uint8_t *pkt, size_t len);
/** glass_tun_write_flags(): the datagram's TCP checksum field holds the pseudo-header sum
 *  (a stack with tx_csum_offload): with offload the kernel completes it, without it is
 *  completed here (glass_tcp_csum_fill) before the write. */
#define GLASS_TUN_TX_CSUM_PARTIAL 1u
/** glass_tun_write() with flags (GLASS_TUN_TX_*). Without offload a partial checksum is
 *  completed in pkt before the write. */
GLASS_API long glass_tun_write_flags(struct glass_tun *t, uint8_t *pkt, size_t len,
                                     unsigned flags);
/** Write one datagram in two parts, as glass_stack_output_sg() gives them: @p hdr[0..hlen)
 *  (the headers, or the whole datagram) then @p payload[0..plen) (NULL: none), in one writev(2),
 *  without joining them. @p gso_size != 0 (glass_output.gso_size): a TSO super-segment, whose
 *  TCP checksum is partial; with offload the kernel takes it whole
 *  (VIRTIO_NET_HDR_GSO_TCPV4, counted in tx_gso) and cuts it into pieces of gso_size where it
 *  must, as for a virtio-net guest; without, it is cut here (glass_tso_piece()) and each piece
 *  written with its checksum completed. @p flags: GLASS_TUN_TX_CSUM_PARTIAL as for
 *  glass_tun_write_flags() (without offload the datagram is then joined in a buffer of the
 *  device and summed there).
 *  @return hlen + plen, or a negative errno as glass_tun_write() (-ENOMEM: no buffer to join
 *          in; -EMSGSIZE: larger than 65536 bytes). */
GLASS_API long glass_tun_write_sg(struct glass_tun *t, const uint8_t *hdr, size_t hlen,
                                  const uint8_t *payload, size_t plen, size_t gso_size,
                                  unsigned flags);
/** Write @p n datagrams, one write(2) each; the ones the device refuses are dropped and
 *  counted.
 *  @return how many the device took. */
GLASS_API long glass_tun_write_batch(struct glass_tun *t, const struct glass_tun_pkt *pkts,
                                     size_t n);
/** Copy the device's counters since glass_tun_open() into @p out. */
GLASS_API void glass_tun_stats(const struct glass_tun *t, struct glass_tun_stats *out);

#ifdef __cplusplus
}
#endif
#endif
