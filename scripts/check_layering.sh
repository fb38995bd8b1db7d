#!/usr/bin/env bash
# Enforce the dependency arrows of STYLE.md §7.2 by reading #include lines, plus the
# "one door for state changes" rule of §7.3. Usage: scripts/check_layering.sh [REPO_ROOT]
# Prints every violation as file:line: message and exits 1 if there is any.
#
#   src/util   includes util/ and glass/ only (nothing from another layer)
#   src/wire   includes wire/, util/ and glass/ only
#   src/core   includes core/, wire/, util/, glass/; no <sys/*> <time.h> <pthread.h> <stdio.h> <unistd.h>
#   src/sock   includes sock/, core/, wire/, util/, glass/; same OS-header ban as core
#   src/link   never includes core/, sock/ or loop/ headers
#   include/glass/*.h  includes only <glass/...>, <stdint.h>, <stddef.h>, <stdbool.h>
#   src/**     only src/core/tcp_fsm.c assigns `->state =` / `.state =`. A line that fills some
#              other struct's state field (a glass_conn_info snapshot, say) says so with the
#              comment /* not-tcb-state */ on the same line.
set -euo pipefail

root=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"}
cd "$root" || { echo "check_layering.sh: cannot cd to $root" >&2; exit 2; }

files=$( { find src -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null;
           find include/glass -maxdepth 1 -type f -name '*.h' 2>/dev/null; } | LC_ALL=C sort)
[ -n "$files" ] || { echo "check_layering.sh: no sources under $root/src or $root/include"; exit 0; }

# shellcheck disable=SC2086 # one file per word; paths in this tree have no spaces
awk '
BEGIN {
    n = split("util wire core sock link loop observe analyze glass", L, " ")
    for (i = 1; i <= n; i++) is_layer[L[i]] = 1
    allow["util"] = " util glass "
    allow["wire"] = " wire util glass "
    allow["core"] = " core wire util glass "
    allow["sock"] = " sock core wire util glass "
    deny["link"]  = " core sock loop "
    split("stdint.h stddef.h stdbool.h", S, " ")
    for (i in S) public_std[S[i]] = 1
    bad = 0
}
function trim(s) { gsub(/^ +| +$/, "", s); return s }
function report(msg) { printf "%s:%d: %s\n", FILENAME, FNR, msg; bad = 1 }
# Normalise a/b/../c into a/c.
function normpath(p,    parts, out, k, i, m) {
    m = split(p, parts, "/"); k = 0
    for (i = 1; i <= m; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == "..") { if (k > 0) k--; continue }
        out[++k] = parts[i]
    }
    p = ""
    for (i = 1; i <= k; i++) p = p (i > 1 ? "/" : "") out[i]
    return p
}
FNR == 1 {
    m = split(FILENAME, parts, "/")
    public_hdr = (parts[1] == "include")
    layer = (parts[1] == "src" && m >= 3) ? parts[2] : ""
    dir = ""
    for (i = 2; i < m; i++) dir = dir (i > 2 ? "/" : "") parts[i]   # dir relative to src/
    is_fsm = (FILENAME == "src/core/tcp_fsm.c")
}
/^[ \t]*#[ \t]*include[ \t]*[<"]/ {
    line = $0
    sub(/^[ \t]*#[ \t]*include[ \t]*/, "", line)
    angle = (substr(line, 1, 1) == "<")
    target = substr(line, 2)
    sub(/[>"].*$/, "", target)

    if (public_hdr) {
        if (!angle)
            report("public header uses a quoted include \"" target "\"; use <glass/...>")
        else if (target !~ /^glass\// && !(target in public_std))
            report("public header includes <" target ">; only <glass/...>, <stdint.h>, <stddef.h>, <stdbool.h> are allowed")
        next
    }
    if (layer == "") next

    # Which layer does the included file belong to? "" means a system header.
    first = target; sub(/\/.*$/, "", first)
    tlayer = ""
    if (target ~ /(^|\/)\.\.\//) {
        resolved = normpath(dir "/" target); tlayer = resolved; sub(/\/.*$/, "", tlayer)
        if (!(tlayer in is_layer)) tlayer = layer
    } else if (first in is_layer && target ~ /\//) {
        tlayer = first
    } else if (!angle) {
        tlayer = layer          # "foo.h" next to the including file
    }

    if (tlayer == "") {
        if ((layer == "core" || layer == "sock") &&
            (target ~ /^sys\// || target == "time.h" || target == "pthread.h" ||
             target == "stdio.h" || target == "unistd.h"))
            report(layer " is sans-IO and must not include <" target "> (STYLE.md 7.2)")
        next
    }
    if (layer in allow && index(allow[layer], " " tlayer " ") == 0)
        report(layer " must not include " tlayer "/ headers (\"" target "\"); allowed: " trim(allow[layer]))
    if (layer in deny && index(deny[layer], " " tlayer " ") > 0)
        report(layer " must never include " tlayer "/ headers (\"" target "\"): link never sees the stack")
    next
}
layer != "" && !is_fsm && /state[ \t]*=([^=]|$)/ && $0 !~ /not-tcb-state/ {
    code = $0
    gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", code)   # drop one-line /* */ comments
    sub(/\/\/.*$/, "", code)           # and // comments
    if (code ~ /(->|\.)[ \t]*state[ \t]*=([^=]|$)/)
        report("assigns a TCB state outside src/core/tcp_fsm.c; call glass_tcp_set_state() (STYLE.md 7.3)")
}
END { exit bad }
' $files
