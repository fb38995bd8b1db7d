/* glass ss — the connections of a running stack (glass serve / glass connect), read through
 * its control socket ("conns", docs/control.md), in iproute2 ss's layout and state spellings:
 *
 *   State  Recv-Q Send-Q Local Address:Port Peer Address:Port
 *
 * As ss: connected sockets by default (not LISTEN, not UNCONN), -l listening only, -a all,
 * -o timers as timer:(on,200ms,0). --json prints the control socket's JSON objects. */
#define _GNU_SOURCE
#include "cmds.h"
#include "ctl_client.h"
#include "tunapp.h"

#include <glass/trace.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* iproute2's print_ms_timer: 355ms, 1.250ms (1 s 250 ms), 43sec, 2min5sec, 119min. */
static void ms_timer(unsigned long timeout, char *buf, size_t cap)
{
    unsigned long secs = timeout / 1000, minutes = secs / 60, msecs = timeout % 1000;
    size_t n = 0;
    buf[0] = '\0';
    secs %= 60;
    if (minutes) {
        msecs = 0;
        n += (size_t)snprintf(buf + n, cap - n, "%lumin", minutes);
        if (minutes > 9)
            secs = 0;
    }
    if (secs && n < cap) {
        if (secs > 9)
            msecs = 0;
        n += (size_t)snprintf(buf + n, cap - n, "%lu%s", secs, msecs ? "." : "sec");
    }
    if (msecs && n < cap)
        snprintf(buf + n, cap - n, "%03lums", msecs);
}

struct row {
    char state[16], recvq[16], sendq[16], local[32], peer[32], timer[64];
};

static void ss_usage(FILE *f)
{
    fprintf(f,
            "usage: glass ss [-l | -a] [-o] [-H] [--json] [--tun NAME | --ctl PATH]\n\n"
            "The connections of a running glass serve/connect, read through its control socket,\n"
            "in iproute2 ss's layout and state names (ESTAB, SYN-RECV, TIME-WAIT, ...).\n\n"
            "  -l, --listening  listening sockets only\n"
            "  -a, --all        every socket (default: connected ones, as ss)\n"
            "  -o, --options    timers, as timer:(on,200ms,0)\n"
            "  -H, --no-header  no header line\n"
            "  -n, --numeric    accepted for ss compatibility (always numeric)\n"
            "  --json           one JSON object per connection (the control socket's format)\n"
            "  --tun NAME       the stack on TUN device NAME (default: the only one running)\n"
            "  --ctl PATH       the control socket to read\n");
}

int glass_cmd_ss(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listening", no_argument, NULL, 'l'}, {"all", no_argument, NULL, 'a'},
        {"options", no_argument, NULL, 'o'},   {"no-header", no_argument, NULL, 'H'},
        {"numeric", no_argument, NULL, 'n'},   {"json", no_argument, NULL, 'j'},
        {"tun", required_argument, NULL, 'T'}, {"ctl", required_argument, NULL, 'C'},
        {"tcp", no_argument, NULL, 't'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool listening = false, all = false, timers = false, header = true, json = false;
    const char *tun = NULL, *ctl = NULL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":laoHnth", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listening = true;
            break;
        case 'a':
            all = true;
            break;
        case 'o':
            timers = true;
            break;
        case 'H':
            header = false;
            break;
        case 'n':
        case 't':
            break;
        case 'j':
            json = true;
            break;
        case 'T':
            tun = optarg;
            break;
        case 'C':
            ctl = optarg;
            break;
        case 'h':
            ss_usage(stdout);
            return GLASS_EXIT_OK;
        case ':':
            fprintf(stderr, "glass ss: option '%s' needs an argument\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        default:
            fprintf(stderr, "glass ss: unknown option '%s'; see 'glass ss --help'\n",
                    argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "glass ss: unexpected argument '%s' (filters are not supported yet)\n",
                argv[optind]);
        return GLASS_EXIT_USAGE;
    }
    char pbuf[TUNAPP_CTL_MAX];
    const char *path = ctl != NULL ? ctl : glass_ctl_find("ss", tun, pbuf);
    if (path == NULL)
        return GLASS_EXIT_FAILED;
    size_t len = 0;
    char *reply = glass_ctl_query(path, "conns", &len);
    if (reply == NULL) {
        fprintf(stderr, "glass ss: cannot read control socket %s: %s (is glass serve/connect "
                        "running? see --ctl)\n",
                path, strerror(errno));
        return GLASS_EXIT_FAILED;
    }
    size_t nrows = 0, cap = 64;
    struct row *rows = malloc(cap * sizeof *rows);
    struct row hdr = {"State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", ""};
    int status = GLASS_EXIT_OK;
    for (char *line = strtok(reply, "\n"); line != NULL && rows != NULL;
         line = strtok(NULL, "\n")) {
        if (strcmp(line, ".") == 0)
            break;
        char err[256];
        if (glass_ctl_json_get(line, "error", err, sizeof err)) {
            fprintf(stderr, "glass ss: %s\n", err);
            status = GLASS_EXIT_FAILED;
            continue;
        }
        char state[32] = "";
        glass_ctl_json_get(line, "state", state, sizeof state);
        int s = glass_tcp_state_parse(state);
        bool is_listen = s == GLASS_TCP_LISTEN;
        bool is_closed = s == GLASS_TCP_CLOSED;
        if (!all && (listening ? !is_listen : (is_listen || is_closed)))
            continue;
        if (json) {
            printf("%s\n", line);
            continue;
        }
        if (nrows == cap) {
            struct row *nr = realloc(rows, 2 * cap * sizeof *rows);
            if (nr == NULL)
                break;
            rows = nr;
            cap *= 2;
        }
        struct row *r = &rows[nrows++];
        memset(r, 0, sizeof *r);
        snprintf(r->state, sizeof r->state, "%.15s", s >= 0 ? glass_tcp_state_ss_name(s) : state);
        glass_ctl_json_get(line, "recv_q", r->recvq, sizeof r->recvq);
        glass_ctl_json_get(line, "send_q", r->sendq, sizeof r->sendq);
        glass_ctl_json_get(line, "local", r->local, sizeof r->local);
        glass_ctl_json_get(line, "peer", r->peer, sizeof r->peer);
        char tname[32] = "", tms[32] = "", retr[16] = "0";
        if (timers && glass_ctl_json_get(line, "timer", tname, sizeof tname) && strcmp(tname, "null") != 0) {
            glass_ctl_json_get(line, "timer_ms", tms, sizeof tms);
            glass_ctl_json_get(line, "retrans", retr, sizeof retr);
            char t[32];
            ms_timer(strtoul(tms, NULL, 10), t, sizeof t);
            snprintf(r->timer, sizeof r->timer, "timer:(%.12s,%.12s,%.6s)", tname, t, retr);
        }
    }
    if (!json && rows != NULL) {
        size_t w[5] = {strlen(hdr.state), strlen(hdr.recvq), strlen(hdr.sendq),
                       strlen(hdr.local), strlen(hdr.peer)};
        for (size_t i = 0; i < nrows; i++) {
            const char *f[5] = {rows[i].state, rows[i].recvq, rows[i].sendq, rows[i].local,
                                rows[i].peer};
            for (int k = 0; k < 5; k++)
                if (strlen(f[k]) > w[k])
                    w[k] = strlen(f[k]);
        }
        if (header)
            printf("%-*s %-*s %-*s %*s %*s\n", (int)w[0], hdr.state, (int)w[1], hdr.recvq,
                   (int)w[2], hdr.sendq, (int)w[3], hdr.local, (int)w[4], hdr.peer);
        for (size_t i = 0; i < nrows; i++) {
            const struct row *r = &rows[i];
            printf("%-*s %-*s %-*s %*s %*s%s%s\n", (int)w[0], r->state, (int)w[1], r->recvq,
                   (int)w[2], r->sendq, (int)w[3], r->local, (int)w[4], r->peer,
                   r->timer[0] ? " " : "", r->timer);
        }
    }
    free(rows);
    free(reply);
    return status;
}
