#!/usr/bin/env bash
# Builds every libFuzzer target into OUTDIR (default build-fuzz/):
#   fuzz_<name>.cpp  ->  OUTDIR/fuzz_<name>
# A thin wrapper around meson: the targets and what each links are declared
# in test/fuzz/meson.build (the root meson.build includes it with -Dfuzz=true).
# The first run configures OUTDIR/meson (clang, ASan + UBSan, -O1 -g, every
# source with -fsanitize=fuzzer-no-link), or uses OUTDIR itself if it is a
# meson dir already configured with -Dfuzz=true; every run builds its `fuzz`
# target (the fuzz executables and only the objects they link, never the
# whole broker; ninja rebuilds only what changed) and links the executables
# into OUTDIR.
#
# Environment: FUZZ_CXX (default clang++; FUZZ_CC defaults to its C twin),
# FUZZ_JOBS (default JUNCTION_JOBS or 2), FUZZ_MESON_DIR (default OUTDIR/meson).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/build-fuzz}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
if [[ -n "${FUZZ_MESON_DIR:-}" ]]; then
  DIR="$FUZZ_MESON_DIR"
elif [[ -f "$OUT/build.ninja" ]]; then
  DIR="$OUT"          # OUTDIR is itself a meson dir (configured by hand, -Dfuzz=true)
else
  DIR="$OUT/meson"
fi
CXX="${FUZZ_CXX:-clang++}"
CC="${FUZZ_CC:-${CXX/clang++/clang}}"
JOBS="${FUZZ_JOBS:-${JUNCTION_JOBS:-2}}"
SETUP=(-Dfuzz=true -Dtests=false "-Db_sanitize=address,undefined" -Db_lundef=false
       --buildtype=plain -Db_ndebug=false "-Dcpp_args=-O1 -g -fno-sanitize-recover=undefined")
LOG="$OUT/build.log"
: >"$LOG"

# Configure once; again only if the compiler or these options changed. A dir
# configured by hand (no .fuzz-setup stamp) is used as it is.
STAMP="CXX=$CXX CC=$CC ${SETUP[*]}"
if [[ -f "$DIR/.fuzz-setup" && "$(cat "$DIR/.fuzz-setup")" != "$STAMP" ]]; then
  rm -rf "$DIR"
fi
if [[ ! -f "$DIR/build.ninja" ]]; then
  echo "fuzz: meson setup $DIR" >&2
  if ! CXX="$CXX" CC="$CC" meson setup "$DIR" "$ROOT" "${SETUP[@]}" >>"$LOG" 2>&1; then
    tail -40 "$LOG" >&2
    exit 1
  fi
  echo "$STAMP" >"$DIR/.fuzz-setup"
fi

if ! ninja -C "$DIR" -j"$JOBS" fuzz >>"$LOG" 2>&1; then
  tail -80 "$LOG" >&2
  exit 1
fi
echo "fuzz: built in $DIR ($(grep -c 'warning:' "$LOG" || true) compiler warnings, log $LOG)" >&2

for src in "$ROOT"/test/fuzz/fuzz_*.cpp; do
  name="$(basename "$src" .cpp)"
  exe="$DIR/test/fuzz/$name"
  if [[ -x "$exe" ]]; then
    ln -sfn "$exe" "$OUT/$name"
  else
    echo "fuzz: $name was not built (no entry in test/fuzz/meson.build?)" >&2
  fi
done
