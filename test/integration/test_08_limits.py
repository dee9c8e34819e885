"""08: limits and flow control: receive maximum (both ways), maximum packet
size (both ways), bounded offline queues."""

import time

import pytest

import raw_mqtt as R
from clients import V311, V5, VERSION_NAMES, roundtrip, unique
from stomp_client import stomps  # noqa: F401 (fixture)


def _publish_n(paho, broker, topic, n, qos=1):
    p = paho(broker.port, version=V5)
    p.connect()
    for i in range(n):
        p.publish(topic, str(i).encode(), qos=qos, wait=False)
    return p


def _publishes(c, wait):
    """PUBLISH packets that arrive within `wait` seconds."""
    out = []
    deadline = time.monotonic() + wait
    while True:
        try:
            p = c.recv(max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            return out
        if p.type == R.PUBLISH:
            out.append(p)


def _next_publishes(c, wait, extra=0.3):
    """The PUBLISHes that arrive once the first one has (within `wait`): the
    first and whatever follows it within `extra` seconds. A broker that sends
    too many sends them together, so this catches it without waiting out
    `wait` every time."""
    first = _publishes_until_one(c, wait)
    return first + (_publishes(c, extra) if first else [])


def _publishes_until_one(c, wait):
    deadline = time.monotonic() + wait
    while True:
        try:
            p = c.recv(max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            return []
        if p.type == R.PUBLISH:
            return [p]


RM_DEVIATION = ("Mosquitto 2.0.11 refills more than one slot per acknowledgement: with Receive "
                "Maximum 2, one PUBACK/PUBCOMP is followed by 2 new PUBLISHes (3 unacknowledged), "
                "against [MQTT-3.3.4-9]")


def test_receive_maximum_initial_window(broker, paho, raw):
    """[MQTT-3.3.4-9]: with Receive Maximum 2 and no acks, exactly 2 QoS 1
    PUBLISHes arrive; acking everything then delivers all, in order."""
    topic = unique("lim/rm0")
    c = raw(R.V5)
    assert c.connect("rm0", props={R.P_RECEIVE_MAXIMUM: 2}).reason == 0
    c.subscribe(1, [(topic, 1)])
    _publish_n(paho, broker, topic, 10)
    got = _publishes(c, 1.0)
    assert len(got) == 2, "receive maximum 2 but %d unacked PUBLISHes: %r" % (len(got), got)
    acked = 0
    deadline = time.monotonic() + 10
    while len(got) < 10 and time.monotonic() < deadline:
        while acked < len(got):
            c.send(R.puback(got[acked].packet_id, R.V5))
            acked += 1
        got += _publishes(c, 0.3)
    assert [int(p.payload) for p in got] == list(range(10))


@pytest.mark.junction_only(RM_DEVIATION)
def test_receive_maximum_qos1(broker, paho, raw):
    """[MQTT-3.3.4-9]: never more than Receive Maximum unacknowledged QoS 1 PUBLISHes."""
    topic = unique("lim/rm1")
    c = raw(R.V5)
    assert c.connect("rm1", props={R.P_RECEIVE_MAXIMUM: 2}).reason == 0
    c.subscribe(1, [(topic, 1)])
    _publish_n(paho, broker, topic, 10)
    first = _publishes(c, 1.0)
    assert len(first) == 2, "receive maximum 2 but %d unacked PUBLISHes: %r" % (len(first), first)
    c.send(R.puback(first[0].packet_id, R.V5))
    more = _publishes(c, 0.7)
    assert len(more) == 1, "one ack frees exactly one slot: %r" % more
    got = first + more
    while len(got) < 10:
        c.send(R.puback(got[len(got) - 2].packet_id, R.V5))
        nxt = _next_publishes(c, 2.0)
        assert len(nxt) == 1, "after ack #%d: %r" % (len(got) - 1, nxt)
        got += nxt
    assert [int(p.payload) for p in got] == list(range(10))


@pytest.mark.junction_only(RM_DEVIATION)
def test_receive_maximum_qos2_counts_until_pubcomp(broker, paho, raw):
    """A QoS 2 delivery stays in flight until PUBCOMP (PUBREC does not free the slot)."""
    topic = unique("lim/rm2")
    c = raw(R.V5)
    assert c.connect("rm2", props={R.P_RECEIVE_MAXIMUM: 2}).reason == 0
    c.subscribe(1, [(topic, 2)])
    _publish_n(paho, broker, topic, 5, qos=2)
    first = _publishes(c, 1.0)
    assert len(first) == 2, first
    for p in first:
        c.send(R.pubrec(p.packet_id, R.V5))
    rels = [c.expect(R.PUBREL, 2), c.expect(R.PUBREL, 2)]
    assert sorted(r.packet_id for r in rels) == sorted(p.packet_id for p in first)
    assert _publishes(c, 0.6) == [], "PUBREC must not free a receive-maximum slot"
    c.send(R.pubcomp(first[0].packet_id, R.V5))
    more = _publishes(c, 1.0)
    assert len(more) == 1 and int(more[0].payload) == 2, more


def test_receive_maximum_pubrec_does_not_free_slot(broker, paho, raw):
    topic = unique("lim/rm3")
    c = raw(R.V5)
    assert c.connect("rm3", props={R.P_RECEIVE_MAXIMUM: 2}).reason == 0
    c.subscribe(1, [(topic, 2)])
    _publish_n(paho, broker, topic, 5, qos=2)
    first = _publishes(c, 1.0)
    assert len(first) == 2, first
    for p in first:
        c.send(R.pubrec(p.packet_id, R.V5))
    c.expect(R.PUBREL, 2)
    c.expect(R.PUBREL, 2)
    assert _publishes(c, 0.6) == [], "PUBREC must not free a receive-maximum slot"


@pytest.mark.junction_only("Mosquitto 2.0.11 does not enforce its own Receive Maximum on clients "
                           "(v5 3.3.4: DISCONNECT 0x93 Receive Maximum exceeded)")
@pytest.mark.broker_options(limits=dict(receive_maximum=5, max_inflight=5))
def test_client_exceeding_server_receive_maximum(broker, raw):
    c = raw(R.V5)
    ack = c.connect("rmx")
    assert ack.prop(R.P_RECEIVE_MAXIMUM) == 5
    for i in range(1, 7):  # QoS 2, never released: 6 in flight > 5
        c.publish("lim/rmx", b"x", qos=2, packet_id=i)
    got = c.recv_until_closed(5)
    types = [(p.type, p.reason) for p in got]
    assert types[-1] == (R.DISCONNECT, 0x93), types
    assert types.count((R.PUBREC, 0)) + types.count((R.PUBREC, 0x10)) <= 5, types
    roundtrip(broker.port)


@pytest.mark.broker_options(limits=dict(max_inflight=3))
@pytest.mark.parametrize("version", [R.V311, R.V5])
def test_server_inflight_window(broker, paho, raw, version):
    """The per-session outbound in-flight window (max_inflight) bounds the
    unacknowledged QoS 1 deliveries even when the client allows more."""
    topic = unique("lim/inflight")
    c = raw(version)
    assert c.connect("inflight-%d" % version).reason == 0
    c.subscribe(1, [(topic, 1)])
    _publish_n(paho, broker, topic, 10)
    got = _publishes(c, 1.0)
    assert len(got) == 3, "max_inflight 3 but %d unacked PUBLISHes" % len(got)
    for p in got:
        c.send(R.puback(p.packet_id, version))
    deadline = time.monotonic() + 10
    acked = 3
    while len(got) < 10 and time.monotonic() < deadline:
        got += _publishes(c, 0.3)
        while acked < len(got):
            c.send(R.puback(got[acked].packet_id, version))
            acked += 1
    assert [int(p.payload) for p in got] == list(range(10))


LIMIT = 1024


def _sized_publish(topic, total, qos=1, version=R.V5):
    """A PUBLISH packet of exactly `total` bytes."""
    empty = len(R.publish(topic, b"", qos=qos, packet_id=1, version=version))
    n = total - empty
    for _ in range(3):  # the remaining-length field may grow
        pkt = R.publish(topic, b"a" * n, qos=qos, packet_id=1, version=version)
        if len(pkt) == total:
            return pkt
        n -= len(pkt) - total
    raise AssertionError("cannot size packet")


@pytest.mark.broker_options(limits=dict(max_packet_size=LIMIT))
def test_oversize_packet_rejected_v5_raw(broker, paho, raw):
    watcher = paho(broker.port, version=V311)
    watcher.connect()
    topic = unique("lim/big")
    watcher.subscribe(topic, 1)
    c = raw(R.V5)
    ack = c.connect("big")
    assert ack.prop(R.P_MAXIMUM_PACKET_SIZE) == LIMIT
    c.send(_sized_publish(topic, 2000))
    got = c.recv_until_closed(3)
    # [MQTT-3.1.2-24]-style: DISCONNECT 0x95 Packet too large (or a bare close)
    assert [(p.type, p.reason) for p in got] in ([(R.DISCONNECT, 0x95)], []), got
    watcher.expect_nothing(0.3)
    # everyone else is unaffected
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(topic, b"small", qos=1)
    assert watcher.get().payload == b"small"
    roundtrip(broker.port)


@pytest.mark.broker_options(limits=dict(max_packet_size=LIMIT))
@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_oversize_packet_paho(broker, paho, version):
    other = paho(broker.port, version=V311)
    other.connect()
    topic = unique("lim/bigp")
    other.subscribe(topic, 1)
    c = paho(broker.port, version=version)
    c.connect()
    try:
        c.publish(topic, b"x" * 5000, qos=1, wait=False)
    except AssertionError as e:
        # The broker closed the connection on the packet's header while paho
        # was still writing the rest: the expected outcome, seen early.
        assert "rc=4" in str(e) or "rc=7" in str(e), e
    c.wait_gone(5)  # reason code checked in the raw test (paho 1.6.1 may not parse it)
    other.expect_nothing(0.3)
    other.publish(topic, b"still here", qos=1)
    assert other.get().payload == b"still here"


@pytest.mark.broker_options(limits=dict(max_packet_size=LIMIT))
def test_packet_at_limit_accepted(broker, paho, raw):
    topic = unique("lim/edge")
    watcher = paho(broker.port, version=V5)
    watcher.connect()
    watcher.subscribe(topic, 1)
    c = raw(R.V5)
    c.connect("edge")
    c.send(_sized_publish(topic, LIMIT))
    ack = c.expect(R.PUBACK)
    assert ack.reason in (0, 0x10)
    assert len(watcher.get().payload) > 900


@pytest.mark.junction_only("Mosquitto 2.0.11 compares the limit with the remaining length, so it "
                           "accepts packets up to max_packet_size + fixed header bytes "
                           "(v5 3.1.2.11.4: the packet size is the total number of bytes)")
@pytest.mark.broker_options(limits=dict(max_packet_size=LIMIT))
def test_packet_one_over_limit_rejected(broker, raw):
    c = raw(R.V5)
    c.connect("edge1")
    c.send(_sized_publish(unique("lim/edge1"), LIMIT + 1))
    got = c.recv_until_closed(3)
    assert [(p.type, p.reason) for p in got] == [(R.DISCONNECT, 0x95)], got


def test_server_respects_client_maximum_packet_size(broker, paho):
    """[MQTT-3.1.2-24/25]: the server must not send a packet larger than the
    client's Maximum Packet Size; it discards that message for the client."""
    topic = unique("lim/cmax")
    s = paho(broker.port, version=V5, connect_props={"MaximumPacketSize": 512})
    s.connect()
    s.subscribe(topic, 1)
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(topic, b"L" * 1000, qos=1)
    p.publish(topic, b"small", qos=1)
    got = s.drain(0.7)
    assert [m.payload for m in got] == [b"small"]
    assert s.connected.is_set()


@pytest.mark.broker_options(limits=dict(max_queued_messages=10, max_inflight=5))
def test_offline_queue_bounded(broker, paho):
    """Any broker: an offline session does not grow without bound."""
    topic = unique("lim/q")
    cid = unique("qsub")
    s = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    s.connect()
    s.subscribe(topic, 1)
    s.disconnect()
    p = paho(broker.port, version=V5)
    p.connect()
    for i in range(40):
        p.publish(topic, str(i).encode(), qos=1)
    s2 = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    s2.connect()
    got = [int(m.payload) for m in s2.drain(0.7)]
    assert 1 <= len(got) <= 15, "queued %d messages with max_queued_messages 10" % len(got)
    assert got == sorted(got)
    roundtrip(broker.port)


@pytest.mark.junction_only("Junction refuses (PUBACK >= 0x80) what it cannot queue instead of "
                           "acknowledging and dropping it, as Mosquitto does")
@pytest.mark.broker_options(limits=dict(max_queued_messages=10))
def test_offline_queue_full_refuses_publish(broker, paho, raw):
    topic = unique("lim/qr")
    cid = unique("qrsub")
    s = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    s.connect()
    s.subscribe(topic, 1)
    s.disconnect()
    pub = raw(R.V5)
    pub.connect("qrpub")
    for i in range(1, 31):
        pub.publish(topic, str(i).encode(), qos=1, packet_id=i)
    acks = {}
    while len(acks) < 30:
        a = pub.expect(R.PUBACK, 5)
        acks[a.packet_id] = a.reason
    accepted = sorted(i for i, r in acks.items() if r < 0x80)
    refused = [i for i, r in acks.items() if r >= 0x80]
    assert refused, "30 messages into a queue of 10 and nothing refused: %r" % acks
    assert all(acks[i] == 0x97 for i in refused), "refusal reason should be 0x97 Quota exceeded: %r" % acks
    s2 = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    s2.connect()
    got = sorted(int(m.payload) for m in s2.drain(0.7))
    assert got == accepted, "every acknowledged message must be delivered, nothing else"
    assert len(got) <= 10


@pytest.mark.junction_only("limits.max_publish_rate is a Junction setting")
@pytest.mark.broker_options(junction_limits={"max_publish_rate": 500})
def test_max_publish_rate_slows_the_publisher_and_loses_nothing(broker, paho):
    """2000 QoS 1 publishes at a limit of 500/s take at least ~3 s (a burst of
    500, then 500 per second) and every one arrives, once."""
    topic = unique("lim/rate")
    sub = paho(broker.port, version=V5)
    sub.connect()
    sub.subscribe(topic, qos=1)
    pub = paho(broker.port, version=V5, max_inflight=100)
    pub.connect()
    start = time.monotonic()
    for i in range(2000):
        pub.publish(topic, str(i).encode(), qos=1, wait=False)
    got = sub.get_n(2000, timeout=30)
    elapsed = time.monotonic() - start
    # Each exactly once. Order is not asserted here: paho 1.6 sends what it
    # queued beyond the inflight window from its network thread, racing the
    # test thread's new publishes (two CI runs saw one adjacent swap, 36/37
    # and 902/903); test/reliability/crash_points.py saw the same client-side
    # reorder with no broker involved. Per-publisher order is asserted where
    # the client does not queue (test_02, test_17).
    assert sorted(int(m.payload) for m in got) == list(range(2000))
    assert elapsed >= 2.5, "2000 messages at 500/s arrived in %.2f s" % elapsed
    assert "max_publish_rate" in broker.log


@pytest.mark.junction_only("limits.max_publish_rate is a Junction setting")
@pytest.mark.broker_options(stomp=True, junction_limits={"max_publish_rate": 200})
def test_max_publish_rate_slows_a_stomp_sender_and_loses_nothing(broker, stomps):
    """600 SENDs at a limit of 200/s take at least ~2 s (a burst of 200, then
    200 per second) and every one arrives, in order."""
    sub = stomps(broker.stomp_port, "1.2")
    pub = stomps(broker.stomp_port, "1.2")
    sub.subscribe("/topic/lim/rate", sub_id="s")
    start = time.monotonic()
    for i in range(600):
        pub.send("/topic/lim/rate", str(i))
    got = sub.get_n(600, timeout=30)
    elapsed = time.monotonic() - start
    assert [int(m.body) for m in got] == list(range(600))
    assert elapsed >= 1.5, "600 frames at 200/s arrived in %.2f s" % elapsed
    assert "max_publish_rate" in broker.log
