"""02: PUBLISH at QoS 0/1/2 both ways, QoS downgrade, topic matching, ordering."""

import pytest

import raw_mqtt as R
from clients import V311, V5, VERSION_NAMES, mosquitto_pub, roundtrip, unique

QOS = [0, 1, 2]


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
@pytest.mark.parametrize("pub_qos", QOS, ids=lambda q: "pub%d" % q)
@pytest.mark.parametrize("sub_qos", QOS, ids=lambda q: "sub%d" % q)
def test_qos_matrix_paho(broker, paho, version, pub_qos, sub_qos):
    """Delivered QoS is min(publish QoS, subscription QoS) [MQTT-3.8.4-8 / 3.3.5]."""
    sub = paho(broker.port, version=version)
    sub.connect()
    topic = unique("qos/m")
    assert sub.subscribe(topic, sub_qos) == [sub_qos]
    pub = paho(broker.port, version=version)
    pub.connect()
    payload = ("p%d s%d" % (pub_qos, sub_qos)).encode()
    pub.publish(topic, payload, qos=pub_qos)
    m = sub.get()
    assert (m.topic, m.payload, m.qos, m.retain) == (topic, payload, min(pub_qos, sub_qos), False)
    if pub_qos == 2 and sub_qos == 2:
        sub.expect_nothing(0.3)
    pub.disconnect()
    sub.disconnect()


@pytest.mark.parametrize("pub_version,sub_version", [(V311, V5), (V5, V311)],
                         ids=["v311-to-v5", "v5-to-v311"])
@pytest.mark.parametrize("qos", QOS)
def test_cross_version(broker, paho, pub_version, sub_version, qos):
    sub = paho(broker.port, version=sub_version)
    sub.connect()
    topic = unique("qos/x")
    sub.subscribe(topic, 2)
    pub = paho(broker.port, version=pub_version)
    pub.connect()
    pub.publish(topic, b"\x00\x01binary\xff", qos=qos)
    m = sub.get()
    assert (m.payload, m.qos) == (b"\x00\x01binary\xff", qos)


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
@pytest.mark.parametrize("qos", QOS)
def test_mosquitto_pub_to_paho(broker, paho, version, qos):
    sub = paho(broker.port, version=V5 if version == "mqttv5" else V311)
    sub.connect()
    topic = unique("qos/mp")
    sub.subscribe(topic, 2)
    mosquitto_pub(broker.port, topic, "hello %d" % qos, qos=qos, version=version)
    m = sub.get()
    assert (m.topic, m.payload, m.qos) == (topic, b"hello %d" % qos, qos)


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
@pytest.mark.parametrize("qos", QOS)
def test_paho_to_mosquitto_sub(broker, paho, msub, version, qos):
    topic = unique("qos/ms")
    s = msub(broker.port, topic, qos=1, version=version)
    pub = paho(broker.port, version=V5 if version == "mqttv5" else V311)
    pub.connect()
    pub.publish(topic, b"to mosquitto_sub", qos=qos)
    m = s.get()
    assert (m.topic, m.payload, m.qos, m.retain) == (topic, "to mosquitto_sub", min(qos, 1), False)


@pytest.mark.parametrize("qos", [1, 2])
@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_order_and_exactly_once(broker, paho, qos, version):
    """[MQTT-4.6.0-5]: messages on one topic from one publisher arrive in order;
    QoS 2 arrives exactly once; QoS 1 here (no reconnect) also once."""
    n = 200
    sub = paho(broker.port, version=version)
    sub.connect()
    topic = unique("qos/order")
    sub.subscribe(topic, qos)
    pub = paho(broker.port, version=version, max_inflight=20)
    pub.connect()
    mids = [pub.publish(topic, str(i).encode(), qos=qos, wait=False) for i in range(n)]
    for mid in mids:
        pub.wait_published(mid, 20)
    got = sub.get_n(n, 20)
    assert [int(m.payload) for m in got] == list(range(n))
    assert all(m.qos == qos for m in got)
    sub.expect_nothing(0.3)


def test_payloads_binary_empty_large(broker, paho):
    sub = paho(broker.port, version=V5)
    sub.connect()
    topic = unique("qos/payload")
    sub.subscribe(topic, 1)
    pub = paho(broker.port, version=V311)
    pub.connect()
    payloads = [bytes(range(256)), b"", b"\x00" * 10, bytes(range(256)) * 1024]
    for p in payloads:
        pub.publish(topic, p, qos=1)
    got = sub.get_n(len(payloads), 10)
    assert [m.payload for m in got] == payloads


def test_wildcards(broker, paho):
    base = unique("w")
    filters = {
        "exact": base + "/a/b/c",
        "plus": base + "/a/+/c",
        "hash": base + "/a/#",
        "plus_end": base + "/+",
        "all": base + "/#",
        "plus_plus": base + "/+/+",
    }
    topics = [base + "/a/b/c", base + "/a/x/c", base + "/a", base + "/a/b", base + "/b",
              base + "/a/b/c/d", base + "//c"]
    subs = {}
    for name, f in filters.items():
        c = paho(broker.port, version=V311)
        c.connect()
        c.subscribe(f, 1)
        subs[name] = c
    pub = paho(broker.port, version=V311)
    pub.connect()
    for t in topics:
        pub.publish(t, t.encode(), qos=1)
    import paho.mqtt.client as mqtt
    for name, c in subs.items():
        expected = [t for t in topics if mqtt.topic_matches_sub(filters[name], t)]
        got = [m.topic for m in c.drain(0.5)]
        assert sorted(got) == sorted(expected), "%s (%s)" % (name, filters[name])
    # spot checks of the rules themselves
    assert mqtt.topic_matches_sub(base + "/a/#", base + "/a")  # '#' matches the parent level


def test_dollar_topics_not_matched_by_leading_wildcards(broker, paho):
    # [MQTT-4.7.2-1]: '#' and '+' at the first level do not match topics beginning with '$'.
    name = "$" + unique("jtest")
    wild = paho(broker.port, version=V311)
    wild.connect()
    wild.subscribe([("#", 1), ("+/x", 1)])
    direct = paho(broker.port, version=V311)
    direct.connect()
    direct.subscribe(name + "/#", 1)
    pub = paho(broker.port, version=V311)
    pub.connect()
    pub.publish(name + "/x", b"dollar", qos=1)
    m = direct.get()
    assert (m.topic, m.payload) == (name + "/x", b"dollar")
    got = [m for m in wild.drain(0.5) if m.topic.startswith("$" + "jtest")]
    assert got == []


def test_unsubscribe_stops_delivery(broker, paho):
    c = paho(broker.port, version=V5)
    c.connect()
    topic = unique("unsub")
    c.subscribe(topic, 1)
    c.publish(topic, b"one", qos=1)
    assert c.get().payload == b"one"
    c.unsubscribe(topic)
    c.publish(topic, b"two", qos=1)
    c.expect_nothing(0.5)


@pytest.mark.parametrize("version", [
    pytest.param(V311, id="v311", marks=pytest.mark.junction_only(
        "Mosquitto 2.0.11 delivers one copy at the QoS of the first matching "
        "subscription (0) to a v3.1.1 client, against [MQTT-3.3.5-1]")),
    pytest.param(V5, id="v5")])
def test_overlapping_subscriptions_max_qos(broker, paho, version):
    """[MQTT-3.3.5-1] / v5 3.3.4: overlapping subscriptions -> delivered respecting
    the maximum QoS of the matching subscriptions (extra copies allowed)."""
    c = paho(broker.port, version=version)
    c.connect()
    base = unique("ov")
    c.subscribe([(base + "/+", 0), (base + "/#", 2)])
    p = paho(broker.port, version=version)
    p.connect()
    p.publish(base + "/x", b"over", qos=2)
    got = c.drain(0.5)
    assert 1 <= len(got) <= 2, got
    assert max(m.qos for m in got) == 2
    assert all(m.payload == b"over" for m in got)


def test_resubscribe_replaces_qos(broker, paho):
    # [MQTT-3.8.4-3]: same filter again replaces the subscription (one copy, new QoS).
    c = paho(broker.port, version=V311)
    c.connect()
    topic = unique("resub")
    c.subscribe(topic, 0)
    c.subscribe(topic, 2)
    p = paho(broker.port, version=V311)
    p.connect()
    p.publish(topic, b"x", qos=2)
    got = c.drain(0.5)
    assert [(m.payload, m.qos) for m in got] == [(b"x", 2)]


def test_multiple_filters_one_subscribe(broker, paho):
    c = paho(broker.port, version=V5)
    c.connect()
    base = unique("multi")
    granted = c.subscribe([(base + "/a", 0), (base + "/b", 1), (base + "/c", 2)])
    assert granted == [0, 1, 2]
    for t in "abc":
        c.publish(base + "/" + t, t.encode(), qos=2)
    got = {m.topic: m.qos for m in c.get_n(3)}
    assert got == {base + "/a": 0, base + "/b": 1, base + "/c": 2}


@pytest.mark.parametrize("version", [R.V311, R.V5])
def test_invalid_filter_rejected(broker, raw, version):
    """A malformed topic filter ('#' not last) gets a failure SUBACK code
    (0x80 v3 / 0x8F v5) or the connection is closed; other clients unaffected."""
    c = raw(version)
    assert c.connect("badfilter").reason == 0
    c.send(R.subscribe(7, [("a/#/b", 1)], version=version))
    try:
        p = c.recv(3)
    except R.Closed:
        p = None
    if p is not None:
        if p.type == R.SUBACK:
            assert p.packet_id == 7 and p.reasons[0] in (0x80, 0x8F), p
        else:
            assert p.type == R.DISCONNECT and p.reason >= 0x80, p
    roundtrip(broker.port)


def test_fan_out(broker, paho):
    topic = unique("fan")
    subs = []
    for i in range(15):
        c = paho(broker.port, version=V5 if i % 2 else V311)
        c.connect()
        c.subscribe(topic, i % 3)
        subs.append(c)
    pub = paho(broker.port, version=V5)
    pub.connect()
    for i in range(10):
        pub.publish(topic, str(i).encode(), qos=2, wait=False)
    for i, c in enumerate(subs):
        got = c.get_n(10, 10)
        assert [int(m.payload) for m in got] == list(range(10))
        assert all(m.qos == i % 3 for m in got)


def test_v5_unsuback_reason_codes(broker, raw):
    """v5 3.11.3: one reason code per filter: 0x00 removed, 0x11 no subscription existed."""
    c = raw(R.V5)
    assert c.connect("unsuback").reason == 0
    topic = unique("unsuback")
    c.subscribe(1, [(topic, 1)])
    c.send(R.unsubscribe(2, [topic, topic + "/never"], version=R.V5))
    ack = c.expect(R.UNSUBACK)
    assert (ack.packet_id, ack.reasons) == (2, [0x00, 0x11])


def test_v5_suback_reason_codes_per_filter(broker, raw):
    c = raw(R.V5)
    assert c.connect("suback").reason == 0
    base = unique("suback")
    ack = c.subscribe(3, [(base + "/0", 0), (base + "/1", 1), (base + "/2", 2),
                          (base + "/+/x", R.sub_options(1, no_local=True))])
    assert (ack.packet_id, ack.reasons) == (3, [0, 1, 2, 1])
