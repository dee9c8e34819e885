"""Consumers joining a queue that already holds a backlog (the moment a queue
matters most: consumers come back to a full queue). MQTT `$queue/<name>`
consumers (paho-mqtt 3.1.1 and 5, QoS 1 and 2, small and default Receive
Maximum; mosquitto_sub) and STOMP `/queue/<name>` consumers (stomp.py) must
each receive the whole backlog, each message once and in order; several
consumers share it; a consumer that leaves puts back only what it had not
acknowledged. The backlog is filled by other people's clients too
(mosquitto_pub -l, stomp.py).
"""

import socket
import subprocess
import time

import pytest

import raw_mqtt
from clients import MOSQUITTO_PUB, V5, V311, MosquittoSub, PahoClient
from stomp_client import stomps  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.junction_only("$queue/ and /queue/ are Junction's point-to-point queues"),
    pytest.mark.broker_options(stomp=True),
    pytest.mark.timeout(120),
]

BIG = 3000   # above every consumer window (paho's 20-message client window aside)
SMALL = 50   # below the default window


def fill_mqtt(port, queue, n, version="mqttv311"):
    """n QoS 1 messages "0".."n-1" into $queue/<queue>, one mosquitto_pub -l run."""
    lines = "".join("%d\n" % i for i in range(n)).encode()
    r = subprocess.run([MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-V", version, "-q", "1",
                        "-t", "$queue/" + queue, "-l"], input=lines, capture_output=True, timeout=90)
    assert r.returncode == 0, r.stderr


def fill_stomp(stomps, port, queue, n):
    pub = stomps(port, "1.2")
    for i in range(n - 1):
        pub.conn.send("/queue/" + queue, str(i))
    pub.send("/queue/" + queue, str(n - 1), receipt="filled")  # receipts are answered in order
    pub.disconnect()


def ints(payloads):
    return [int(p) for p in payloads]


def paho_consumer(broker, version, receive_max=None, **kw):
    cp = {"ReceiveMaximum": receive_max} if receive_max else None
    c = PahoClient(broker.port, version=version, connect_props=cp, **kw)
    c.connect()
    return c


def assert_queue_empty(broker, queue, version=V311):
    """A fresh consumer finds nothing left: what was acknowledged does not come back."""
    c = paho_consumer(broker, version)
    try:
        c.subscribe("$queue/" + queue, 1)
        c.expect_nothing(1.0)
    finally:
        c.disconnect()
        c.close()


# ------------------------------------------------------------------ MQTT

@pytest.mark.parametrize("version,qos,n,receive_max", [
    (V311, 1, BIG, None),
    (V311, 2, BIG, None),
    (V5, 1, BIG, 10),
    (V5, 2, BIG, 1),
    (V5, 1, BIG, None),
    (V311, 1, SMALL, None),
    (V5, 2, SMALL, 10),
], ids=["v311-q1-big", "v311-q2-big", "v5-q1-big-rm10", "v5-q2-big-rm1", "v5-q1-big",
        "v311-q1-small", "v5-q2-small-rm10"])
def test_paho_consumer_drains_a_backlog(broker, version, qos, n, receive_max):
    fill_mqtt(broker.port, "work", n)
    c = paho_consumer(broker, version, receive_max)
    assert c.subscribe("$queue/work", qos) == [qos]
    got = c.get_n(n, timeout=90)
    assert ints(m.payload for m in got) == list(range(n))
    assert all(m.topic == "$queue/work" for m in got)
    c.expect_nothing(0.5)
    c.disconnect()
    c.close()
    assert_queue_empty(broker, "work")


def test_mosquitto_sub_drains_a_backlog(broker):
    fill_mqtt(broker.port, "work", BIG)
    sub = MosquittoSub(broker.port, "$queue/work", qos=1)
    try:
        got = sub.get_n(BIG, timeout=90)
        assert ints(m.payload for m in got) == list(range(BIG))
        time.sleep(0.5)  # its last PUBACKs reach the broker before it is stopped
    finally:
        sub.close()
    assert_queue_empty(broker, "work")


def test_mosquitto_sub_v5_qos2_drains_a_backlog(broker):
    fill_mqtt(broker.port, "work", SMALL, version="mqttv5")
    sub = MosquittoSub(broker.port, "$queue/work", qos=2, version="mqttv5")
    try:
        got = sub.get_n(SMALL, timeout=30)
        assert ints(m.payload for m in got) == list(range(SMALL))
        time.sleep(0.5)
    finally:
        sub.close()
    assert_queue_empty(broker, "work", version=V5)


def test_several_mqtt_consumers_share_a_backlog(broker):
    fill_mqtt(broker.port, "shared", BIG)
    consumers = [paho_consumer(broker, V5 if i % 2 else V311, 25 if i % 2 else None) for i in range(3)]
    for c in consumers:
        c.subscribe("$queue/shared", 1)
    per = [[] for _ in consumers]
    deadline = time.monotonic() + 90
    while sum(map(len, per)) < BIG and time.monotonic() < deadline:
        for i, c in enumerate(consumers):
            per[i] += ints(m.payload for m in c.drain(quiet=0.05, limit=0.5))
    everything = sorted(x for p in per for x in p)
    assert everything == list(range(BIG)), "got %d messages, %d distinct" % (len(everything), len(set(everything)))
    for p in per:
        assert p, "a consumer got nothing"
        assert p == sorted(p), "one consumer's messages out of queue order"
    for c in consumers:
        c.disconnect()
        c.close()
    assert_queue_empty(broker, "shared")


@pytest.mark.parametrize("version", [V311, V5])
def test_mqtt_consumer_leaving_requeues_only_unacknowledged(broker, version):
    fill_mqtt(broker.port, "jobs", SMALL)
    # A consumer that acknowledges 4 of its 10 and leaves: an MQTT client
    # with a window of 10 (v5 Receive Maximum; 3.1.1: it reads 10 and stops).
    raw = raw_mqtt.RawClient(broker.port, version=version)
    props = [(raw_mqtt.P_RECEIVE_MAXIMUM, 10)] if version == V5 else None
    assert raw.connect("leaver", props=props).reason == 0
    # The broker may send matching PUBLISHes before the SUBACK [MQTT-3.8.4-4 note].
    raw.send(raw_mqtt.subscribe(1, [("$queue/jobs", 1)], version=version))
    first = []
    while True:
        p = raw.recv()
        if p.type == raw_mqtt.SUBACK:
            assert p.reasons == [1]
            break
        first.append(p)
    while len(first) < 10:
        first.append(raw.expect(raw_mqtt.PUBLISH))
    first = first[:10]
    assert ints(p.payload for p in first) == list(range(10))
    for p in first[:4]:
        raw.send(raw_mqtt.puback(p.packet_id, version=version))
    raw.send(raw_mqtt.pingreq())  # answered in order: the PUBACKs were handled
    raw.expect(raw_mqtt.PINGRESP, skip=(raw_mqtt.PUBLISH,))
    raw.send(raw_mqtt.disconnect(version=version))
    raw.close()

    c = paho_consumer(broker, version)
    c.subscribe("$queue/jobs", 1)
    got = c.get_n(SMALL - 4, timeout=30)
    assert ints(m.payload for m in got) == list(range(4, SMALL))
    c.expect_nothing(0.5)
    c.disconnect()
    c.close()
    assert_queue_empty(broker, "jobs")


def test_mqtt_consumer_lost_mid_backlog_and_another_finishes(broker):
    fill_mqtt(broker.port, "relay", BIG)
    # A v5 consumer with a window of 50 acknowledges exactly 0..999 as they
    # come, then its connection is lost (no DISCONNECT). A raw client: paho
    # sends a PUBACK only when its network loop gets to write, so which ones
    # reached the broker before a loss would be paho's timing, not the test's.
    a = raw_mqtt.RawClient(broker.port, version=V5)
    assert a.connect("relay-a", props=[(raw_mqtt.P_RECEIVE_MAXIMUM, 50)]).reason == 0
    a.send(raw_mqtt.subscribe(1, [("$queue/relay", 1)], version=V5))
    handled = []
    while len(handled) < 1000:
        p = a.recv(timeout=30)
        if p.type != raw_mqtt.PUBLISH:
            continue
        handled.append(int(p.payload))
        a.send(raw_mqtt.puback(p.packet_id, version=V5))
    assert handled == list(range(1000))
    a.send(raw_mqtt.pingreq())  # answered in order: the PUBACKs were handled
    a.expect(raw_mqtt.PINGRESP, skip=(raw_mqtt.PUBLISH,))
    a.sock.shutdown(socket.SHUT_RDWR)  # the broker sees EOF: an unclean loss
    a.close()

    b = paho_consumer(broker, V311)
    b.subscribe("$queue/relay", 1)
    rest = ints(m.payload for m in b.get_n(BIG - 1000, timeout=60))
    assert rest == list(range(1000, BIG)), "acknowledged messages came back, or some are missing"
    b.expect_nothing(0.5)
    b.disconnect()
    b.close()


# ------------------------------------------------------------------ STOMP: the same behaviour

def drain_acking(c, n, timeout=90):
    """Receive n messages, acknowledging each (client-individual)."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        f = c.get(timeout=max(0.0, deadline - time.monotonic()))
        out.append(int(f.body))
        c.ack(f)
    return out


@pytest.mark.parametrize("n", [BIG, SMALL], ids=["big", "small"])
def test_stomp_consumer_drains_a_backlog(broker, stomps, n):
    fill_stomp(stomps, broker.stomp_port, "work", n)
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/work", sub_id="w", ack="client-individual", **{"prefetch-count": "10"})
    assert drain_acking(c, n) == list(range(n))
    c.expect_nothing(0.5)
    c.disconnect()
    assert_queue_empty(broker, "work")


def test_several_stomp_consumers_share_a_backlog(broker, stomps):
    fill_stomp(stomps, broker.stomp_port, "shared", BIG)
    consumers = [stomps(broker.stomp_port, "1.2") for _ in range(3)]
    for i, c in enumerate(consumers):
        c.subscribe("/queue/shared", sub_id="s%d" % i, ack="client-individual", **{"prefetch-count": "25"})
    per = [[] for _ in consumers]
    deadline = time.monotonic() + 90
    while sum(map(len, per)) < BIG and time.monotonic() < deadline:
        for i, c in enumerate(consumers):
            for f in c.drain(quiet=0.05, limit=0.5):
                per[i].append(int(f.body))
                c.ack(f)
    everything = sorted(x for p in per for x in p)
    assert everything == list(range(BIG))
    for p in per:
        assert p and p == sorted(p)
    for c in consumers:
        c.disconnect()
    assert_queue_empty(broker, "shared")


def test_stomp_consumer_leaving_requeues_only_unacknowledged(broker, stomps):
    fill_stomp(stomps, broker.stomp_port, "jobs", SMALL)
    a = stomps(broker.stomp_port, "1.2")
    a.subscribe("/queue/jobs", sub_id="a", ack="client-individual", **{"prefetch-count": "10"})
    first = a.get_n(10)
    assert [int(f.body) for f in first] == list(range(10))
    for f in first[:3]:
        a.ack(f)
    a.ack(first[3], receipt="acked")
    a.disconnect()
    b = stomps(broker.stomp_port, "1.1")
    b.subscribe("/queue/jobs", sub_id="b", ack="client-individual")
    assert drain_acking(b, SMALL - 4, timeout=30) == list(range(4, SMALL))
    b.expect_nothing(0.5)
    b.disconnect()
    assert_queue_empty(broker, "jobs")
