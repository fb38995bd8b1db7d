/* glass — the glasstcp command line: git-style subcommands (DESIGN.md "The glass CLI").
 *
 *   glass [--version | --help] <command> [<args>]
 *
 * Exit status: 0 ok, 1 failed, 2 usage error (one line on stderr naming the problem). */
#include "cmds.h"

#include <glass/version.h>

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"demo", glass_cmd_demo,
     "run TCP state-machine scenarios between two stacks and draw ladder diagrams"},
    {"serve", glass_cmd_serve, "a server (echo, discard, HTTP) on the stack over a TUN device"},
    {"connect", glass_cmd_connect, "a client on the stack over a TUN device: stdin/stdout, like nc"},
    {"lab", glass_cmd_lab, "make (up) or remove (down) a netns with a TUN device to try glass in"},
    {"ss", glass_cmd_ss, "the connections of a running glass serve/connect, as ss shows them"},
    {"sim", glass_cmd_sim, "a verified bulk transfer over the impaired simulated link"},
    {"flood", glass_cmd_flood, "a SYN flood at a listener while clients connect (simulated)"},
    {"trace", glass_cmd_trace, "infer both ends' TCP states from a pcap/pcapng capture"},
    {"pkt", glass_cmd_pkt, "run packetdrill scripts against the stack in virtual time"},
    {"nstat", glass_cmd_nstat, "the counters of a running glass serve/connect, as nstat names them"},
    {"diagram", glass_cmd_diagram, "the TCP state diagram as DOT/SVG/PNG, arcs weighted by counts"},
    {"bench", glass_cmd_bench, "glasstcp against lwIP and Linux: throughput, rates, memory"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: glass [--version] [--help] <command> [<args>]\n\n");
    fprintf(f, "glasstcp, a user-space TCP/IPv4 stack whose state machine is made of glass.\n\n");
    fprintf(f, "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\noptions:\n");
    fprintf(f, "  -V, --version  print the version (glass %s)\n", glass_version());
    fprintf(f, "  -h, --help     this help; 'glass help <command>' is 'glass <command> --help'\n");
    fprintf(f, "\nRun 'glass <command> --help' for a command's options; each command has a man\n"
               "page, glass-<command>(1). Exit status: 0 ok, 1 failed, 2 usage error (one line\n"
               "on stderr names the problem).\n");
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "glass: no command given; see 'glass --help'\n");
        return GLASS_EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        printf("glass %s\n", glass_version());
        return GLASS_EXIT_OK;
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        usage(stdout);
        return GLASS_EXIT_OK;
    }
    if (strcmp(arg, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return GLASS_EXIT_OK;
        }
        const struct command *c = find_command(argv[2]);
        if (c == NULL) {
            fprintf(stderr, "glass: '%s' is not a glass command; see 'glass --help'\n", argv[2]);
            return GLASS_EXIT_USAGE;
        }
        char help[] = "--help";
        char *sub_argv[] = {argv[2], help, NULL};
        return c->run(2, sub_argv);
    }
    if (arg[0] == '-') {
        fprintf(stderr, "glass: unknown option '%s'; see 'glass --help'\n", arg);
        return GLASS_EXIT_USAGE;
    }
    const struct command *c = find_command(arg);
    if (c == NULL) {
        fprintf(stderr, "glass: '%s' is not a glass command; see 'glass --help'\n", arg);
        return GLASS_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
