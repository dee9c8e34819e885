"""Test certificates made with the `openssl` command line at test time.

make_pki(dir) writes, all EC P-256:
  ca.crt/.key              the CA the broker trusts
  server.crt/.key          CN=localhost, SAN DNS:localhost and IP:127.0.0.1, signed by ca
  server2.crt/.key         the same names, a new key (certificate reload tests)
  client.crt/.key          CN=device-1, signed by ca
  other-ca.crt/.key        a CA the broker does not trust
  stranger.crt/.key        CN=stranger, signed by other-ca
  expired.crt/.key         CN=old-device, signed by ca, expired (notAfter in the past)
and returns a dict name -> path (e.g. pki["client.crt"]).
"""

import os
import subprocess


def _run(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _key(path):
    _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)


def _ca(d, name, subject):
    _key(os.path.join(d, name + ".key"))
    _run("req", "-x509", "-new", "-key", os.path.join(d, name + ".key"), "-subj", subject, "-days", "30",
         "-out", os.path.join(d, name + ".crt"),
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def _leaf(d, name, subject, ca, san=None, days="30"):
    key, csr, crt, ext = (os.path.join(d, name + s) for s in (".key", ".csr", ".crt", ".ext"))
    _key(key)
    _run("req", "-new", "-key", key, "-subj", subject, "-out", csr)
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n")
        if san:
            f.write("subjectAltName=%s\n" % san)
    _run("x509", "-req", "-in", csr, "-CA", os.path.join(d, ca + ".crt"), "-CAkey", os.path.join(d, ca + ".key"),
         "-CAcreateserial", "-days", days, "-out", crt, "-extfile", ext)
    os.unlink(csr)
    os.unlink(ext)


def make_pki(d):
    d = str(d)
    os.makedirs(d, exist_ok=True)
    _ca(d, "ca", "/CN=Junction Test CA")
    _ca(d, "other-ca", "/CN=Untrusted CA")
    _leaf(d, "server", "/CN=localhost", "ca", "DNS:localhost,IP:127.0.0.1")
    _leaf(d, "server2", "/CN=localhost", "ca", "DNS:localhost,IP:127.0.0.1")
    _leaf(d, "client", "/O=Junction Tests/CN=device-1", "ca")
    _leaf(d, "stranger", "/CN=stranger", "other-ca")
    _leaf(d, "expired", "/CN=old-device", "ca", days="-1")
    return {f: os.path.join(d, f) for f in os.listdir(d)}


def fingerprint(path):
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-fingerprint", "-sha256"],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1]
