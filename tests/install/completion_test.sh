#!/usr/bin/env bash
# The bash completion offers every command of tools/glass/main.c's table, the options of each
# command's --help, and scenario names for glass demo.
# usage: completion_test.sh GLASS COMPLETION_SCRIPT MAIN_C
set -euo pipefail
glass=$1 comp=$2 main_c=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
# shellcheck disable=SC1090
source "$comp"
# Outputs are read whole before grep (grep -q may stop early: SIGPIPE under pipefail).
spec=$(complete -p glass)
grep -q -- '-F _glass' <<<"$spec" || fail "no 'complete -F _glass glass'"

complete_words() { # the words offered for the command line "$@" (the last word is being typed)
    COMP_WORDS=("$glass" "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _glass
    printf '%s\n' "${COMPREPLY[@]}" | sort
}

# The command table in the source, independently of --help: {"name", glass_cmd_...
want=$(sed -n 's/^ *{"\([a-z][a-z0-9-]*\)", glass_cmd_.*/\1/p' "$main_c" | sort)
[ "$(echo "$want" | wc -l)" -ge 10 ] || fail "found too few commands in $main_c"
got=$(complete_words "" | grep -v '^-')
[ "$got" = "$want" ] || fail "glass <TAB> offers [$(echo $got)], main.c has [$(echo $want)]"
top=$(complete_words "")
grep -qx -- --version <<<"$top" || fail "glass <TAB> does not offer --version"
[ "$(complete_words help "")" = "$want" ] || fail "glass help <TAB> differs from the command table"

for c in $want; do
    opts=$(complete_words "$c" --)
    for o in $("$glass" "$c" --help | grep -oE -- '^ +(-[A-Za-z], )?--[a-z][a-z0-9_-]+' | grep -oE -- '--[a-z][a-z0-9_-]+'); do
        grep -qx -- "$o" <<<"$opts" || fail "glass $c --<TAB> does not offer $o"
    done
    [ -n "$opts" ] || fail "glass $c --<TAB> offers nothing"
done
sim=$(complete_words demo simultaneous-)
grep -qx simultaneous-close <<<"$sim" || fail "glass demo simultaneous-<TAB> does not offer simultaneous-close"
[ "$(complete_words lab "" | tr '\n' ' ')" = "down status up " ] || fail "glass lab <TAB>"
echo "completion: $(echo $want | wc -w) commands, their options, demo scenarios"
