"""TLS listeners (mbedTLS) with clients other people wrote: mosquitto_pub/sub
(--cafile, --cert/--key), paho-mqtt (tls_set), stomp.py (set_ssl).
Certificates are made at test time with the openssl CLI (support/certs.py):
a trusted client, one from an untrusted CA, an expired one."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

import certs
from broker import junction_bin
from clients import MOSQUITTO_PUB, MosquittoSub, unique

pytestmark = pytest.mark.junction_only("Junction's TLS listener configuration")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return certs.make_pki(tmp_path_factory.mktemp("pki"))


def tls_listener(pki, protocol="mqtt", **tls):
    block = {"cert_file": pki["server.crt"], "key_file": pki["server.key"]}
    block.update(tls)
    return {"protocol": protocol, "transport": "tls", "tls": block}


def client_tls(pki, cert=None):
    kw = {"ca_certs": pki["ca.crt"]}
    if cert:
        kw.update(certfile=pki[cert + ".crt"], keyfile=pki[cert + ".key"])
    return kw


def pub(port, pki, topic, message, cert=None, timeout=10):
    """mosquitto_pub over TLS; returns the CompletedProcess (any exit code)."""
    cmd = [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m", message, "-q", "1",
           "--cafile", pki["ca.crt"]]
    if cert:
        cmd += ["--cert", pki[cert + ".crt"], "--key", pki[cert + ".key"]]
    return subprocess.run(cmd, capture_output=True, timeout=timeout)


def wait_log(broker, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in broker.log:
            return True
        time.sleep(0.05)
    return False


def test_mosquitto_clients_over_tls(broker_factory, pki, msub):
    b = broker_factory(listeners=[tls_listener(pki)])
    port = b.listener_ports[0]
    assert "listening: mqtt/tls 127.0.0.1:%d" % port in b.log
    sub = msub(port, "tls/#", qos=1, extra=["--cafile", pki["ca.crt"]])
    r = pub(port, pki, "tls/a", "over tls")
    assert r.returncode == 0, r.stderr
    m = sub.get()
    assert (m.topic, m.payload) == ("tls/a", "over tls")
    # The plain TCP listener of the same broker sees it too: one broker.
    r = subprocess.run([MOSQUITTO_PUB, "-p", str(b.port), "-t", "tls/b", "-m", "plain"], capture_output=True)
    assert r.returncode == 0
    assert sub.get().payload == "plain"


def test_plain_mqtt_to_a_tls_port_is_closed_and_the_broker_goes_on(broker_factory, pki, paho):
    b = broker_factory(listeners=[tls_listener(pki)])
    port = b.listener_ports[0]
    r = subprocess.run([MOSQUITTO_PUB, "-p", str(port), "-t", "x", "-m", "y"], capture_output=True, timeout=10)
    assert r.returncode != 0
    assert wait_log(b, "tls TLS handshake failed")
    c = paho(port, transport="tls", tls=client_tls(pki))
    c.connect()
    c.subscribe("t", 1)
    c.publish("t", b"still fine", qos=1)
    assert c.get().payload == b"still fine"


def test_client_certificates_required(broker_factory, pki, msub):
    b = broker_factory(listeners=[tls_listener(pki, ca_file=pki["ca.crt"], require_certificate=True)],
                       log_level="debug")
    port = b.listener_ports[0]
    sub = msub(port, "dev/#", qos=1, extra=["--cafile", pki["ca.crt"], "--cert", pki["client.crt"],
                                            "--key", pki["client.key"]])
    ok = pub(port, pki, "dev/1", "with cert", cert="client")
    assert ok.returncode == 0, ok.stderr
    assert sub.get().payload == "with cert"
    # The verified identity is known to the connection (used by authentication).
    assert wait_log(b, ", client device-1")

    for cert, why in ((None, "no certificate"), ("stranger", "untrusted CA"), ("expired", "expired")):
        r = pub(port, pki, "dev/2", "refused", cert=cert)
        assert r.returncode != 0, "%s: accepted" % why
    assert wait_log(b, "handshake failed")
    assert "The certificate validity has expired" in b.log
    assert "not correctly signed by the trusted CA" in b.log
    with pytest.raises(AssertionError, match="no message"):
        sub.get(timeout=0.5)  # none of the refused clients got a message through


def test_paho_over_tls_with_and_without_client_certificate(broker_factory, pki, paho):
    b = broker_factory(listeners=[tls_listener(pki, ca_file=pki["ca.crt"])])
    port = b.listener_ports[0]
    anon = paho(port, transport="tls", tls=client_tls(pki))
    anon.connect()
    anon.subscribe("p/#", 1)
    dev = paho(port, transport="tls", tls=client_tls(pki, "client"))
    dev.connect()
    dev.publish("p/1", b"x" * 100000, qos=1)  # several TLS records
    assert anon.get().payload == b"x" * 100000
    # Optional client certificates: a presented one must still verify.
    bad = paho(port, transport="tls", tls=client_tls(pki, "stranger"))
    with pytest.raises((ssl.SSLError, OSError, AssertionError)):
        bad.connect()


def test_stomp_py_over_tls(broker_factory, pki):
    stomp = pytest.importorskip("stomp")
    b = broker_factory(listeners=[tls_listener(pki, protocol="stomp")])
    port = b.listener_ports[0]
    got = []

    class L(stomp.ConnectionListener):
        def on_message(self, frame):
            got.append(frame.body)

    conn = stomp.Connection12([("127.0.0.1", port)], heartbeats=(0, 0), timeout=5)
    conn.set_ssl(for_hosts=[("127.0.0.1", port)], ca_certs=pki["ca.crt"])
    conn.set_listener("l", L())
    conn.connect(wait=True)
    try:
        conn.subscribe("/topic/tls.stomp", id="1", ack="auto")
        time.sleep(0.2)
        conn.send("/topic/tls.stomp", "hello over tls")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got == ["hello over tls"]
    finally:
        conn.disconnect()
    assert "listening: stomp/tls 127.0.0.1:%d" % port in b.log


def test_stalled_handshake_is_cut_while_others_work(broker_factory, pki, paho):
    b = broker_factory(listeners=[tls_listener(pki, handshake_timeout_ms=1000)])
    port = b.listener_ports[0]
    stalled = socket.create_connection(("127.0.0.1", port), timeout=6)
    half = socket.create_connection(("127.0.0.1", port), timeout=6)
    half.sendall(b"\x16\x03\x01\x02\x00\x01")  # a ClientHello that never finishes
    c = paho(port, transport="tls", tls=client_tls(pki))
    c.connect()
    c.subscribe("t", 1)
    t0 = time.monotonic()
    for s in (stalled, half):
        assert s.recv(100) == b""  # closed by the broker
    elapsed = time.monotonic() - t0
    assert elapsed < 4.0, elapsed
    c.publish("t", b"alive", qos=1)
    assert c.get().payload == b"alive"
    assert "tls handshake not completed within 1000 ms" in b.log
    stalled.close()
    half.close()


def server_fingerprint(port, pki):
    ctx = ssl.create_default_context(cafile=pki["ca.crt"])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            import hashlib
            return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def test_sighup_reloads_certificate_files(broker_factory, pki, paho, tmp_path):
    cert, key = str(tmp_path / "live.crt"), str(tmp_path / "live.key")
    shutil.copy(pki["server.crt"], cert)
    shutil.copy(pki["server.key"], key)
    b = broker_factory(listeners=[{"protocol": "mqtt", "transport": "tls",
                                   "tls": {"cert_file": cert, "key_file": key}}])
    port = b.listener_ports[0]
    old = server_fingerprint(port, pki)
    before = paho(port, transport="tls", tls=client_tls(pki))
    before.connect()
    before.subscribe("r", 1)

    # A broken file: the running certificate stays.
    with open(key, "w") as f:
        f.write("not a key\n")
    b.signal(signal.SIGHUP)
    assert wait_log(b, "keeping the running certificates")
    assert key in b.log
    assert server_fingerprint(port, pki) == old

    shutil.copy(pki["server2.crt"], cert)
    shutil.copy(pki["server2.key"], key)
    b.signal(signal.SIGHUP)
    assert wait_log(b, "reloaded %s" % cert)
    new = server_fingerprint(port, pki)
    assert new != old
    # The connection opened before the reload lives on.
    after = paho(port, transport="tls", tls=client_tls(pki))
    after.connect()
    after.publish("r", b"across the reload", qos=1)
    assert before.get().payload == b"across the reload"


@pytest.mark.parametrize("what", ["missing certificate", "bad key", "wrong key"])
def test_bad_certificate_files_stop_start_up(tmp_path, pki, what):
    cert, key = pki["server.crt"], pki["server.key"]
    if what == "missing certificate":
        cert = str(tmp_path / "nope.crt")
        named = cert
    elif what == "bad key":
        key = pki["ca.crt"]
        named = key
    else:
        key = pki["client.key"]
        named = key
    conf = tmp_path / "j.yaml"
    conf.write_text("listeners:\n  - {protocol: mqtt, port: 0}\n"
                    "  - {protocol: mqtt, transport: tls, port: 0, tls: {cert_file: %s, key_file: %s}}\n"
                    "store: {durability: memory}\n" % (cert, key))
    r = subprocess.run([junction_bin(), "--config", str(conf)], capture_output=True, text=True, timeout=20,
                       cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert named in r.stderr
    assert "start-up failed" in r.stderr


@pytest.mark.junction_only("certificate validity warnings")
def test_an_expired_server_certificate_is_warned_about_at_start_and_on_reload(broker_factory, pki):
    # It still loads (an operator may be mid-rotation), but not silently:
    # the log names the file and the dates, at start-up and on SIGHUP.
    b = broker_factory(listeners=[tls_listener(pki, cert_file=pki["expired.crt"], key_file=pki["expired.key"])])
    text = "certificate file %s has expired" % pki["expired.crt"]
    assert wait_log(b, text), b.log[-2000:]
    line = [l for l in b.log.splitlines() if text in l][0]
    assert "warning" in line and "valid from" in line and "until" in line
    b.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while b.log.count(text) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b.log.count(text) == 2
    # A valid certificate says nothing of the kind.
    ok = broker_factory(listeners=[tls_listener(pki)])
    time.sleep(0.2)
    assert "has expired" not in ok.log and "not valid before" not in ok.log
