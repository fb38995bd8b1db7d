/* glass CLI — a stack on a TUN device: the options and the start/stop shared by serve and
 * connect. See tunapp.h. */
#define _GNU_SOURCE
#include "tunapp.h"
#include "pcapw.h"

#include <glass/err.h>
#include <glass/info.h>
#include <glass/stack.h>
#include <glass/trace.h>
#include <glass/wire.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char tunapp_usage[] =
    "  --tun NAME          TUN device to open or create (default glass0)\n"
    "  --addr A.B.C.D/N    the stack's address and prefix (default 192.0.2.2/24)\n"
    "  --gateway A.B.C.D   next hop for addresses outside the prefix (default: none,\n"
    "                      only the prefix is reachable)\n"
    "  --netns NAME        enter network namespace NAME (/run/netns/NAME) first, e.g. the\n"
    "                      one 'glass lab up' made\n"
    "  --ctl PATH          control socket (default /run/glass/TUN.sock as root)\n"
    "  --mtu N             interface MTU for the stack (default: the device's)\n"
    "  --sndbuf N, --rcvbuf N\n"
    "                      socket buffer sizes in bytes\n"
    "  --profile linux|rfc  timer profile (default linux)\n"
    "  --offload           checksum and TSO offload with the kernel (IFF_VNET_HDR): TCP\n"
    "                      checksums computed once, by whoever has the bytes last; the\n"
    "                      kernel may send up to 64 KiB per datagram, and so may glasstcp\n"
    "                      (TSO super-segments, which the kernel cuts into MSS pieces)\n"
    "  --tso-max N         bytes of new data in one TSO super-segment, 0 = none (default\n"
    "                      65535 with --offload, else 0; without --offload the pieces are\n"
    "                      cut before the write)\n"
    "  --syncookies 0|1|2  SYN cookies: off, when the SYN queue is full (default), always\n"
    "  -v, --verbose       print every state transition on stderr\n"
    "  --pcap FILE         write every datagram the stack receives and sends (pcap)\n"
    "  --pcapng FILE       the same in pcapng, each packet commented with the state of its\n"
    "                      connection after it\n"
    "  -h, --help          this help\n";

void tunapp_opts_default(struct tunapp_opts *o)
{
    memset(o, 0, sizeof *o);
    o->tun = TUNAPP_DEFAULT_TUN;
    o->addr = GLASS_IP4(192, 0, 2, 2);
    o->prefix = 24;
    o->profile = GLASS_PROFILE_LINUX;
    o->syncookies = 1;
    o->tso_max = -1;
}

bool tunapp_parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_cidr(const char *s, uint32_t *addr, unsigned *prefix)
{
    char buf[32];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    unsigned long p = 24;
    if (slash != NULL) {
        *slash = '\0';
        if (!tunapp_parse_uint(slash + 1, 0, 32, &p))
            return false;
    }
    if (glass_ip4_parse(buf, addr) != 0 || *addr == 0)
        return false;
    *prefix = (unsigned)p;
    return true;
}

int tunapp_opt(struct tunapp_opts *o, int c, const char *arg, const char *cmd)
{
    unsigned long v;
    switch (c) {
    case 0x100:
        if (arg[0] == '\0' || strlen(arg) > 15 || strchr(arg, '/') != NULL) {
            fprintf(stderr, "glass %s: bad device name '%s' (1 to 15 characters, no '/')\n", cmd,
                    arg);
            return -1;
        }
        o->tun = arg;
        return 1;
    case 0x101:
        if (!parse_cidr(arg, &o->addr, &o->prefix)) {
            fprintf(stderr, "glass %s: bad --addr '%s' (want A.B.C.D/N)\n", cmd, arg);
            return -1;
        }
        return 1;
    case 0x102:
        if (glass_ip4_parse(arg, &o->gateway) != 0 || o->gateway == 0) {
            fprintf(stderr, "glass %s: bad --gateway '%s' (want A.B.C.D)\n", cmd, arg);
            return -1;
        }
        return 1;
    case 0x103:
        if (arg[0] == '\0' || strchr(arg, '/') != NULL) {
            fprintf(stderr, "glass %s: bad --netns '%s'\n", cmd, arg);
            return -1;
        }
        o->netns = arg;
        return 1;
    case 0x104:
        if (arg[0] == '\0' || strlen(arg) >= TUNAPP_CTL_MAX) {
            fprintf(stderr, "glass %s: bad --ctl path (1 to %d bytes)\n", cmd, TUNAPP_CTL_MAX - 1);
            return -1;
        }
        o->ctl = arg;
        return 1;
    case 0x105:
        if (!tunapp_parse_uint(arg, 576, 65535, &v)) {
            fprintf(stderr, "glass %s: bad --mtu '%s' (576..65535)\n", cmd, arg);
            return -1;
        }
        o->mtu = (unsigned)v;
        return 1;
    case 0x106:
    case 0x107:
        if (!tunapp_parse_uint(arg, 1024, 1u << 30, &v)) {
            fprintf(stderr, "glass %s: bad %s '%s' (1024..1073741824 bytes)\n", cmd,
                    c == 0x106 ? "--sndbuf" : "--rcvbuf", arg);
            return -1;
        }
        if (c == 0x106)
            o->sndbuf = (uint32_t)v;
        else
            o->rcvbuf = (uint32_t)v;
        return 1;
    case 0x108:
        if (glass_profile_parse(arg, &o->profile) != 0) {
            fprintf(stderr, "glass %s: bad --profile '%s' (linux or rfc)\n", cmd, arg);
            return -1;
        }
        return 1;
    case 0x109:
        o->offload = true;
        return 1;
    case 0x10a:
        if (!tunapp_parse_uint(arg, 0, 2, &v)) {
            fprintf(stderr, "glass %s: bad --syncookies '%s' (0, 1 or 2)\n", cmd, arg);
            return -1;
        }
        o->syncookies = (unsigned)v;
        return 1;
    case 0x10d:
        if (!tunapp_parse_uint(arg, 0, 65535, &v)) {
            fprintf(stderr, "glass %s: bad --tso-max '%s' (0..65535 bytes)\n", cmd, arg);
            return -1;
        }
        o->tso_max = (long)v;
        return 1;
    case 'v':
        o->verbose = true;
        return 1;
    case 0x10b:
    case 0x10c:
        if (arg[0] == '\0') {
            fprintf(stderr, "glass %s: %s needs a file name\n", cmd, c == 0x10b ? "--pcap" : "--pcapng");
            return -1;
        }
        *(c == 0x10b ? &o->pcap : &o->pcapng) = arg;
        return 1;
    default:
        return 0;
    }
}

const char *tunapp_default_ctl(const char *tun, bool mk, char buf[TUNAPP_CTL_MAX])
{
    char dir[96];
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0)
        snprintf(dir, sizeof dir, "/run/glass");
    else if (xdg != NULL && xdg[0] == '/' && strlen(xdg) < 64)
        snprintf(dir, sizeof dir, "%s/glass", xdg);
    else
        snprintf(dir, sizeof dir, "/tmp/glass-%ld", (long)geteuid());
    if (mk)
        mkdir(dir, 0700);
    snprintf(buf, TUNAPP_CTL_MAX, "%.80s/%.15s.sock", dir, tun);
    return buf;
}

const char *tunapp_ep(uint32_t addr, uint16_t port, char buf[32])
{
    char a[16];
    snprintf(buf, 32, "%s:%u", glass_ip4_str(addr, a), port);
    return buf;
}

static void print_transition(void *ctx, const struct glass_transition *t)
{
    (void)ctx;
    fprintf(stderr, "conn %u: %s -> %s (%s)\n", t->conn, glass_tcp_state_name(t->from),
            glass_tcp_state_name(t->to), glass_tcp_cause_name(t->cause));
}

static int enter_netns(const char *name, const char *cmd)
{
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "glass %s: network namespace '%s': %s (try 'glass lab up')\n", cmd, name,
                strerror(errno));
        return -1;
    }
    if (setns(fd, CLONE_NEWNET) < 0) {
        fprintf(stderr, "glass %s: cannot enter network namespace '%s': %s\n", cmd, name,
                strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* --pcap/--pcapng: the loop's packet hook (one stack per process). */
static struct tunapp *capture_app;

static void capture_packet(void *ctx, struct glass_loop *loop, bool inbound, const uint8_t *pkt,
                           size_t len, glass_time_t now)
{
    (void)ctx;
    (void)loop;
    struct tunapp *a = capture_app;
    glass_pcapw_stack_packet(a->pcap, a->pcapng, a->st, now + a->wall_off, pkt, len, inbound);
}

static int open_captures(struct tunapp *a, const struct tunapp_opts *o, const char *cmd)
{
    if (glass_pcapw_open_both(cmd, o->pcap, o->pcapng, &a->pcap, &a->pcapng) < 0)
        return -1;
    struct timespec rt, mt;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mt);
    a->wall_off = ((glass_time_t)rt.tv_sec - (glass_time_t)mt.tv_sec) * GLASS_NSEC_PER_SEC +
                  (glass_time_t)rt.tv_nsec - (glass_time_t)mt.tv_nsec;
    return 0;
}

int tunapp_start(struct tunapp *a, const struct tunapp_opts *o, struct glass_loop_config *lc,
                 const char *cmd)
{
    memset(a, 0, sizeof *a);
    if (open_captures(a, o, cmd) < 0) {
        tunapp_stop(a);
        return -1;
    }
    if (o->netns != NULL && enter_netns(o->netns, cmd) < 0) {
        tunapp_stop(a);
        return -1;
    }
    unsigned tf = (o->offload ? GLASS_TUN_OFFLOAD : 0u) | (o->multi_queue ? GLASS_TUN_MULTI_QUEUE : 0u);
    int r = glass_tun_open_flags(o->tun, tf, &a->tun);
    if (r == -EINVAL && !o->multi_queue) /* a multi-queue device: one queue of it will do */
        r = glass_tun_open_flags(o->tun, tf | GLASS_TUN_MULTI_QUEUE, &a->tun);
    if (r < 0) {
        fprintf(stderr, "glass %s: cannot open TUN device '%s': %s%s\n", cmd, o->tun,
                strerror(-r),
                r == -EPERM ? " (needs CAP_NET_ADMIN: run as root)"
                : r == -EBUSY ? " (another process has it open)"
                : r == -EINVAL && o->multi_queue
                    ? " (--threads needs a multi-queue device: 'glass lab up --multi-queue')"
                    : "");
        tunapp_stop(a);
        return -1;
    }
    int mtu = glass_tun_mtu(a->tun);
    a->mtu = o->mtu != 0 ? o->mtu : (mtu >= 576 ? (unsigned)mtu : 1500u);

    struct glass_config cfg;
    glass_config_default(&cfg);
    glass_config_profile(&cfg, o->profile);
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)getpid() * 0x9E3779B97F4A7C15u ^ (uint64_t)glass_loop_now(NULL);
    cfg.seed = seed; /* RFC 6528: a secret key per run */
    if (o->sndbuf)
        cfg.sndbuf = o->sndbuf;
    if (o->rcvbuf)
        cfg.rcvbuf = o->rcvbuf;
    cfg.tx_csum_offload = glass_tun_offload(a->tun);
    /* TSO on output: the kernel segments what it is handed whole (docs/performance.md). */
    cfg.tso_max = o->tso_max >= 0 ? (uint32_t)o->tso_max : cfg.tx_csum_offload ? 65535u : 0u;
    cfg.syncookies = (uint8_t)o->syncookies;
    if (a->mtu - 40u < cfg.mss)
        cfg.mss = (uint16_t)(a->mtu - 40u);
    a->st = glass_stack_new(&cfg);
    if (a->st == NULL) {
        fprintf(stderr, "glass %s: cannot create the stack (bad buffer sizes or out of memory)\n",
                cmd);
        tunapp_stop(a);
        return -1;
    }
    r = glass_stack_add_iface(a->st, o->addr, o->prefix, a->mtu);
    if (r < 0) {
        fprintf(stderr, "glass %s: cannot add address: %s\n", cmd, glass_strerror(r));
        tunapp_stop(a);
        return -1;
    }
    if (o->verbose)
        glass_stack_set_observer(a->st, print_transition, NULL);
    glass_stack_advance(a->st, glass_loop_now(NULL));

    if (o->no_ctl)
        a->ctl[0] = '\0';
    else if (o->ctl != NULL)
        snprintf(a->ctl, sizeof a->ctl, "%s", o->ctl);
    else
        tunapp_default_ctl(glass_tun_name(a->tun), true, a->ctl);
    lc->stack = a->st;
    lc->tun = a->tun;
    if (a->pcap != NULL || a->pcapng != NULL) {
        capture_app = a;
        lc->on_packet = capture_packet;
    }
    lc->ctl_path = a->ctl;
    r = glass_loop_new(lc, &a->loop);
    if (r < 0) {
        fprintf(stderr, "glass %s: control socket %s: %s%s\n", cmd, a->ctl, strerror(-r),
                r == -EADDRINUSE ? " (another glass process is using it; see --ctl)" : "");
        tunapp_stop(a);
        return -1;
    }
    /* A device this process created is down: bring it up (harmless if it is up already). */
    glass_tun_set_up(a->tun);
    return 0;
}

void tunapp_stop(struct tunapp *a)
{
    if (glass_pcapw_close(a->pcap) != 0 || glass_pcapw_close(a->pcapng) != 0)
        fprintf(stderr, "glass: writing the capture failed\n");
    glass_loop_free(a->loop);
    glass_stack_free(a->st);
    glass_tun_close(a->tun);
    memset(a, 0, sizeof *a);
}

static bool all_closed(void *ctx)
{
    struct glass_stack *st = ctx;
    for (int s = 0; s < GLASS_TCP_NSTATES; s++) {
        if (s == GLASS_TCP_CLOSED || s == GLASS_TCP_TIME_WAIT || s == GLASS_TCP_LISTEN)
            continue;
        if (glass_stack_in_state(st, s) > 0)
            return false;
    }
    return true;
}

void tunapp_linger(struct tunapp *a, glass_time_t max)
{
    glass_loop_run_until(a->loop, glass_loop_now(a->loop) + max, all_closed, a->st);
}
