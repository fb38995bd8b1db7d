#!/usr/bin/env bash
# Install glasstcp into a temporary prefix, check what was installed, then build an out-of-tree C
# program (examples/history.c) against the installed library both ways — pkg-config with the
# shared library, find_package(glass) with the shared and the static one — and run it.
# usage: install_test.sh BUILD_DIR SOURCE_DIR CC VERSION [EXTRA_CFLAGS]
set -euo pipefail
build=$1 src=$2 cc=$3 version=$4 extra=${5:-}
tmp=$(mktemp -d /tmp/glass-install-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }

# --- what is installed --------------------------------------------------------------------------
libdir=$(dirname "$(find "$prefix" -name libglass.a -print -quit)")
[ -d "$libdir" ] || fail "no libglass.a under $prefix"
major=${version%%.*} minor=${version#*.}; minor=${minor%%.*}
soname=libglass.so.$major; [ "$major" = 0 ] && soname=libglass.so.0.$minor
for f in "$prefix/bin/glass" "$libdir/libglass.so" "$libdir/$soname" "$libdir/libglass.so.$version" \
         "$libdir/pkgconfig/glass.pc" "$libdir/cmake/glass/glassConfig.cmake" \
         "$libdir/cmake/glass/glassConfigVersion.cmake" "$libdir/cmake/glass/glassTargets.cmake" \
         "$prefix/share/bash-completion/completions/glass" "$prefix/share/man/man1/glass.1"; do
    [ -e "$f" ] || fail "not installed: ${f#$prefix/}"
done
got=$(objdump -p "$libdir/libglass.so.$version" | awk '$1 == "SONAME" {print $2}')
[ "$got" = "$soname" ] || fail "soname '$got', want '$soname'"
for h in "$src"/include/glass/*.h; do
    cmp -s "$h" "$prefix/include/glass/$(basename "$h")" || fail "header $(basename "$h") not installed as is"
done
got=$("$prefix/bin/glass" --version)
[ "$got" = "glass $version" ] || fail "glass --version says '$got', want 'glass $version'"

# Every command has its man page, and the page has every long option its --help lists.
cmds=$("$prefix/bin/glass" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\)  *.*$/\1/p')
[ "$(echo "$cmds" | wc -w)" -ge 10 ] || fail "glass --help lists too few commands: $cmds"
for c in $cmds; do
    page=$prefix/share/man/man1/glass-$c.1
    [ -f "$page" ] || fail "no man page glass-$c.1"
    text=$(MANWIDTH=200 man -l "$page" 2>/dev/null || sed 's/\\-/-/g' "$page")
    for o in $("$prefix/bin/glass" "$c" --help | grep -oE -- '--[a-z][a-z0-9_-]+' | sort -u); do
        grep -qF -- "$o" <<<"$text" || fail "glass-$c.1 does not mention $o"
    done
done
echo "installed: bin/glass, ${libdir#$prefix/}/libglass.{a,so,$soname}, headers, glass.pc, cmake package, $(echo $cmds | wc -w) + 1 man pages, bash completion"

# --- pkg-config, shared library -----------------------------------------------------------------
export PKG_CONFIG_PATH=$libdir/pkgconfig
[ "$(pkg-config --modversion glass)" = "$version" ] || fail "pkg-config --modversion glass: $(pkg-config --modversion glass)"
cp "$src/examples/history.c" "$tmp/consumer.c"
# shellcheck disable=SC2046,SC2086
"$cc" -std=c11 -Wall -Wextra -Werror $extra $(pkg-config --cflags glass) "$tmp/consumer.c" -o "$tmp/consumer_pc" \
    $(pkg-config --libs glass) -Wl,-rpath,"$(pkg-config --variable=libdir glass)"
# (ldd's output is read whole before grep: grep -q could stop early and ldd die of SIGPIPE)
deps=$(ldd "$tmp/consumer_pc")
grep -q "$tmp/prefix/.*$soname" <<<"$deps" || { echo "$deps"; fail "consumer_pc is not linked to the installed $soname"; }
"$tmp/consumer_pc" >"$tmp/pc.out" || { cat "$tmp/pc.out"; fail "the pkg-config build failed its run"; }
echo "pkg-config: built and ran against $soname"

# --- find_package(glass), shared and static -----------------------------------------------------
CFLAGS="$extra" cmake -S "$src/tests/install/consumer" -B "$tmp/consumer-build" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCONSUMER_SRC="$tmp/consumer.c" -DGLASS_EXPECT_VERSION="$version" \
    >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "find_package(glass) configure"; }
cmake --build "$tmp/consumer-build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "find_package(glass) build"; }
deps=$(ldd "$tmp/consumer-build/consumer_shared")
grep -q "$tmp/prefix/.*$soname" <<<"$deps" || { echo "$deps"; fail "consumer_shared is not linked to the installed $soname"; }
deps=$(ldd "$tmp/consumer-build/consumer_static")
grep -q libglass <<<"$deps" && fail "consumer_static needs libglass.so"
for b in consumer_shared consumer_static; do
    "$tmp/consumer-build/$b" >"$tmp/$b.out" || { cat "$tmp/$b.out"; fail "$b failed its run"; }
done
echo "find_package(glass $version): glass::glass and glass::glass_static built and ran"
