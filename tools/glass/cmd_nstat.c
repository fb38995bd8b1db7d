/* glass nstat — the MIB counters of a running stack (glass serve / glass connect), read through
 * its control socket ("mib", docs/control.md), with Linux nstat's names and layout:
 *
 *   #kernel
 *   TcpActiveOpens                  1                  0.0
 *
 * Values are absolute (like `nstat -a`); the rate column is 0.0 since no history is kept.
 * Counters that are zero are left out unless -z, as nstat does. --drops adds the drop reasons
 * (SKB_DROP_REASON_* names), --json prints {"kernel": {...}} as `nstat --json` does. */
#define _GNU_SOURCE
#include "cmds.h"
#include "ctl_client.h"
#include "out.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void nstat_usage(FILE *f)
{
    fputs("usage: glass nstat [--tun NAME | --ctl PATH] [-z] [--drops] [--json]\n\n"
          "The counters of a running glass serve/connect, read through its control socket,\n"
          "under Linux nstat's names and in its layout (NAME VALUE): TcpActiveOpens,\n"
          "TcpPassiveOpens, TcpEstabResets, TcpExtTW, ... (docs/control.md lists them).\n\n"
          "options:\n"
          "  -z, --zeros   also counters that are zero\n"
          "  --drops       also the packets dropped, per Linux SKB_DROP_REASON_* name\n"
          "  --json        {\"kernel\": {NAME: VALUE, ...}} like nstat --json\n"
          "  --tun NAME    the stack on TUN device NAME (default: the only one running)\n"
          "  --ctl PATH    the control socket to read\n"
          "  -h, --help    this help\n\n"
          "Exit status: 0 ok, 1 no stack running or no answer, 2 usage error.\n",
          f);
}

/* Print every {"KEYNAME": "...", "value": N} line of a reply. Returns how many lines. */
static int emit(const char *reply, const char *key, bool zeros, bool json, bool *first,
                struct out_buf *b)
{
    int n = 0;
    const char *line = reply;
    while (line != NULL && *line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t l = nl != NULL ? (size_t)(nl - line) : strlen(line);
        char obj[512], name[128], value[32];
        if (l > 0 && l < sizeof obj && line[0] == '{') {
            memcpy(obj, line, l);
            obj[l] = '\0';
            if (glass_ctl_json_get(obj, key, name, sizeof name) &&
                glass_ctl_json_get(obj, "value", value, sizeof value)) {
                unsigned long long v = strtoull(value, NULL, 10);
                n++;
                if (v != 0 || zeros) {
                    if (json) {
                        out_puts(b, *first ? "" : ",");
                        out_json_str(b, name);
                        out_printf(b, ":%llu", v);
                    } else {
                        out_printf(b, "%-31s %-18llu %.1f\n", name, v, 0.0);
                    }
                    *first = false;
                }
            }
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return n;
}

int glass_cmd_nstat(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tun", required_argument, NULL, 't'},   {"ctl", required_argument, NULL, 'c'},
        {"zeros", no_argument, NULL, 'z'},       {"drops", no_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tun = NULL, *ctl = NULL;
    bool zeros = false, drops = false, json = false;
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":t:c:zh", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            tun = optarg;
            break;
        case 'c':
            ctl = optarg;
            break;
        case 'z':
            zeros = true;
            break;
        case 'd':
            drops = true;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            nstat_usage(stdout);
            return GLASS_EXIT_OK;
        case ':':
            fprintf(stderr, "glass nstat: option %s needs a value\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        default:
            fprintf(stderr, "glass nstat: unknown option %s\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "glass nstat: unexpected argument %s\n", argv[optind]);
        return GLASS_EXIT_USAGE;
    }
    char pbuf[TUNAPP_CTL_MAX];
    const char *path = ctl != NULL ? ctl : glass_ctl_find("nstat", tun, pbuf);
    if (path == NULL)
        return GLASS_EXIT_FAILED;
    size_t len;
    char *mib = glass_ctl_query(path, "mib", &len);
    if (mib == NULL) {
        fprintf(stderr, "glass nstat: cannot read %s: %s\n", path, strerror(errno));
        return GLASS_EXIT_FAILED;
    }
    char *drop = drops ? glass_ctl_query(path, "drops", &len) : NULL;
    if (drops && drop == NULL) {
        fprintf(stderr, "glass nstat: cannot read %s: %s\n", path, strerror(errno));
        free(mib);
        return GLASS_EXIT_FAILED;
    }
    struct out_buf b;
    out_init(&b);
    bool first = true;
    out_puts(&b, json ? "{\"kernel\":{" : "#kernel\n");
    int n = emit(mib, "name", zeros, json, &first, &b);
    if (drop != NULL) {
        if (!json)
            out_puts(&b, "#drops\n");
        n += emit(drop, "reason", zeros, json, &first, &b);
    }
    if (json)
        out_puts(&b, "}}\n");
    free(mib);
    free(drop);
    if (n == 0) {
        fprintf(stderr, "glass nstat: %s answered no counters\n", path);
        out_free(&b);
        return GLASS_EXIT_FAILED;
    }
    out_flush(&b, stdout);
    out_free(&b);
    return GLASS_EXIT_OK;
}
