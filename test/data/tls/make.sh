#!/usr/bin/env bash
# Regenerates the unit tests' certificates (valid for 100 years). The
# integration tests make their own at test time (test/support/certs.py).
set -euo pipefail
cd "$(dirname "$0")"
days=36500
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "$2" -days $days -out "$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
leaf() { # name subject ca san
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf 'basicConstraints=CA:FALSE\n%s\n' "${4:+subjectAltName=$4}" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days $days -out "$1.crt" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca "/CN=Junction Test CA"
ca other-ca "/CN=Some Other CA"
leaf server "/CN=localhost" ca "DNS:localhost,IP:127.0.0.1"
leaf client "/O=Junction/CN=device-1" ca ""
leaf client-san "/O=Junction" ca "DNS:sensor.example.com"
leaf stranger "/CN=stranger" other-ca ""
rm -f ./*.srl
