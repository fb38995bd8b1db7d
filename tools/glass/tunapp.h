/* glass CLI — what `glass serve` and `glass connect` share: the options that put a stack on a
 * TUN device (--tun, --addr, --gateway, --netns, --ctl, --mtu, --sndbuf, --rcvbuf, --profile),
 * and starting/stopping the stack, the device and the event loop together. */
#ifndef GLASS_TOOLS_TUNAPP_H
#define GLASS_TOOLS_TUNAPP_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include <glass/config.h>
#include <glass/loop.h>
#include <glass/stack.h>
#include <glass/tun.h>

#define TUNAPP_DEFAULT_TUN "glass0"
#define TUNAPP_CTL_MAX 108

struct tunapp_opts {
    const char *tun;     /* --tun NAME */
    uint32_t addr;       /* --addr A.B.C.D/N: our address ... */
    unsigned prefix;     /* ... and prefix length */
    uint32_t gateway;    /* --gateway A.B.C.D: 0 = none (only the subnet is reachable) */
    const char *netns;   /* --netns NAME: enter /run/netns/NAME first */
    const char *ctl;     /* --ctl PATH; NULL: tunapp_default_ctl() */
    unsigned mtu;        /* --mtu N; 0: the device's */
    uint32_t sndbuf, rcvbuf;
    enum glass_profile profile;
    unsigned syncookies; /* --syncookies 0|1|2 (glass_config.syncookies); default 1 */
    bool verbose;        /* -v: print every state transition on stderr */
    bool offload;        /* --offload: checksum/TSO offload with the kernel (vnet headers) */
    long tso_max;        /* --tso-max N (glass_config.tso_max); -1: 65535 with --offload, else 0 */
    const char *pcap;    /* --pcap FILE: every datagram in and out (libpcap) */
    const char *pcapng;  /* --pcapng FILE: the same, commented with our connection's state */
    /* glass serve --threads (docs/sharding.md): one queue of a multi-queue device each ... */
    bool multi_queue;
    bool no_ctl;         /* ... and only the first shard has the control socket */
};

/* Long options every TUN command takes; their `val`s are 0x100 and up. */
#define TUNAPP_LONGOPTS                                                                           \
    {"tun", required_argument, NULL, 0x100}, {"addr", required_argument, NULL, 0x101},           \
        {"gateway", required_argument, NULL, 0x102}, {"netns", required_argument, NULL, 0x103},  \
        {"ctl", required_argument, NULL, 0x104}, {"mtu", required_argument, NULL, 0x105},        \
        {"sndbuf", required_argument, NULL, 0x106}, {"rcvbuf", required_argument, NULL, 0x107},  \
        {"profile", required_argument, NULL, 0x108}, {"offload", no_argument, NULL, 0x109},       \
        {"syncookies", required_argument, NULL, 0x10a},                                           \
        {"verbose", no_argument, NULL, 'v'}, {"pcap", required_argument, NULL, 0x10b},           \
        {"pcapng", required_argument, NULL, 0x10c}, {"tso-max", required_argument, NULL, 0x10d}

/* The text for those options in a --help. */
extern const char tunapp_usage[];

void tunapp_opts_default(struct tunapp_opts *o);
/* Take option c (from getopt_long) if it is one of ours: 1 taken, 0 not ours, -1 bad value (a
 * one-line message naming `cmd` was printed). */
int tunapp_opt(struct tunapp_opts *o, int c, const char *arg, const char *cmd);

/* Where the control socket of the stack on `tun` lives by default:
 *   root:  /run/glass/TUN.sock
 *   other: $XDG_RUNTIME_DIR/glass/TUN.sock, else /tmp/glass-UID/TUN.sock
 * mkdir: create the directory if missing. */
const char *tunapp_default_ctl(const char *tun, bool mkdir, char buf[TUNAPP_CTL_MAX]);

struct glass_pcapw;

struct tunapp {
    struct glass_pcapw *pcap, *pcapng; /* --pcap, --pcapng */
    glass_time_t wall_off;             /* CLOCK_REALTIME - CLOCK_MONOTONIC, for captures */
    struct glass_stack *st;
    struct glass_tun *tun;
    struct glass_loop *loop;
    char ctl[TUNAPP_CTL_MAX];
    unsigned mtu;
};

/* Enter the netns, open the device, make the stack (seeded from getrandom()), add the address
 * and make the loop with lc (its stack, tun and ctl_path are filled in here). Prints a one-line
 * error naming cmd and returns -1 on failure (everything undone). */
int tunapp_start(struct tunapp *a, const struct tunapp_opts *o, struct glass_loop_config *lc,
                 const char *cmd);
void tunapp_stop(struct tunapp *a);

/* Keep the loop running until every connection is CLOSED or in TIME_WAIT (the FINs and RSTs of
 * a clean shutdown got through), or `max` ns passed. */
void tunapp_linger(struct tunapp *a, glass_time_t max);

/* "192.0.2.2:80" into buf (32 bytes). */
const char *tunapp_ep(uint32_t addr, uint16_t port, char buf[32]);
/* Parse a decimal in [lo, hi]. */
bool tunapp_parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);

#endif
