#!/bin/sh
# abi_check.sh SOURCE_ROOT: checks that plugins/include/junction_plugin.h is
# a self-contained C ABI, the way a third party uses it: the header alone is
# copied into an empty directory, and
#   - a file including only it compiles as C99 and as C++17, pedantic,
#     warnings as errors;
#   - the example plugins and the test plugins compile against that copy
#     alone as C99 shared objects, -Wall -Wextra -pedantic -Werror;
#   - each exports exactly the jn_plugin_* functions the broker looks up,
#     as defined text symbols (T), and every jn_* symbol it leaves undefined
#     (for the broker to provide at dlopen) is declared in the header;
#   - the first plugin of docs/PLUGINS.md does the same.
# CC and CXX (meson passes the compilers it found; words split) default to
# cc and c++, NM to nm. Prints one line per check; exit 1 on any failure.
set -u

root=${1:?usage: abi_check.sh SOURCE_ROOT}
header="$root/plugins/include/junction_plugin.h"
CC=${CC:-cc}
CXX=${CXX:-c++}
NM=${NM:-nm}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/junction-abi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/include" "$tmp/out"
cp "$header" "$tmp/include/" || exit 1

failures=0
pass() { echo "ok    $*"; }
fail() {
  echo "FAIL  $*"
  failures=$((failures + 1))
}

# run LABEL COMMAND...: a compile step; its diagnostics are shown on failure.
run() {
  label=$1
  shift
  if "$@" >"$tmp/log" 2>&1; then
    pass "$label"
  else
    fail "$label"
    sed 's/^/      /' "$tmp/log"
    return 1
  fi
}

printf '#include "junction_plugin.h"\n' >"$tmp/only_header.c"
printf '#include "junction_plugin.h"\nint main() { jn_str s = jn_str_of("x"); return int(s.len) - 1; }\n' \
  >"$tmp/only_header.cpp"
# $CC and $CXX are split into words on purpose (e.g. "ccache cc").
run "header alone compiles as C99 (-std=c99 -pedantic -Wall -Wextra -Wstrict-prototypes -Werror)" \
  $CC -std=c99 -pedantic -Wall -Wextra -Wstrict-prototypes -Werror -I"$tmp/include" \
  -fsyntax-only "$tmp/only_header.c"
run "header alone compiles as C++17 (-std=c++17 -pedantic -Wall -Wextra -Werror)" \
  $CXX -std=c++17 -pedantic -Wall -Wextra -Werror -I"$tmp/include" -fsyntax-only "$tmp/only_header.cpp"

# The functions the header declares: after the preprocessor (no comments),
# a jn_ name directly followed by "(". One declaration per line is the
# header's style; a name in a function pointer type is followed by ")".
declared=$($CC -std=c99 -E -P -I"$tmp/include" "$tmp/only_header.c" |
  sed -n 's/.*[^A-Za-z0-9_]\(jn_[A-Za-z0-9_]*\)(.*/\1/p' | sort -u)
if [ -n "$declared" ]; then
  pass "the header declares $(printf '%s\n' "$declared" | grep -c .) jn_* functions"
else
  fail "no jn_* function declarations found in the preprocessed header"
fi

# check_plugin SOURCE EXPORTS...: builds SOURCE and checks its dynamic symbols.
check_plugin() {
  src=$1
  shift
  name=$(basename "$src" .c)
  so="$tmp/out/$name.so"
  run "$name.c compiles as C99 against the header alone" \
    $CC -std=c99 -Wall -Wextra -Werror -pedantic -fPIC -shared -pthread -I"$tmp/include" "$src" -o "$so" ||
    return
  expected=$(printf '%s\n' "$@" | sort)
  exported=$($NM -D --defined-only "$so" | awk '{ print $3 }' | sort)
  if [ "$exported" = "$expected" ]; then
    pass "$name.so exports exactly: $(echo $expected)"
  else
    fail "$name.so exports [$(echo $exported)], want [$(echo $expected)]"
  fi
  not_text=$($NM -D --defined-only "$so" | awk '$2 != "T" { print $3 }')
  if [ -z "$not_text" ]; then
    pass "$name.so: its exports are text symbols (T)"
  else
    fail "$name.so: exports that are not text symbols: $(echo $not_text)"
  fi
  used=$($NM -D --undefined-only "$so" | awk '{ sub(/@.*/, "", $2); print $2 }' | grep '^jn_' | sort -u)
  missing=$(printf '%s\n' "$used" | grep -vxF "$declared")
  if [ -z "$missing" ]; then
    pass "$name.so: the $(printf '%s\n' "$used" | grep -c .) jn_* functions it needs are declared in the header"
  else
    fail "$name.so needs jn_* symbols the header does not declare: $(echo $missing)"
  fi
}

all="jn_plugin_version jn_plugin_init jn_plugin_cleanup"
for p in token_auth message_enrich event_counter; do
  check_plugin "$root/plugins/examples/$p.c" $all
done
for p in test_plugin bad_version failing_init; do
  check_plugin "$root/test/plugins/$p.c" $all
done
# The "first plugin" of docs/PLUGINS.md (its first ```c block) builds as shown.
awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on { print }' "$root/docs/PLUGINS.md" >"$tmp/no_forbidden.c"
if [ -s "$tmp/no_forbidden.c" ]; then
  check_plugin "$tmp/no_forbidden.c" $all
else
  fail "docs/PLUGINS.md has no \`\`\`c block (the first plugin)"
fi
# Its point is the missing export: the check pins that it stays missing.
check_plugin "$root/test/plugins/missing_symbol.c" jn_plugin_version jn_plugin_init

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
