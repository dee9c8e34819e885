"""21: command line, configuration file, signals, durability modes."""

import os
import re
import signal
import subprocess
import time

import pytest

import raw_mqtt as R
from broker import junction_bin, port_open
from clients import V311, V5, roundtrip, unique

pytestmark_j = pytest.mark.junction_only("Junction's own command line and configuration")


def _run(args, timeout=10, cwd=None):
    return subprocess.run([junction_bin()] + args, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL)


@pytestmark_j
def test_version():
    r = _run(["--version"])
    assert r.returncode == 0, r
    out = r.stdout + r.stderr
    assert re.search(r"\b\d+\.\d+\.\d+\b", out), "no version number in %r" % out


GOOD = """\
listeners:
  - protocol: mqtt
    transport: tcp
    bind: 127.0.0.1
    port: 18830
store:
  path: {data}
  durability: batch
limits:
  max_queued_messages: 1000
  max_packet_size: 65536
  max_keepalive: 600
log:
  level: info
"""


def _write(tmp_path, text, name="junction.yaml"):
    path = tmp_path / name
    path.write_text(text.format(data=tmp_path / "data"))
    return str(path)


@pytestmark_j
def test_check_config_good(tmp_path):
    path = _write(tmp_path, GOOD)
    r = _run(["--config", path, "--check-config"])
    assert r.returncode == 0, r


# (case, yaml text, key named in the message); the line is where that key is.
BAD = [
    ("unknown_top_level_key", GOOD + "bogus_section: 1\n", "bogus_section"),
    ("unknown_limits_key", GOOD.replace("  max_keepalive: 600", "  max_keepalive: 600\n  max_packet_sise: 5"),
     "max_packet_sise"),
    ("port_wrong_type", GOOD.replace("port: 18830", "port: eighteen"), "port"),
    ("port_out_of_range", GOOD.replace("port: 18830", "port: 70000"), "port"),
    ("bad_durability", GOOD.replace("durability: batch", "durability: sometimes"), "durability"),
    ("bad_protocol", GOOD.replace("protocol: mqtt", "protocol: gopher"), "protocol"),
    ("bad_log_level", GOOD.replace("level: info", "level: chatty"), "level"),
    ("limit_wrong_type", GOOD.replace("max_packet_size: 65536", "max_packet_size: [1, 2]"), "max_packet_size"),
    ("limit_negative", GOOD.replace("max_queued_messages: 1000", "max_queued_messages: -5"), "max_queued_messages"),
    ("listeners_not_a_list", GOOD.replace(
        "listeners:\n  - protocol: mqtt\n    transport: tcp\n    bind: 127.0.0.1\n    port: 18830\n",
        "listeners: 5\n"), "listeners"),
    ("unknown_listener_key", GOOD.replace("    bind: 127.0.0.1", "    bind: 127.0.0.1\n    colour: red"),
     "colour"),
]


def _key_line(text, key):
    for i, line in enumerate(text.splitlines(), 1):
        if re.match(r"^\s*(- )?%s:" % re.escape(key), line):
            return i
    raise AssertionError("key %s not in the test text" % key)


@pytestmark_j
@pytest.mark.parametrize("case,text,key", BAD, ids=[b[0] for b in BAD])
def test_check_config_errors_name_file_line_key(tmp_path, case, text, key):
    path = _write(tmp_path, text, name="bad-%s.yaml" % case)
    line = _key_line(text, key)
    r = _run(["--config", path, "--check-config"])
    err = r.stderr
    assert r.returncode == 1, "exit %s, stderr %r" % (r.returncode, err)
    assert os.path.basename(path) in err, "file not named: %r" % err
    assert re.search(r"(:|line\s*)%d\b" % line, err), "line %d not named: %r" % (line, err)
    assert key in err, "key %r not named: %r" % (key, err)


@pytestmark_j
def test_check_config_yaml_syntax_error(tmp_path):
    text = GOOD.replace("  durability: batch", "  durability: [batch")
    path = _write(tmp_path, text, name="syntax.yaml")
    r = _run(["--config", path, "--check-config"])
    assert r.returncode == 1, r
    assert "syntax.yaml" in r.stderr
    assert re.search(r"(:|line\s*)(8|9|10|11|12|13|14|15|16)\b", r.stderr), r.stderr


@pytestmark_j
def test_missing_config_file(tmp_path):
    r = _run(["--config", str(tmp_path / "nope.yaml"), "--check-config"])
    assert r.returncode != 0
    assert "nope.yaml" in r.stderr


@pytestmark_j
def test_bad_config_refuses_to_start(tmp_path):
    text = GOOD.replace("durability: batch", "durability: sometimes").replace("18830", "18831")
    path = _write(tmp_path, text)
    r = _run(["--config", path], timeout=10)
    assert r.returncode != 0
    assert "durability" in r.stderr
    assert "listening:" not in r.stderr


@pytestmark_j
def test_unknown_option(tmp_path):
    r = _run(["--no-such-option"])
    assert r.returncode != 0


@pytestmark_j
@pytest.mark.timeout(30)
def test_default_config_without_arguments(tmp_path):
    """No --config: the embedded default, MQTT on 127.0.0.1:1883, data in ./junction-data."""
    for p in (1883, 61613, 8080):
        if port_open(p):
            pytest.skip("port %d is busy on this machine" % p)
    log = tmp_path / "default.log"
    with open(log, "w") as f:
        proc = subprocess.Popen([junction_bin()], cwd=tmp_path, stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "listening: mqtt/tcp 127.0.0.1:1883" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        assert "listening: mqtt/tcp 127.0.0.1:1883" in log.read_text()
        roundtrip(1883)
        assert (tmp_path / "junction-data").is_dir()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)
    assert rc == 0, log.read_text()


def test_sigterm_with_connected_clients_exits_cleanly(broker, paho, raw, junction):
    a = paho(broker.port, version=V311)
    a.connect()
    b = paho(broker.port, version=V5)
    b.connect()
    r5 = raw(R.V5)
    assert r5.connect("shutdown-watch").reason == 0
    rc = broker.stop()
    assert rc == 0
    got = r5.recv_until_closed(5)
    if junction:
        # v5: DISCONNECT 0x8B Server shutting down
        assert [(p.type, p.reason) for p in got] == [(R.DISCONNECT, 0x8B)], got
    a.wait_gone(5)
    b.wait_gone(5)


def test_sighup_keeps_serving(broker, paho):
    c = paho(broker.port)
    c.connect()
    topic = unique("hup")
    c.subscribe(topic, 1)
    broker.signal(signal.SIGHUP)
    time.sleep(0.5)
    assert broker.running
    c.publish(topic, b"after hup", qos=1)
    assert c.get().payload == b"after hup"
    roundtrip(broker.port)


@pytest.mark.junction_only("durability: memory is a Junction mode")
@pytest.mark.broker_options(durability="memory")
def test_memory_durability_keeps_nothing(broker, paho):
    topic = unique("mem")
    p = paho(broker.port)
    p.connect()
    p.publish(topic, b"volatile", qos=1, retain=True)
    s = paho(broker.port)
    s.connect()
    s.subscribe(topic, 1)
    assert s.get().payload == b"volatile"
    broker.restart()
    s2 = paho(broker.port)
    s2.connect()
    s2.subscribe(topic, 1)
    s2.expect_nothing(0.5)


@pytest.mark.parametrize("durability", ["sync", "batch"])
def test_durability_modes_keep_state(broker_factory, paho, durability):
    b = broker_factory(durability=durability)
    topic = unique("dur")
    p = paho(b.port)
    p.connect()
    p.publish(topic, durability.encode(), qos=1, retain=True)
    p.disconnect()
    b.restart()
    s = paho(b.port)
    s.connect()
    s.subscribe(topic, 1)
    assert s.get().payload == durability.encode()


@pytest.mark.junction_only("Junction log levels")
@pytest.mark.broker_options(log_level="debug")
def test_debug_log_level(broker):
    roundtrip(broker.port)
    assert broker.log.strip()
