/* glass pkt — run packetdrill scripts against one glasstcp stack in virtual time.
 *
 *   glass pkt [--verbose] [--seed N] [--tolerance_usecs N] [--tolerance_percent P]
 *             [--profile linux|rfc] [--pending FILE] [--no-pending] PATH...
 *
 * PATH is a script or a directory (searched recursively for *.pkt, in name order). A
 * directory's PENDING file lists scripts expected to fail for now, one per line:
 * `relative/path.pkt  reason`; they run, and count as skipped with their reason.
 *
 * Output: one line per script (ok / FAIL with the first mismatch / skip with the reason), then
 * exactly `N passed, N failed, N skipped`. Exit status: 0 if none failed, 1 if any failed, 2 on
 * a usage or syntax error (file:line:column: message on stderr). */
#define _XOPEN_SOURCE 700

#include "cmds.h"
#include "out.h"
#include "pkt.h"

#include <glass/config.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SCRIPT_BYTES (16u << 20)

struct pending_entry {
    char *path; /* canonical */
    char *reason;
};

struct strvec {
    char **v;
    size_t n, cap;
};

static int strvec_push(struct strvec *sv, char *s)
{
    if (sv->n == sv->cap) {
        size_t ncap = sv->cap ? sv->cap * 2 : 64;
        char **nv = realloc(sv->v, ncap * sizeof *nv);
        if (nv == NULL)
            return -1;
        sv->v = nv;
        sv->cap = ncap;
    }
    sv->v[sv->n++] = s;
    return 0;
}

static void strvec_free(struct strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, a);
    size_t o = a;
    if (a > 0 && dir[a - 1] != '/')
        p[o++] = '/';
    memcpy(p + o, name, b + 1);
    return p;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Every *.pkt under dir, sorted. */
static int collect_dir(const char *dir, struct strvec *out, int depth)
{
    if (depth > 16)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "glass pkt: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct strvec names = {0};
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *p = join(dir, de->d_name);
        if (p == NULL || strvec_push(&names, p) < 0) {
            free(p);
            rc = -1;
            break;
        }
    }
    closedir(d);
    qsort(names.v, names.n, sizeof names.v[0], cmp_str);
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        struct stat sb;
        if (stat(names.v[i], &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            rc = collect_dir(names.v[i], out, depth + 1);
        } else if (S_ISREG(sb.st_mode) && ends_with(names.v[i], ".pkt")) {
            char *p = strdup(names.v[i]);
            if (p == NULL || strvec_push(out, p) < 0) {
                free(p);
                rc = -1;
            }
        }
    }
    strvec_free(&names);
    return rc;
}

static int load_pending(const char *file, struct pending_entry **tab, size_t *n, size_t *cap)
{
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "glass pkt: %s: %s\n", file, strerror(errno));
        return -1;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t l = strlen(p);
        while (l > 0 && (p[l - 1] == '\n' || p[l - 1] == '\r' || p[l - 1] == ' '))
            p[--l] = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        char *sp = p;
        while (*sp != '\0' && *sp != ' ' && *sp != '\t')
            sp++;
        char *reason = sp;
        if (*sp != '\0') {
            *sp = '\0';
            reason = sp + 1;
            while (*reason == ' ' || *reason == '\t')
                reason++;
        }
        char *rel = join(dir, p);
        char canon[PATH_MAX];
        if (rel == NULL) {
            fclose(f);
            return -1;
        }
        if (realpath(rel, canon) == NULL) {
            fprintf(stderr, "glass pkt: %s:%d: warning: no script %s\n", file, lineno, rel);
            free(rel);
            continue;
        }
        free(rel);
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 32;
            struct pending_entry *nt = realloc(*tab, ncap * sizeof *nt);
            if (nt == NULL) {
                fclose(f);
                return -1;
            }
            *tab = nt;
            *cap = ncap;
        }
        (*tab)[*n].path = strdup(canon);
        (*tab)[*n].reason = strdup(*reason ? reason : "pending");
        if ((*tab)[*n].path == NULL || (*tab)[*n].reason == NULL) {
            free((*tab)[*n].path);
            free((*tab)[*n].reason);
            fclose(f);
            return -1;
        }
        (*n)++;
    }
    fclose(f);
    return 0;
}

static const char *pending_reason(const struct pending_entry *tab, size_t n, const char *path)
{
    char canon[PATH_MAX];
    if (realpath(path, canon) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(tab[i].path, canon) == 0)
            return tab[i].reason;
    return NULL;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n == cap) {
            if (cap >= MAX_SCRIPT_BYTES) {
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (buf != NULL && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: glass pkt [--verbose] [--seed N] [--tolerance_usecs N] "
            "[--tolerance_percent P]\n"
            "                 [--profile linux|rfc] [--pending FILE] [--no-pending] PATH...\n\n"
            "Run packetdrill scripts against one glasstcp stack in virtual time (local "
            "192.168.0.1,\nremote 192.0.2.1, port 8080). PATH is a script or a directory of "
            "*.pkt scripts; a\ndirectory's PENDING file lists scripts expected to fail for now "
            "(`path reason`).\n\n"
            "options:\n"
            "  -v, --verbose            print every event with the connection's state after it\n"
            "      --seed N             the stack's seed (ISNs, ports); default 1\n"
            "      --tolerance_usecs N  timing tolerance, default 4000 (packetdrill's)\n"
            "      --tolerance_percent P  tolerance as a share of the time since the previous "
            "event, default 12.5\n"
            "      --profile NAME       timer profile: linux (default) or rfc\n"
            "      --pending FILE       a manifest of scripts expected to fail (besides "
            "DIR/PENDING)\n"
            "      --no-pending         ignore PENDING manifests: run and count every script\n"
            "      --pcap FILE          write every packet the stack sends and receives (pcap)\n"
            "      --pcapng FILE        the same in pcapng, each packet commented with the state\n"
            "                           of its connection after it\n\n"
            "Prints one line per script, then `N passed, N failed, N skipped`. Exit status 0 "
            "if none\nfailed, 1 if any failed, 2 on a usage or syntax error.\n"
            "See docs/conformance.md.\n");
}

int glass_cmd_pkt(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"verbose", no_argument, NULL, 'v'},
        {"seed", required_argument, NULL, 's'},
        {"tolerance_usecs", required_argument, NULL, 't'},
        {"tolerance_percent", required_argument, NULL, 'p'},
        {"profile", required_argument, NULL, 'P'},
        {"pending", required_argument, NULL, 'm'},
        {"no-pending", no_argument, NULL, 'n'},
        {"pcap", required_argument, NULL, 'c'},
        {"pcapng", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct pkt_run_opts ro = {.verbose = false, .seed = 1, .tolerance_us = 4000,
                              .tolerance_pct = 12.5, .profile = GLASS_PROFILE_LINUX};
    struct strvec manifests = {0};
    bool use_pending = true;
    const char *pcap_path = NULL, *pcapng_path = NULL;
    int rc = GLASS_EXIT_OK;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'v':
            ro.verbose = true;
            break;
        case 's':
            errno = 0;
            ro.seed = strtoull(optarg, &end, 0);
            if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-') {
                fprintf(stderr, "glass pkt: bad --seed '%s'\n", optarg);
                strvec_free(&manifests);
                return GLASS_EXIT_USAGE;
            }
            break;
        case 't': {
            errno = 0;
            long long v = strtoll(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || v <= 0 || v > 1000000000LL) {
                fprintf(stderr, "glass pkt: bad --tolerance_usecs '%s'\n", optarg);
                strvec_free(&manifests);
                return GLASS_EXIT_USAGE;
            }
            ro.tolerance_us = v;
            break;
        }
        case 'p': {
            double v = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(v >= 0.0 && v <= 100.0)) {
                fprintf(stderr, "glass pkt: bad --tolerance_percent '%s'\n", optarg);
                strvec_free(&manifests);
                return GLASS_EXIT_USAGE;
            }
            ro.tolerance_pct = v;
            break;
        }
        case 'P': {
            enum glass_profile prof;
            if (glass_profile_parse(optarg, &prof) != 0) {
                fprintf(stderr, "glass pkt: unknown profile '%s' (linux or rfc)\n", optarg);
                strvec_free(&manifests);
                return GLASS_EXIT_USAGE;
            }
            ro.profile = (int)prof;
            break;
        }
        case 'm': {
            char *p = strdup(optarg);
            if (p == NULL || strvec_push(&manifests, p) < 0) {
                free(p);
                strvec_free(&manifests);
                return GLASS_EXIT_FAILED;
            }
            break;
        }
        case 'n':
            use_pending = false;
            break;
        case 'c':
            pcap_path = optarg;
            break;
        case 'g':
            pcapng_path = optarg;
            break;
        case 'h':
            usage(stdout);
            strvec_free(&manifests);
            return GLASS_EXIT_OK;
        default:
            if (optopt != 0 && optopt != '?')
                fprintf(stderr, "glass pkt: option '-%c' is unknown or needs a value; see "
                                "'glass pkt --help'\n", optopt);
            else
                fprintf(stderr, "glass pkt: unknown option '%s' or missing value; see "
                                "'glass pkt --help'\n", argv[optind - 1]);
            strvec_free(&manifests);
            return GLASS_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "glass pkt: no script given; see 'glass pkt --help'\n");
        strvec_free(&manifests);
        return GLASS_EXIT_USAGE;
    }

    /* --pcap/--pcapng: every script's packets one after the other (each starts a second after
     * the previous one's last packet); pcapng comments give our stack's state after each. */
    if (glass_pcapw_open_both("pkt", pcap_path, pcapng_path, &ro.pcap, &ro.pcapng) < 0) {
        strvec_free(&manifests);
        return GLASS_EXIT_FAILED;
    }
    struct strvec files = {0};
    for (int i = optind; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "glass pkt: %s: %s\n", argv[i], strerror(errno));
            rc = GLASS_EXIT_USAGE;
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (collect_dir(argv[i], &files, 0) < 0)
                rc = GLASS_EXIT_USAGE;
            char *m = join(argv[i], "PENDING");
            if (m == NULL || strvec_push(&manifests, m) < 0)
                free(m);
        } else {
            char *p = strdup(argv[i]);
            if (p == NULL || strvec_push(&files, p) < 0)
                free(p);
        }
    }
    struct pending_entry *pend = NULL;
    size_t npend = 0, cappend = 0;
    if (use_pending) {
        for (size_t i = 0; i < manifests.n; i++)
            if (load_pending(manifests.v[i], &pend, &npend, &cappend) < 0)
                rc = GLASS_EXIT_USAGE;
    }

    unsigned passed = 0, failed = 0, skipped = 0;
    bool syntax_error = false;
    struct out_buf msg, log;
    out_init(&msg);
    out_init(&log);
    for (size_t i = 0; i < files.n; i++) {
        const char *path = files.v[i];
        size_t len = 0;
        char *src = read_file(path, &len);
        if (src == NULL) {
            printf("FAIL    %s: cannot read: %s\n", path, strerror(errno));
            failed++;
            continue;
        }
        struct pkt_script s;
        char err[512];
        if (pkt_parse(path, src, len, &s, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            printf("FAIL    %s\n", err);
            syntax_error = true;
            failed++;
            free(src);
            continue;
        }
        out_reset(&msg);
        out_reset(&log);
        glass_time_t last = ro.pcap != NULL ? glass_pcapw_last(ro.pcap)
                            : ro.pcapng != NULL ? glass_pcapw_last(ro.pcapng) : 0;
        ro.pcap_base = last != 0 ? last + GLASS_SEC(1) : 0;
        enum pkt_outcome o = pkt_run(&s, &ro, &msg, &log);
        const char *pr = pending_reason(pend, npend, path);
        if (ro.verbose && log.len > 0) {
            fputs(log.p, stdout);
        }
        if (pr != NULL) {
            skipped++;
            if (o == PKT_PASS)
                printf("skip    %s: pending: %s [passes now: remove it from PENDING]\n", path,
                       pr);
            else if (o == PKT_FAIL)
                printf("skip    %s: pending: %s [fails: %s]\n", path, pr, msg.p ? msg.p : "");
            else
                printf("skip    %s: pending: %s [%s]\n", path, pr, msg.p ? msg.p : "");
        } else if (o == PKT_PASS) {
            passed++;
            printf("ok      %s\n", path);
        } else if (o == PKT_SKIP) {
            skipped++;
            printf("skip    %s: %s\n", path, msg.p ? msg.p : "");
        } else {
            failed++;
            printf("FAIL    %s\n", msg.p ? msg.p : path);
        }
        fflush(stdout);
        pkt_script_free(&s);
        free(src);
    }
    printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
    if (glass_pcapw_close(ro.pcap) != 0 || glass_pcapw_close(ro.pcapng) != 0) {
        fprintf(stderr, "glass pkt: writing the capture failed\n");
        failed++;
    }
    out_free(&msg);
    out_free(&log);
    for (size_t i = 0; i < npend; i++) {
        free(pend[i].path);
        free(pend[i].reason);
    }
    free(pend);
    strvec_free(&files);
    strvec_free(&manifests);
    if (syntax_error || rc == GLASS_EXIT_USAGE)
        return GLASS_EXIT_USAGE;
    if (failed > 0)
        return GLASS_EXIT_FAILED;
    return GLASS_EXIT_OK;
}
