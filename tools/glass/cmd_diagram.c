/* glass diagram — the RFC 9293 state diagram as Graphviz DOT (or SVG/PNG through `dot`), drawn
 * from the same legal-arc table the stack enforces, arcs labelled with their event / action and,
 * with --counts, weighted and coloured by how often each was taken. */
#define _POSIX_C_SOURCE 200809L
#include "cmds.h"
#include "out.h"

#include <glass/glass.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

struct counts {
    bool have;
    uint64_t arc[32];
    uint64_t max;
};

/* Read every {"from":"A","to":"B","taken":N ...} object in text (the coverage line of
 * `glass demo --json`, or any JSON that lists arcs the same way). Returns the arcs found. */
static int parse_counts(const char *text, struct counts *c)
{
    int found = 0;
    const char *p = text;
    while ((p = strstr(p, "\"from\":\"")) != NULL) {
        char from[32], to[32];
        unsigned long long taken;
        if (sscanf(p, "\"from\":\"%31[^\"]\",\"to\":\"%31[^\"]\",\"taken\":%llu", from, to,
                   &taken) == 3) {
            int arc = glass_tcp_arc_find(glass_tcp_state_parse(from), glass_tcp_state_parse(to));
            if (arc >= 0) {
                c->arc[arc] += taken;
                if (c->arc[arc] > c->max)
                    c->max = c->arc[arc];
                found++;
            }
        }
        p += 8;
    }
    c->have = found > 0;
    return found;
}

static char *slurp(FILE *f)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    buf[len] = '\0';
    return buf;
}

static void emit_dot(struct out_buf *b, const struct counts *c)
{
    out_puts(b, "digraph tcp {\n"
                "  graph [rankdir=TB, fontname=\"Helvetica\", label=\"TCP connection states "
                "(RFC 9293 Figure 5 + the reset, abort and timeout exits)\", labelloc=t];\n"
                "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef4ff\", "
                "fontname=\"Helvetica\"];\n"
                "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (int s = 0; s < GLASS_TCP_NSTATES; s++) {
        out_printf(b, "  %s [label=\"%s\"%s];\n", glass_tcp_state_name(s), glass_tcp_state_name(s),
                   s == GLASS_TCP_CLOSED ? ", style=\"rounded,dashed\", fillcolor=white" : "");
    }
    /* RFC 9293's figure places these on the same rows. */
    out_puts(b, "  { rank=same; SYN_SENT; SYN_RCVD; }\n"
                "  { rank=same; FIN_WAIT_1; CLOSE_WAIT; }\n"
                "  { rank=same; FIN_WAIT_2; CLOSING; LAST_ACK; }\n");
    for (size_t i = 0; i < glass_tcp_arc_count(); i++) {
        const struct glass_arc *a = glass_tcp_arc(i);
        out_printf(b, "  %s -> %s [label=\"%s", glass_tcp_state_name(a->from),
                   glass_tcp_state_name(a->to), a->label);
        if (c->have) {
            uint64_t n = c->arc[i];
            out_printf(b, "\\n×%llu\"", (unsigned long long)n);
            if (n == 0) {
                out_puts(b, ", color=gray60, fontcolor=gray50, style=dashed");
            } else {
                /* width and colour grow with the log of the count: a heat map of the figure */
                double w = 1.0 + 4.0 * log((double)n + 1.0) / log((double)c->max + 1.0);
                int red = (int)(80 + 175 * (w - 1.0) / 4.0);
                out_printf(b, ", penwidth=%.2f, color=\"#%02x3030\"", w, red);
            }
        } else {
            out_putc(b, '"');
        }
        out_puts(b, "];\n");
    }
    out_puts(b, "}\n");
}

/* Render DOT with Graphviz's dot into path. */
static int render(const char *dot_text, const char *format, const char *path)
{
    char cmd[4096];
    if (snprintf(cmd, sizeof cmd, "dot -T%s -o '%s'", format, path) >= (int)sizeof cmd ||
        strchr(path, '\'') != NULL) {
        fprintf(stderr, "glass diagram: output path not usable: %s\n", path);
        return GLASS_EXIT_FAILED;
    }
    FILE *p = popen(cmd, "w");
    if (p == NULL) {
        fprintf(stderr, "glass diagram: cannot run dot: %s\n", strerror(errno));
        return GLASS_EXIT_FAILED;
    }
    fputs(dot_text, p);
    int st = pclose(p);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "glass diagram: dot failed (is graphviz installed? make deps)\n");
        return GLASS_EXIT_FAILED;
    }
    return GLASS_EXIT_OK;
}

static void usage(FILE *f)
{
    fputs("usage: glass diagram [--counts FILE|-] [--format dot|svg|png] [-o FILE]\n\n"
          "The TCP state diagram drawn from the table of legal arcs the stack enforces (the\n"
          "11 states, the 26 arcs labelled with their events), as Graphviz DOT. With\n"
          "--counts, each arc is labelled with how often it was taken and drawn thicker the\n"
          "more it was; arcs never taken are dashed.\n\n"
          "options:\n"
          "  --counts FILE  weight the arcs by the counts in FILE (JSON with\n"
          "                 {\"from\":..,\"to\":..,\"taken\":N} objects, e.g. the last line of\n"
          "                 `glass demo --json`); - reads standard input\n"
          "  --format F     dot (default), svg or png (rendered with Graphviz's dot)\n"
          "  -o FILE        write to FILE (required for png; default standard output)\n"
          "  -h, --help     this help\n\n"
          "Exit status: 0 ok, 1 unreadable counts or Graphviz failed, 2 usage error.\n",
          f);
}

int glass_cmd_diagram(int argc, char **argv)
{
    static const struct option opts[] = {
        {"counts", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *counts_path = NULL, *format = "dot", *out_path = NULL;
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":c:f:o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            counts_path = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return GLASS_EXIT_OK;
        case ':':
            fprintf(stderr, "glass diagram: option %s needs a value\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        default:
            fprintf(stderr, "glass diagram: unknown option %s\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "glass diagram: unexpected argument %s\n", argv[optind]);
        return GLASS_EXIT_USAGE;
    }
    bool dot = strcmp(format, "dot") == 0;
    if (!dot && strcmp(format, "svg") != 0 && strcmp(format, "png") != 0) {
        fprintf(stderr, "glass diagram: unknown format %s (dot, svg or png)\n", format);
        return GLASS_EXIT_USAGE;
    }
    if (strcmp(format, "png") == 0 && out_path == NULL) {
        fprintf(stderr, "glass diagram: --format png needs -o FILE\n");
        return GLASS_EXIT_USAGE;
    }
    struct counts c;
    memset(&c, 0, sizeof c);
    if (counts_path != NULL) {
        FILE *f = strcmp(counts_path, "-") == 0 ? stdin : fopen(counts_path, "r");
        if (f == NULL) {
            fprintf(stderr, "glass diagram: cannot read %s: %s\n", counts_path, strerror(errno));
            return GLASS_EXIT_FAILED;
        }
        char *text = slurp(f);
        if (f != stdin)
            fclose(f);
        int n = text != NULL ? parse_counts(text, &c) : 0;
        free(text);
        if (n == 0) {
            fprintf(stderr, "glass diagram: no arc counts found in %s\n", counts_path);
            return GLASS_EXIT_FAILED;
        }
    }
    struct out_buf b;
    out_init(&b);
    emit_dot(&b, &c);
    int rc = GLASS_EXIT_OK;
    if (b.oom) {
        fprintf(stderr, "glass diagram: out of memory\n");
        rc = GLASS_EXIT_FAILED;
    } else if (dot) {
        FILE *f = out_path != NULL ? fopen(out_path, "w") : stdout;
        if (f == NULL) {
            fprintf(stderr, "glass diagram: cannot write %s: %s\n", out_path, strerror(errno));
            rc = GLASS_EXIT_FAILED;
        } else {
            fputs(b.p, f);
            if (f != stdout && fclose(f) != 0)
                rc = GLASS_EXIT_FAILED;
        }
    } else {
        rc = render(b.p, format, out_path != NULL ? out_path : "/dev/stdout");
    }
    out_free(&b);
    return rc;
}
