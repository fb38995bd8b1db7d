#!/usr/bin/env bash
# Make the man pages glass(1) and glass-CMD(1) from the CLI's own --help texts with help2man, so
# a man page cannot say something --help does not (docs/install.md "Man pages").
# Usage: scripts/gen_man.sh PATH/TO/glass OUTDIR [help2man]
# The commands are the ones `glass --help` lists; the one-line NAME of each is its summary there.
set -euo pipefail
glass=$1 out=$2 help2man=${3:-help2man}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
common=$here/../docs/man/common.h2m
mkdir -p "$out"
rm -f "$out"/*.1 "$out"/stamp
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

version=$("$glass" --version | awk '{print $2}')
[ -n "$version" ] || { echo "gen_man.sh: '$glass --version' printed no version" >&2; exit 1; }

# help2man wants "Usage:"/"or:" for the SYNOPSIS and "Options:" for OPTIONS; the CLI prints them
# git-style. scripts/help2man_filter.awk changes that spelling only, never the words.
printf '#!/usr/bin/env bash\nset -o pipefail\n"%s" "$@" | awk -f "%s"\n' "$glass" "$here/help2man_filter.awk" >"$tmp/glass"
chmod +x "$tmp/glass"

# "  NAME       summary" lines after "commands:" in glass --help.
mapfile -t lines < <("$glass" --help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z0-9-]*\) \+\(.*\)$/\1\t\2/p')
[ ${#lines[@]} -gt 0 ] || { echo "gen_man.sh: no commands in '$glass --help'" >&2; exit 1; }

see_also="glass(1)"
for l in "${lines[@]}"; do see_also+=", glass-${l%%$'\t'*}(1)"; done

{ cat "$common"; printf '\n[SEE ALSO]\n%s\n' "$see_also"; } >"$tmp/inc.h2m"

"$help2man" --no-info --include "$tmp/inc.h2m" \
    --version-string "glass $version" \
    --name "a user-space TCP/IPv4 stack whose state machine is made of glass" \
    --output "$out/glass.1" "$tmp/glass"
for l in "${lines[@]}"; do
    cmd=${l%%$'\t'*} summary=${l#*$'\t'}
    "$help2man" --no-info --include "$tmp/inc.h2m" \
        --version-string "glass-$cmd $version" --help-option "$cmd --help" \
        --name "$summary" --output "$out/glass-$cmd.1" "$tmp/glass"
done
touch "$out/stamp"
