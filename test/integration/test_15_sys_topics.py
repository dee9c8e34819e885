"""$SYS/broker/... statistics (README "$SYS") seen by clients other people
wrote: mosquitto_sub, paho-mqtt (3.1.1 and 5) and stomp.py.

The broker runs with `sys: {interval_s: 1}` (Mosquitto: `sys_interval 1`,
so the tests not marked junction_only also check themselves against
Mosquitto). What is checked: the values arrive and follow the clients,
wildcard subscribers do not get them, a client cannot overwrite them (MQTT 5:
PUBACK 0x87 Not authorized; 3.1.1: acknowledged and dropped, the connection
stays; STOMP: ERROR), and a restart does not bring back old values.
"""

import re
import subprocess
import time

import pytest

from clients import MOSQUITTO_SUB, V5, V311, roundtrip
from stomp_client import stomps  # noqa: F401 (fixture)

SYS_OPTIONS = dict(extra_yaml="sys: {interval_s: 1}\n", mosquitto_conf="sys_interval 1\n", stomp=True)

pytestmark = [pytest.mark.broker_options(**SYS_OPTIONS)]

NOT_AUTHORIZED = 0x87
UPTIME = re.compile(r"^\d+ seconds$")


def collect_until(sub, done, timeout=6.0, what="values", values=None):
    """Latest payload per topic from a MosquittoSub until done(values) holds
    (`values`: what an earlier call collected, updated in place)."""
    values = {} if values is None else values
    if done(values):
        return values
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            m = sub.get(timeout=max(0.05, deadline - time.monotonic()))
        except AssertionError:
            break
        values[m.topic] = m.payload
        if done(values):
            return values
    raise AssertionError("%s not seen within %.1fs; got %r" % (what, timeout, values))


def drain(sub, seconds):
    """What a MosquittoSub receives within `seconds`."""
    out = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            out.append(sub.get(timeout=max(0.05, deadline - time.monotonic())))
        except AssertionError:
            break
    return out


def as_int(values, topic):
    return int(values.get(topic, "-1"))


def test_mosquitto_sub_sees_the_tree(broker, junction):
    # The way users look: mosquitto_sub -v, which prints "topic payload".
    r = subprocess.run([MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(broker.port), "-t", "$SYS/#", "-v", "-W", "3"],
                       capture_output=True, text=True, timeout=15)
    lines = r.stdout.splitlines()
    first = {}
    for line in lines:
        for topic in ("$SYS/broker/version", "$SYS/broker/uptime", "$SYS/broker/clients/connected"):
            if line.startswith(topic + " "):
                first.setdefault(topic, line[len(topic) + 1:])
    assert set(first) == {"$SYS/broker/version", "$SYS/broker/uptime", "$SYS/broker/clients/connected"}, lines
    assert first["$SYS/broker/version"].startswith("junction " if junction else "mosquitto version ")
    assert UPTIME.match(first["$SYS/broker/uptime"]), first
    assert int(first["$SYS/broker/clients/connected"]) >= 0
    # Updated every interval: more than one uptime within 3 s.
    assert sum(1 for line in lines if line.startswith("$SYS/broker/uptime ")) >= 2, lines


def test_values_follow_clients_and_messages(broker, paho, msub):
    connected = "$SYS/broker/clients/connected"
    received = "$SYS/broker/messages/received"
    sub = msub(broker.port, [connected, received])
    base = collect_until(sub, lambda v: connected in v and received in v, what="the first values")
    # Wait for a value that counts the watcher itself (it may have come as an older retained one).
    base = collect_until(sub, lambda v: as_int(v, connected) >= 1, what="the watcher counted", values=base)
    n0, r0 = as_int(base, connected), as_int(base, received)

    clients = []
    for i in range(3):
        c = paho(broker.port, version=V5 if i % 2 else V311)
        c.connect()
        clients.append(c)
    for c in clients:
        for k in range(5):
            c.publish("sys-test/data", b"%d" % k, qos=1)
    after = collect_until(sub, lambda v: as_int(v, connected) >= n0 + 3 and as_int(v, received) >= r0 + 15,
                          what="3 more clients and 15 more messages")
    assert as_int(after, connected) == n0 + 3

    for c in clients:
        c.disconnect()
    collect_until(sub, lambda v: as_int(v, connected) == n0, what="the clients gone again")


def test_only_changed_values_are_published_again(broker, msub, junction):
    # Nothing changes for the connected count while we watch: after the
    # retained value, at most one more (the first update), never one per interval.
    sub = msub(broker.port, ["$SYS/broker/clients/total", "$SYS/broker/uptime"])
    got = drain(sub, 3.5)
    uptimes = [m for m in got if m.topic == "$SYS/broker/uptime"]
    totals = [m for m in got if m.topic == "$SYS/broker/clients/total"]
    # uptime goes out every interval (Mosquitto's sys_interval 1 is every 2 s in practice)
    assert len(uptimes) >= (3 if junction else 2), got
    assert 1 <= len(totals) <= 2, got


def test_wildcard_subscribers_get_no_sys(broker, paho):
    c = paho(broker.port, version=V5)
    c.connect()
    c.subscribe("#", qos=1)
    c.subscribe("+/broker/#", qos=1)
    c.publish("plain/topic", b"x", qos=1)
    got = c.drain(quiet=2.5, limit=6)
    assert [m.topic for m in got] == ["plain/topic"], got


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_v5_publish_to_sys_is_refused(broker, paho, msub, junction, qos):
    forger = paho(broker.port, version=V5)
    forger.connect()
    mid = forger.publish("$SYS/broker/uptime", b"forged", qos=qos, retain=True)
    if qos == 1:
        assert forger.puback_reason(mid) == NOT_AUTHORIZED
    # What subscribers see, live and retained, is the broker's value.
    sub = msub(broker.port, "$SYS/broker/uptime")
    seen = [sub.get(timeout=4).payload for _ in range(3)]
    assert all(UPTIME.match(p) for p in seen), seen
    # The connection stays and works.
    assert forger.connack is not None and not forger.gone.is_set()
    forger.subscribe("after/refusal", qos=1)
    forger.publish("after/refusal", b"ok", qos=1)
    assert forger.get().payload == b"ok"


def test_v311_publish_to_sys_is_dropped_connection_kept(broker, paho, msub):
    forger = paho(broker.port, version=V311)
    forger.connect()
    forger.publish("$SYS/broker/clients/connected", b"12345", qos=1, retain=True)  # PUBACK comes (waited for)
    forger.publish("$SYS/broker/clients/connected", b"12345", qos=2, retain=True)  # PUBCOMP too
    sub = msub(broker.port, "$SYS/broker/clients/connected")
    values = [sub.get(timeout=4).payload] + [m.payload for m in drain(sub, 2.5)]
    assert "12345" not in values, values
    assert not forger.gone.is_set()
    roundtrip(broker.port)


@pytest.mark.junction_only("Junction counts refused $SYS publishes")
def test_refusals_are_counted(broker, paho, msub):
    forger = paho(broker.port, version=V5)
    forger.connect()
    for _ in range(3):
        forger.publish("$SYS/broker/anything", b"x", qos=1)
    sub = msub(broker.port, "$SYS/broker/publish/sys/refused")
    collect_until(sub, lambda v: v.get("$SYS/broker/publish/sys/refused") == "3", what="3 refusals")


@pytest.mark.junction_only("STOMP front-end")
def test_stomp_reads_sys_and_send_gets_error(broker, stomps, msub):
    reader = stomps(broker.stomp_port, "1.2")
    reader.subscribe("/topic/$SYS/broker/version", sub_id="v")
    assert reader.get(timeout=4).body.startswith(b"junction ")

    c = stomps(broker.stomp_port, "1.2")
    c.conn.send("/topic/$SYS/broker/uptime", "forged")
    errs = c.wait_errors()
    assert errs and errs[0][0]["message"] == "$SYS destinations are read-only", errs
    sub = msub(broker.port, "$SYS/broker/uptime")
    seen = [sub.get(timeout=4).payload for _ in range(2)]
    assert all(UPTIME.match(p) for p in seen), seen
    reader.expect_nothing(0.2)  # the reader is unaffected


@pytest.mark.junction_only("Junction regenerates $SYS instead of storing it")
def test_restart_does_not_bring_back_old_values(broker, msub):
    sub = msub(broker.port, "$SYS/broker/uptime")
    collect_until(sub, lambda v: int(v.get("$SYS/broker/uptime", "0 seconds").split()[0]) >= 5,
                  what="uptime 5 s", timeout=10)
    sub.close()
    broker.restart()
    sub = msub(broker.port, "$SYS/broker/uptime")
    first = sub.get(timeout=4).payload
    assert int(first.split()[0]) <= 3, first  # this run's, not the stored 5+


@pytest.mark.junction_only("sys.interval_s is Junction's key")
def test_interval_zero_disables_the_tree(broker_factory, paho):
    b = broker_factory(extra_yaml="sys: {interval_s: 0}\n")
    c = paho(b.port, version=V5)
    c.connect()
    c.subscribe("$SYS/#", qos=0)
    assert c.drain(quiet=2.5, limit=6) == []


@pytest.mark.junction_only("Junction configuration (auth section)")
def test_acl_read_rule_governs_sys(broker_factory, paho, tmp_path):
    from auth_files import auth_yaml, write_acl
    acl = write_acl(tmp_path / "acl", "topic read $SYS/#\ntopic deny $SYS/broker/uptime\n\n"
                                      "user watcher\ntopic read $SYS/#\n")
    b = broker_factory(extra_yaml="sys: {interval_s: 1}\n" + auth_yaml(acl_file=acl))
    watcher = paho(b.port, version=V5, username="watcher")
    watcher.connect()
    watcher.subscribe("$SYS/broker/uptime", qos=0)
    assert UPTIME.match(watcher.get(timeout=4).payload.decode())
    anon = paho(b.port, version=V5)
    anon.connect()
    # Partly readable: granted, and each message (retained ones too) is checked.
    assert anon.subscribe("$SYS/#", qos=0) == [0]
    topics = {m.topic for m in anon.drain(quiet=2.5, limit=6)}
    assert "$SYS/broker/version" in topics and "$SYS/broker/clients/connected" in topics, topics
    assert "$SYS/broker/uptime" not in topics, topics
