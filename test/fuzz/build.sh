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

# Targets compile two at a time (FUZZ_JOBS): one clang per target, each a
# few seconds to half a minute, was a minute of the test command one by one.
JOBS="${FUZZ_JOBS:-2}"
RUNNING=0
reap_one() { wait -n; RUNNING=$((RUNNING - 1)); }  # a failed compile stops the script (set -e)

EXTRA=()  # extra include flags for the next build
LIBS=()   # libraries for the next build
build() { # name, include dir, sources... [-- link flags]
  local name="$1" inc="$2"; shift 2
  local libs=()
  if [[ " $* " == *" -- "* ]]; then
    local srcs=()
    while [[ "$1" != "--" ]]; do srcs+=("$1"); shift; done
    shift
    libs=("$@")
    set -- "${srcs[@]}"
  fi
  local src="$ROOT/test/fuzz/$name.cpp"
  [[ -f "$src" ]] || return 0
  # Rebuild only when a source changed.
  local exe="$OUT/$name" newest
  newest=$(ls -t "$src" "$@" "$inc"/*.h 2>/dev/null | head -1)
  if [[ -x "$exe" && "$exe" -nt "$newest" ]]; then return 0; fi
  echo "building $name" >&2
  if (( RUNNING >= JOBS )); then reap_one; fi
  "$CXX" "${FLAGS[@]}" -I"$inc" -I"$ROOT/test/unit/mqtt" "${EXTRA[@]}" "$@" "$src" "${LIBS[@]}" ${libs[@]+"${libs[@]}"} -o "$exe" &
  RUNNING=$((RUNNING + 1))
}

build fuzz_mqtt_decoder "$ROOT/protocols/mqtt/codec" "$ROOT"/protocols/mqtt/codec/*.cpp
if [[ -d "$ROOT/protocols/stomp/codec" ]]; then
  build fuzz_stomp_parser "$ROOT/protocols/stomp/codec" "$ROOT"/protocols/stomp/codec/*.cpp
fi
# WebSocket: the upgrade parser needs mbedcrypto (SHA-1, base64); the frame
# path also needs wslay (Debian's build, not instrumented: the coverage
# guidance comes from our layer around it).
NET="$ROOT/gateway/net"
LIBS=(-lmbedcrypto)
build fuzz_ws_upgrade "$NET" "$NET/http_upgrade.cpp"
LIBS=(-lwslay -lmbedcrypto)
build fuzz_ws_frames "$NET" "$NET/ws_layer.cpp" "$NET/http_upgrade.cpp"
LIBS=()

# Password and ACL file parsers: gateway/auth plus the core's topic rules; mbedTLS for base64/hashes.
if [[ -f "$ROOT/test/fuzz/fuzz_auth_files.cpp" ]]; then
  EXTRA=(-I"$ROOT/gateway/core")
  LIBS=(-lmbedcrypto)
  build fuzz_auth_files "$ROOT/gateway/auth" "$ROOT"/gateway/auth/*.cpp "$ROOT/gateway/core/topic.cpp"
  EXTRA=()
  LIBS=()
fi
if [[ -d "$ROOT/protocols/xmpp/codec" ]]; then
  # The stream parser and the serializer; expat is the one library it needs.
  build fuzz_xmpp_stream "$ROOT/protocols/xmpp/codec" "$ROOT"/protocols/xmpp/codec/xml_*.cpp -- -lexpat
fi
if [[ -d "$ROOT/protocols/amqp/codec" ]]; then
  build fuzz_amqp_frames "$ROOT/protocols/amqp/codec" "$ROOT"/protocols/amqp/codec/*.cpp
fi
while (( RUNNING > 0 )); do reap_one; done
