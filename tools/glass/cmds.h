/* glass CLI — the subcommands. Each takes (argc, argv) with argv[0] = its own name and returns
 * the process exit status: 0 ok, 1 failed, 2 usage error. */
#ifndef GLASS_TOOLS_CMDS_H
#define GLASS_TOOLS_CMDS_H

#define GLASS_EXIT_OK 0
#define GLASS_EXIT_FAILED 1
#define GLASS_EXIT_USAGE 2

int glass_cmd_demo(int argc, char **argv);
int glass_cmd_serve(int argc, char **argv);
int glass_cmd_connect(int argc, char **argv);
int glass_cmd_lab(int argc, char **argv);
int glass_cmd_ss(int argc, char **argv);
int glass_cmd_sim(int argc, char **argv);
int glass_cmd_trace(int argc, char **argv);
int glass_cmd_pkt(int argc, char **argv);
int glass_cmd_diagram(int argc, char **argv);
int glass_cmd_nstat(int argc, char **argv);
int glass_cmd_flood(int argc, char **argv);
int glass_cmd_bench(int argc, char **argv);

#endif
