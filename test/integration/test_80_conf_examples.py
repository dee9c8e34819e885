"""80: the example configurations in conf/ work as their comments say.

Each example is run from the repository root (its relative paths point at
conf/ and test/data/tls/), with its ports moved to free ones and its store in
a temporary directory, and driven with the commands its comments show.
"""

import os
import re
import signal
import subprocess
import time

import pytest

from broker import free_port, junction_bin, port_open
from clients import MosquittoSub, unique

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONF = os.path.join(REPO, "conf")
TLS = os.path.join(REPO, "test", "data", "tls")

pytestmark = pytest.mark.junction_only("Junction's own example configurations")


def pub(port, topic, message, extra=(), version="mqttv311", qos=0):
    """mosquitto_pub once; returns its exit code (refusals are expected here)."""
    cmd = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-V", version, "-q", str(qos),
           "-t", topic, "-m", message] + list(extra)
    return subprocess.run(cmd, capture_output=True, timeout=20, stdin=subprocess.DEVNULL).returncode


def only(sub, expected, settle=1.0):
    """The subscriber got exactly `expected` [(topic, payload)] and nothing after."""
    got = [(m.topic, m.payload) for m in sub.get_n(len(expected))]
    assert got == expected
    with pytest.raises(AssertionError):
        sub.get(timeout=settle)


def example_files():
    return sorted(f for f in os.listdir(CONF) if f.endswith(".yaml"))


@pytest.mark.parametrize("name", example_files())
def test_every_example_passes_check_config(name):
    r = subprocess.run([junction_bin(), "--check-config", "--config", os.path.join("conf", name)],
                       cwd=REPO, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "configuration OK" in r.stdout + r.stderr


class Example:
    """One example running with free ports; `port(n)` maps the port the
    example names to the one it got."""

    def __init__(self, name, tmp_path):
        text = open(os.path.join(CONF, name)).read()
        self.ports = {}

        def move(m):
            old = int(m.group(1))
            if old not in self.ports:
                self.ports[old] = free_port()
            return "port: %d" % self.ports[old]

        text = re.sub(r"port: (\d+)", move, text)
        text = re.sub(r"path: \./junction-data", "path: %s" % (tmp_path / "data"), text)
        self.config = tmp_path / name
        self.config.write_text(text)
        self.log = open(tmp_path / "junction.log", "w+")
        self.proc = subprocess.Popen([junction_bin(), "--config", str(self.config)], cwd=REPO,
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            if all(port_open(p) for p in self.ports.values()):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        self.log.seek(0)
        raise AssertionError("example %s did not start:\n%s" % (name, self.log.read()))

    def port(self, n):
        return self.ports[n]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def example(tmp_path):
    started = []

    def start(name):
        e = Example(name, tmp_path)
        started.append(e)
        return e

    yield start
    for e in started:
        assert e.stop() == 0


def test_auth_example_users_and_acl(example):
    e = example("auth-example.yaml")
    port = e.port(1883)
    topic = "sensors/sensor-1/temp"
    sub = MosquittoSub(port, "sensors/#", extra=["-u", "alice", "-P", "alice-secret"])
    try:
        assert pub(port, topic, "21.5", extra=["-u", "sensor-1", "-P", "sensor-secret"]) == 0
        # Denied by the ACL: sensor-1 writes only under sensors/sensor-1/
        # (MQTT 5 PUBACK 0x87; the message goes nowhere).
        pub(port, "sensors/other/temp", "1", version="mqttv5", qos=1,
            extra=["-u", "sensor-1", "-P", "sensor-secret"])
        only(sub, [(topic, "21.5")])
    finally:
        sub.close()
    # Wrong password and anonymous: refused.
    assert pub(port, "x", "1", extra=["-u", "sensor-1", "-P", "wrong"]) != 0
    assert pub(port, "x", "1") != 0


def test_tls_websocket_example_client_certificate(example):
    e = example("tls-websocket-example.yaml")
    ca = os.path.join(TLS, "ca.crt")
    tls = ["--cafile", ca, "--cert", os.path.join(TLS, "client.crt"), "--key", os.path.join(TLS, "client.key")]
    topic = "sensors/%s" % unique("room")
    sub = MosquittoSub(e.port(8883), "sensors/#", extra=tls)
    try:
        assert pub(e.port(1883), topic, "21.5") == 0
        only(sub, [(topic, "21.5")])
    finally:
        sub.close()
    # Without a client certificate the TLS listener refuses.
    assert pub(e.port(8883), topic, "1", extra=["--cafile", ca]) != 0
