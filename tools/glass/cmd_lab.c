/* glass lab — a network namespace with a TUN device whose kernel side is 192.0.2.1/24, so the
 * stack can be tried against the machine's own kernel TCP in two commands:
 *
 *   glass lab up                      (as root)
 *   glass serve --netns glass --port 80 --http .
 *   ip netns exec glass curl http://192.0.2.2/
 *
 * It runs iproute2's `ip` (no shell), printing each command with -v. `glass lab down` removes
 * the namespace and the device. Only the documentation range 192.0.2.0/24 is used. */
#define _GNU_SOURCE
#include "cmds.h"
#include "tunapp.h"

#include <glass/wire.h>

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LAB_NETNS "glass"
#define LAB_ADDR "192.0.2.1/24"

static bool verbose;

/* Run `ip` with args (NULL-terminated). quiet: its stderr goes to /dev/null. Returns its exit
 * status, or -1 if it could not be run. */
static int run_ip(bool quiet, const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = "ip";
    for (size_t i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (verbose) {
        fprintf(stderr, "+");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %s", argv[i]);
        fprintf(stderr, "\n");
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (quiet) {
            FILE *devnull = freopen("/dev/null", "w", stderr);
            (void)devnull;
        }
        execvp("ip", (char *const *)argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        fprintf(stderr, "glass lab: cannot run 'ip' (install iproute2)\n");
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define IP(quiet, ...) run_ip(quiet, (const char *const[]){__VA_ARGS__, NULL})

static bool netns_exists(const char *ns)
{
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    struct stat sb;
    return stat(path, &sb) == 0;
}

static int lab_up(const char *ns, const char *tun, const char *addr, const char *user,
                  bool multi_queue)
{
    if (netns_exists(ns)) {
        fprintf(stderr, "glass lab: network namespace '%s' exists already ('glass lab down%s%s' "
                        "removes it)\n",
                ns, strcmp(ns, LAB_NETNS) ? " --netns " : "", strcmp(ns, LAB_NETNS) ? ns : "");
        return GLASS_EXIT_FAILED;
    }
    if (IP(false, "netns", "add", ns) != 0) {
        fprintf(stderr, "glass lab: cannot create network namespace '%s'%s\n", ns,
                geteuid() != 0 ? " (run as root)" : "");
        return GLASS_EXIT_FAILED;
    }
    /* A persistent TUN device: it stays when glass exits, so the address stays too. */
    const char *add[12] = {"-n", ns, "tuntap", "add", "dev", tun, "mode", "tun"};
    size_t na = 8;
    if (multi_queue) /* glass serve --threads: one queue per shard (docs/sharding.md) */
        add[na++] = "multi_queue";
    if (user != NULL) {
        add[na++] = "user";
        add[na++] = user;
    }
    add[na] = NULL;
    int r = run_ip(false, add);
    if (r == 0)
        r = IP(false, "-n", ns, "link", "set", "lo", "up");
    if (r == 0)
        r = IP(false, "-n", ns, "addr", "add", addr, "dev", tun);
    if (r == 0)
        r = IP(false, "-n", ns, "link", "set", tun, "up");
    if (r != 0) {
        fprintf(stderr, "glass lab: setting up '%s' failed; removing the namespace\n", ns);
        IP(true, "netns", "del", ns);
        return GLASS_EXIT_FAILED;
    }
    char glass_addr[32] = "192.0.2.2/24";
    uint32_t k;
    char a[20];
    const char *slash = strchr(addr, '/');
    size_t al = slash ? (size_t)(slash - addr) : strlen(addr);
    if (al < sizeof a) {
        memcpy(a, addr, al);
        a[al] = '\0';
        if (glass_ip4_parse(a, &k) == 0) {
            char b[16];
            /* suggest the next address of the prefix for the stack */
            snprintf(glass_addr, sizeof glass_addr, "%s%s", glass_ip4_str(k + 1, b),
                     slash ? slash : "/24");
        }
    }
    printf("glass lab: network namespace '%s' with TUN device %s, kernel side %s\n", ns, tun,
           addr);
    printf("next:\n  glass serve --netns %s --tun %s --addr %s --port 80 --http .\n", ns, tun,
           glass_addr);
    char gb[32];
    snprintf(gb, sizeof gb, "%s", glass_addr);
    char *gs = strchr(gb, '/');
    if (gs)
        *gs = '\0';
    printf("  ip netns exec %s curl http://%s/README.md\n", ns, gb);
    printf("  ip netns exec %s ss -tan; glass ss --tun %s\n", ns, tun);
    return GLASS_EXIT_OK;
}

static int lab_down(const char *ns, const char *tun)
{
    if (!netns_exists(ns)) {
        fprintf(stderr, "glass lab: no network namespace '%s'\n", ns);
        return GLASS_EXIT_FAILED;
    }
    IP(true, "-n", ns, "link", "del", tun);
    if (IP(false, "netns", "del", ns) != 0)
        return GLASS_EXIT_FAILED;
    if (!verbose)
        printf("glass lab: removed network namespace '%s'\n", ns);
    return GLASS_EXIT_OK;
}

static void lab_usage(FILE *f)
{
    fprintf(f,
            "usage: glass lab up [options]\n"
            "       glass lab down [--netns NAME] [--tun NAME]\n"
            "       glass lab status [--netns NAME] [--tun NAME]\n\n"
            "A network namespace with a TUN device whose kernel side is 192.0.2.1/24, for\n"
            "trying glasstcp against this machine's kernel (needs root). 'up' makes the\n"
            "namespace and the device (a persistent TUN that glass serve/connect then open),\n"
            "'down' removes both, 'status' shows the device's addresses. For example:\n\n"
            "  $ glass lab up\n"
            "  $ glass serve --netns glass --port 80 --http .\n"
            "  $ ip netns exec glass curl http://192.0.2.2/README.md\n\n"
            "options:\n"
            "  --netns NAME     namespace name (default %s)\n"
            "  --tun NAME       TUN device (default %s)\n"
            "  --addr A/N       the kernel side's address (default %s; keep to 192.0.2.0/24)\n"
            "  --user USER      let USER open the device (default: $SUDO_USER if set)\n"
            "  --multi-queue    a multi-queue device, for 'glass serve --threads N'\n"
            "  -v, --verbose    print the ip commands\n"
            "  -h, --help       this help\n\n"
            "Exit status: 0 ok, 1 failed (or, for status, no such namespace), 2 usage error.\n",
            LAB_NETNS, TUNAPP_DEFAULT_TUN, LAB_ADDR);
}

int glass_cmd_lab(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"netns", required_argument, NULL, 'n'}, {"tun", required_argument, NULL, 't'},
        {"addr", required_argument, NULL, 'a'},  {"user", required_argument, NULL, 'u'},
        {"verbose", no_argument, NULL, 'v'},     {"help", no_argument, NULL, 'h'},
        {"multi-queue", no_argument, NULL, 'm'}, {NULL, 0, NULL, 0},
    };
    bool multi_queue = false;
    const char *ns = LAB_NETNS, *tun = TUNAPP_DEFAULT_TUN, *addr = LAB_ADDR;
    const char *user = getenv("SUDO_USER");
    verbose = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (optarg[0] == '\0' || strchr(optarg, '/') != NULL || strlen(optarg) > 64) {
                fprintf(stderr, "glass lab: bad --netns '%s'\n", optarg);
                return GLASS_EXIT_USAGE;
            }
            ns = optarg;
            break;
        case 't':
            if (optarg[0] == '\0' || strchr(optarg, '/') != NULL || strlen(optarg) > 15) {
                fprintf(stderr, "glass lab: bad --tun '%s' (1 to 15 characters)\n", optarg);
                return GLASS_EXIT_USAGE;
            }
            tun = optarg;
            break;
        case 'a': {
            uint32_t a;
            char buf[20];
            const char *slash = strchr(optarg, '/');
            size_t al = slash ? (size_t)(slash - optarg) : strlen(optarg);
            unsigned long p;
            if (slash == NULL || al >= sizeof buf || !tunapp_parse_uint(slash + 1, 1, 30, &p)) {
                fprintf(stderr, "glass lab: bad --addr '%s' (want A.B.C.D/N)\n", optarg);
                return GLASS_EXIT_USAGE;
            }
            memcpy(buf, optarg, al);
            buf[al] = '\0';
            if (glass_ip4_parse(buf, &a) != 0) {
                fprintf(stderr, "glass lab: bad --addr '%s' (want A.B.C.D/N)\n", optarg);
                return GLASS_EXIT_USAGE;
            }
            addr = optarg;
            break;
        }
        case 'u':
            user = optarg;
            break;
        case 'm':
            multi_queue = true;
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            lab_usage(stdout);
            return GLASS_EXIT_OK;
        case ':':
            fprintf(stderr, "glass lab: option '%s' needs an argument\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        default:
            fprintf(stderr, "glass lab: unknown option '%s'; see 'glass lab --help'\n",
                    argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "glass lab: say 'up', 'down' or 'status'; see 'glass lab --help'\n");
        return GLASS_EXIT_USAGE;
    }
    const char *what = argv[optind];
    if (user != NULL && (user[0] == '\0' || getpwnam(user) == NULL))
        user = NULL;
    if (strcmp(what, "up") == 0)
        return lab_up(ns, tun, addr, user, multi_queue);
    if (strcmp(what, "down") == 0)
        return lab_down(ns, tun);
    if (strcmp(what, "status") == 0) {
        if (!netns_exists(ns)) {
            printf("glass lab: no network namespace '%s'\n", ns);
            return GLASS_EXIT_FAILED;
        }
        return IP(false, "-n", ns, "addr", "show", "dev", tun) == 0 ? GLASS_EXIT_OK
                                                                     : GLASS_EXIT_FAILED;
    }
    fprintf(stderr, "glass lab: unknown action '%s' (up, down or status)\n", what);
    return GLASS_EXIT_USAGE;
}
