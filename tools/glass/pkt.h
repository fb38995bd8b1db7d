/* glass pkt — packetdrill scripts against one glasstcp stack in virtual time.
 *
 * pkt_lex.c    tokens of the packetdrill language (file:line:column for every token)
 * pkt_parse.c  the script: options, then events (time + packet, system call, command, code)
 * pkt_wire.c   IPv4/TCP bytes: building inbound packets, decoding and printing outbound ones
 * pkt_sys.c    system calls and the symbols scripts use (Linux numbering)
 * pkt_run.c    the interpreter: virtual time, packetdrill's socket model, matching, tolerance
 * cmd_pkt.c    the `glass pkt` command: files, the PENDING manifest, the summary line
 *
 * Only public glasstcp headers are used; the wire code here is written for the tool. */
#ifndef GLASS_TOOLS_PKT_H
#define GLASS_TOOLS_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "out.h"
#include "pcapw.h"

#if defined(__GNUC__)
#define PKT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PKT_PRINTF(fmt, args)
#endif

/* ---- arena: every object of a parsed script lives in one arena, freed at once ---------- */

struct pkt_chunk;
struct pkt_arena {
    struct pkt_chunk *head;
    bool oom;
};

void *pkt_alloc(struct pkt_arena *a, size_t n); /* zeroed; NULL (and a->oom) when out of memory */
char *pkt_strndup(struct pkt_arena *a, const char *s, size_t n);
void pkt_arena_free(struct pkt_arena *a);

/* ---- tokens ------------------------------------------------------------------------------ */

enum pkt_tok_kind {
    TK_EOF = 0,
    TK_INT,      /* 123, -1, 0x1f (ival) */
    TK_FLOAT,    /* 0.1, .25 (text only) */
    TK_WORD,     /* identifiers: socket, SOL_SOCKET, mss, ack, S ... */
    TK_STRING,   /* "..." (text without the quotes, escapes not yet processed) */
    TK_BACKQ,    /* `shell command` */
    TK_CODE,     /* %{ python }% */
    TK_OPTION,   /* --name */
    TK_ELLIPSIS, /* ... */
    TK_IPV4,     /* 192.0.2.1 */
    TK_PUNCT,    /* one character: < > ( ) [ ] { } , : = | + * ~ . - / and so on */
};

struct pkt_tok {
    enum pkt_tok_kind kind;
    int line, col;
    const char *p; /* text in the source */
    size_t len;
    int64_t ival;  /* TK_INT */
    bool big;      /* TK_INT that does not fit in 63 bits */
    char c;        /* TK_PUNCT */
    bool space_before; /* whitespace or a comment precedes this token */
};

struct pkt_toks {
    struct pkt_tok *v;
    size_t n, cap;
};

/* Tokenize src[0..len). Returns 0, or -1 with "line:col: message" in err. */
int pkt_lex(const char *src, size_t len, struct pkt_toks *out, char *err, size_t errcap);
void pkt_toks_free(struct pkt_toks *t);

/* ---- the script ---------------------------------------------------------------------------- */

enum pkt_expr_kind {
    EX_INT,      /* 1, -1, 0x800 */
    EX_STR,      /* "..." unescaped: s, slen */
    EX_WORD,     /* SOL_SOCKET, EINPROGRESS ... */
    EX_ELLIPSIS, /* ... */
    EX_LIST,     /* [a, b] */
    EX_STRUCT,   /* {a=1, b=2} or {...} */
    EX_OR,       /* a | b (items[0], items[1]) */
    EX_ASSIGN,   /* name = value (s = name, items[0] = value) */
    EX_CALL,     /* htons(8080), inet_addr("192.0.2.1") (s = name, items = args) */
};

struct pkt_expr {
    enum pkt_expr_kind kind;
    int line, col;
    int64_t i;
    char *s;
    size_t slen;
    struct pkt_expr **items;
    size_t n;
};

enum pkt_time_type {
    PT_ABS,       /* 1.5 */
    PT_REL,       /* +0.1 */
    PT_ANY,       /* *  (outbound packets only) */
    PT_ABS_RANGE, /* 1.0~1.2 (outbound packets only) */
    PT_REL_RANGE, /* +0.9~+1.1 (outbound packets only) */
};

#define PKT_MAX_OPTS 40 /* TCP option bytes */

/* One TCP packet line: `< S 0:0(0) win 65535 <mss 1460>` or `> . 1:1(0) ack 1 <...>`. */
struct pkt_packet {
    bool inbound;
    uint16_t flags;        /* TCP flag bits incl. AE (0x100); GLASS_TH_* for the low 8 */
    bool has_ports;        /* `< 40000>8080 S ...` */
    uint16_t sport, dport;
    uint32_t seq;
    uint32_t len;          /* payload bytes */
    uint32_t ack;          /* 0 when absent */
    int32_t win;           /* -1: not given (outbound: not checked) */
    uint16_t urg;
    bool opts_any;         /* <...>: options not checked */
    uint8_t opts[PKT_MAX_OPTS];
    uint8_t opts_len;
};

struct pkt_syscall {
    char *name;
    struct pkt_expr **args;
    size_t nargs;
    bool blocking;         /* `...end` given */
    int64_t end_us;
    struct pkt_expr *result;
    char *errno_name;      /* NULL if none */
};

enum pkt_event_kind { EV_PACKET, EV_SYSCALL, EV_COMMAND, EV_CODE };

struct pkt_event {
    int line, col;
    enum pkt_time_type tt;
    int64_t t_us, t_end_us; /* script time (µs); relative ones are resolved at run time */
    enum pkt_event_kind kind;
    struct pkt_packet pkt;
    struct pkt_syscall sc;
    char *text;             /* EV_COMMAND / EV_CODE */
    const char *src;        /* the event's text in the source (for messages) */
    size_t src_len;
};

struct pkt_option {
    char *name;  /* without the leading -- */
    char *value; /* NULL when none */
    int line, col;
};

struct pkt_script {
    const char *path;
    struct pkt_option *opts;
    size_t nopts;
    struct pkt_event *ev;
    size_t nev;
    /* A construct the interpreter does not support: the script is skipped with this reason. */
    char unsupported[256];
    int unsupported_line;
    struct pkt_arena arena;
};

/* Parse src (len bytes) as a packetdrill script. Returns 0; or -1 with
 * "path:line:column: message" in err (a syntax error). On success the caller must call
 * pkt_script_free. A script using an unsupported construct parses with s->unsupported set. */
int pkt_parse(const char *path, const char *src, size_t len, struct pkt_script *s, char *err,
              size_t errcap);
void pkt_script_free(struct pkt_script *s);

/* Seconds as text ("0.1", "12", ".25") to microseconds; -1 if malformed or too large. */
int64_t pkt_time_us(const char *p, size_t len);

/* ---- wire ---------------------------------------------------------------------------------- */

/* A decoded IPv4/TCP packet (outbound from the stack, or one built for input). */
struct pkt_wire {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t flags; /* incl. AE 0x100 */
    uint16_t win, urg;
    uint8_t opts[PKT_MAX_OPTS];
    uint8_t opts_len;
    const uint8_t *payload;
    uint32_t len;
    uint8_t ttl;
    bool ipv4_csum_ok, tcp_csum_ok;
};

/* Decode an IPv4 datagram carrying TCP; 0 or -1 if it is not one. */
int pkt_wire_decode(const uint8_t *buf, size_t n, struct pkt_wire *w);
/* Build an IPv4/TCP datagram (payload: len zero bytes). Returns its length or 0 if cap is too
 * small. */
size_t pkt_wire_build(const struct pkt_wire *w, uint16_t ip_id, uint8_t *buf, size_t cap);
/* "S.", ".", "F.", "R", "-" ... into buf (12 bytes). */
const char *pkt_flags_str(uint16_t flags, char buf[12]);
/* An option list as packetdrill writes it: "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7". */
void pkt_opts_str(struct out_buf *b, const uint8_t *opts, size_t len);
/* A packet in script syntax: "S. 0:0(0) ack 1 win 65535 <mss 1460>" (no direction). */
void pkt_wire_str(struct out_buf *b, const struct pkt_wire *w, bool show_win);
/* The script packet in script syntax (no direction). */
void pkt_packet_str(struct out_buf *b, const struct pkt_packet *p);
/* Find the TS option in an option block: offset of its kind byte, or -1. */
int pkt_opts_find(const uint8_t *opts, size_t len, uint8_t kind);

/* ---- symbols and system calls (pkt_sys.c) --------------------------------------------------- */

/* Linux value of a symbol scripts use (SOL_SOCKET, O_NONBLOCK, POLLIN, ECONNRESET ...). */
bool pkt_symbol(const char *name, int64_t *val);
/* Is this system call implemented? */
bool pkt_syscall_known(const char *name);

/* ---- running ------------------------------------------------------------------------------ */

enum pkt_outcome { PKT_PASS, PKT_FAIL, PKT_SKIP };

struct pkt_run_opts {
    bool verbose;
    uint64_t seed;
    int64_t tolerance_us;     /* packetdrill default 4000 */
    double tolerance_pct;     /* packetdrill default 12.5 */
    int profile;              /* enum glass_profile */
    struct glass_pcapw *pcap, *pcapng; /* --pcap/--pcapng writers, or NULL */
    glass_time_t pcap_base;   /* capture time of the script's time 0 */
};

/* Run a parsed script. Returns the outcome; msg gets the one-line reason for FAIL/SKIP
 * ("line 12: ..."); the verbose ladder (if asked for) is appended to log. */
enum pkt_outcome pkt_run(const struct pkt_script *s, const struct pkt_run_opts *o,
                         struct out_buf *msg, struct out_buf *log);

#endif
