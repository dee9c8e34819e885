#!/usr/bin/env bash
# Builds every libFuzzer target into OUTDIR (default build-fuzz/):
#   fuzz_<name>.cpp  ->  OUTDIR/fuzz_<name>
# Each target links only the pure codec it exercises.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/build-fuzz}"
mkdir -p "$OUT"
CXX="${FUZZ_CXX:-clang++}"
FLAGS=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)

build() { # name, include dir, sources...
  local name="$1" inc="$2"; shift 2
  local src="$ROOT/test/fuzz/$name.cpp"
  [[ -f "$src" ]] || return 0
  # Rebuild only when a source changed.
  local exe="$OUT/$name" newest
  newest=$(ls -t "$src" "$@" "$inc"/*.h 2>/dev/null | head -1)
  if [[ -x "$exe" && "$exe" -nt "$newest" ]]; then return 0; fi
  echo "building $name" >&2
  "$CXX" "${FLAGS[@]}" -I"$inc" -I"$ROOT/test/unit/mqtt" "$@" "$src" -o "$exe"
}

build fuzz_mqtt_decoder "$ROOT/protocols/mqtt/codec" "$ROOT"/protocols/mqtt/codec/*.cpp
if [[ -d "$ROOT/protocols/stomp/codec" ]]; then
  build fuzz_stomp_parser "$ROOT/protocols/stomp/codec" "$ROOT"/protocols/stomp/codec/*.cpp
fi
if [[ -d "$ROOT/protocols/amqp/codec" ]]; then
  build fuzz_amqp_frames "$ROOT/protocols/amqp/codec" "$ROOT"/protocols/amqp/codec/*.cpp
fi
