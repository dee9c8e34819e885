"""01: CONNECT / CONNACK in MQTT 3.1, 3.1.1 and 5.0; keep-alive; bad CONNECTs."""

import time

import pytest

import raw_mqtt as R
from clients import V31, V311, V5, VERSION_NAMES, PahoClient, MosquittoSub, mosquitto_pub, roundtrip, unique


@pytest.mark.parametrize("version", [V31, V311, V5], ids=VERSION_NAMES.get)
def test_connect_each_version(broker, paho, version):
    c = paho(broker.port, version=version)
    ack = c.connect()
    assert ack.rc == 0
    assert ack.session_present is False, "clean connect must not report a session"
    topic = unique("connect/t")
    c.subscribe(topic, 1)
    c.publish(topic, b"hello", qos=1)
    m = c.get()
    assert (m.topic, m.payload, m.qos) == (topic, b"hello", 1)
    c.disconnect()


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
def test_connect_mosquitto_clients(broker, msub, version):
    topic = unique("connect/mc")
    s = msub(broker.port, topic, qos=1, version=version)
    mosquitto_pub(broker.port, topic, "from mosquitto_pub", qos=1, version=version)
    m = s.get()
    assert (m.topic, m.payload, m.qos) == (topic, "from mosquitto_pub", 1)


@pytest.mark.broker_options(limits=dict(max_keepalive=30, max_packet_size=65536,
                                        receive_maximum=50, max_inflight=40,
                                        topic_alias_maximum=8))
def test_v5_connack_properties(broker, paho):
    c = paho(broker.port, version=V5, keepalive=120)
    ack = c.connect()
    assert ack.rc == 0
    p = ack.props
    assert p.get("ServerKeepAlive") == 30, "client asked 120 s, max_keepalive is 30: %r" % p
    assert p.get("MaximumPacketSize") == 65536, p
    assert p.get("ReceiveMaximum") == broker.receive_maximum, p
    assert p.get("TopicAliasMaximum") == 8, p
    # A client id was given, so none may be assigned.
    assert "AssignedClientIdentifier" not in p
    c.disconnect()


@pytest.mark.broker_options(limits=dict(max_keepalive=30))
def test_v5_keepalive_within_limit_not_overridden(broker, paho):
    c = paho(broker.port, version=V5, keepalive=20)
    ack = c.connect()
    assert ack.props.get("ServerKeepAlive", 20) == 20, ack.props
    c.disconnect()


def test_v5_assigned_client_identifier(broker, paho):
    ids = []
    for _ in range(2):
        c = paho(broker.port, client_id="", version=V5)
        ack = c.connect()
        assert ack.rc == 0
        cid = ack.props.get("AssignedClientIdentifier")
        assert cid, "empty client id must get an Assigned Client Identifier: %r" % ack.props
        ids.append(cid)
    assert ids[0] != ids[1], "assigned identifiers must be unique"


def test_v311_empty_client_id_clean_session_accepted(broker, paho):
    c = paho(broker.port, client_id="", version=V311, clean=True)
    assert c.connect().rc == 0
    c.disconnect()


def test_v311_empty_client_id_persistent_rejected(broker, raw):
    # [MQTT-3.1.3-8]: zero-byte ClientId with CleanSession 0 -> CONNACK 0x02, close.
    c = raw(R.V311)
    ack = c.connect("", clean=False)
    assert ack.reason == 0x02
    assert ack.session_present is False
    c.recv_until_closed(3)


def test_auth_unknown_method_paho(broker, paho, junction):
    c = paho(broker.port, version=V5, connect_props={"AuthenticationMethod": "X-NO-SUCH-METHOD"})
    ack = c.connect(expect_ok=False)
    # Spec 4.12: 0x8C Bad authentication method or 0x87 Not authorized; then close.
    expected = (0x8C,) if junction else (0x8C, 0x87)
    assert ack.rc in expected, ack
    c.wait_gone(3)
    roundtrip(broker.port)


def test_auth_unknown_method_raw(broker, raw, junction):
    c = raw(R.V5)
    ack = c.connect("authx", props={R.P_AUTH_METHOD: "SCRAM-SHA-999", R.P_AUTH_DATA: b"\x00\x01"})
    assert ack.reason in ((0x8C,) if junction else (0x8C, 0x87)), ack
    c.recv_until_closed(3)


@pytest.mark.parametrize("level", [4, 5])
def test_bad_protocol_name_closes(broker, raw, level):
    # [MQTT-3.1.2-1]: wrong protocol name -> the server may disconnect; it must
    # not accept the connection.
    c = raw(level)
    c.send(R.connect("badname", version=level, protocol_name="MQTX"))
    got = c.recv_until_closed(3)
    assert all(p.type == R.CONNACK and p.reason != 0 for p in got), got
    roundtrip(broker.port)


@pytest.mark.junction_only("Junction answers a bad protocol name with a CONNACK (spec: MAY just close)")
@pytest.mark.parametrize("level,codes", [(4, (0x01,)), (5, (0x01, 0x84))])
def test_bad_protocol_name_connack_code(broker, raw, level, codes):
    # With a wrong protocol name the level cannot be trusted, so for level 5
    # either a v3 CONNACK 0x01 or a v5 CONNACK 0x84 is right.
    c = raw(level)
    c.send(R.connect("badname", version=level, protocol_name="MQTX"))
    got = c.recv_until_closed(3)
    assert [p.type for p in got] == [R.CONNACK], got
    assert got[0].reason in codes


def test_unsupported_protocol_level(broker, raw):
    # [MQTT-3.1.2-2]: CONNACK 0x01 (v3) / 0x84 (v5 form), then close.
    c = raw(R.V311)
    c.send(R.connect("badlevel", version=7))
    got = c.recv_until_closed(3)
    assert len(got) == 1 and got[0].type == R.CONNACK, got
    assert got[0].reason in (0x01, 0x84)
    roundtrip(broker.port)


def test_connect_reserved_flag_closes(broker, raw):
    # [MQTT-3.1.2-3]: reserved flag in CONNECT must be 0, else disconnect.
    c = raw(R.V311)
    c.send(R.connect("reserved", reserved_flag=True))
    got = c.recv_until_closed(3)
    assert all(p.type == R.CONNACK and p.reason != 0 for p in got), got
    roundtrip(broker.port)


@pytest.mark.parametrize("version", [R.V311, R.V5])
def test_second_connect_is_protocol_violation(broker, raw, version):
    # [MQTT-3.1.0-2]: a second CONNECT is a protocol violation -> disconnect.
    c = raw(version)
    assert c.connect("twice").reason == 0
    c.send(R.connect("twice", version=version))
    got = c.recv_until_closed(3)
    assert all(p.type == R.DISCONNECT and p.reason >= 0x80 for p in got), got
    roundtrip(broker.port)


def test_first_packet_must_be_connect(broker, raw):
    # [MQTT-3.1.0-1]
    c = raw(R.V311)
    c.send(R.publish("early/bird", b"x"))
    got = c.recv_until_closed(3)
    assert got == [], got


def test_v31_long_client_id_ok_or_rejected_cleanly(broker, paho):
    # MQTT 3.1 limited client ids to 23 bytes; a 23-byte one must work.
    c = paho(broker.port, client_id="a" * 23, version=V31)
    assert c.connect().rc == 0
    c.disconnect()


def _silent_keepalive_client(broker, paho, raw, version):
    watcher = paho(broker.port, version=V311)
    watcher.connect()
    will_topic = unique("ka/will")
    watcher.subscribe(will_topic, 1)
    c = raw(version)
    ack = c.connect("ka-" + unique(), keepalive=1, will_topic=will_topic,
                    will_payload=b"gone silent", will_qos=1)
    assert ack.reason == 0
    if version == R.V5:
        assert ack.prop(R.P_SERVER_KEEP_ALIVE, 1) == 1
    return watcher, c, will_topic


@pytest.mark.junction_only("Mosquitto 2.0.11 checks keep-alive coarsely: keep-alive 1 s -> "
                           "closed after ~6 s, keep-alive 4 s -> ~12 s (spec: 1.5 x)")
@pytest.mark.parametrize("version", [R.V311, R.V5])
def test_keepalive_enforced_within_one_and_a_half(broker, paho, raw, version):
    """[MQTT-3.1.2-24]/[MQTT-3.1.2-22]: a client with keep-alive 1 s that goes
    silent is disconnected within 1.5 x keep-alive (we allow up to 3 s) and its
    will is published."""
    watcher, c, will_topic = _silent_keepalive_client(broker, paho, raw, version)
    t0 = time.monotonic()
    got = c.recv_until_closed(6)
    elapsed = time.monotonic() - t0
    assert all(p.type == R.DISCONNECT for p in got), got
    if version == R.V5 and got:
        assert got[0].reason == 0x8D, "keep-alive timeout reason code: %r" % got
    assert 0.9 <= elapsed <= 3.0, "disconnected after %.2fs (keep-alive 1 s)" % elapsed
    m = watcher.get(3)
    assert (m.topic, m.payload) == (will_topic, b"gone silent")


def test_keepalive_expiry_publishes_will(broker, paho, raw):
    """Tolerant variant (any broker): the silent client is eventually dropped
    and its will is published."""
    watcher, c, will_topic = _silent_keepalive_client(broker, paho, raw, R.V311)
    t0 = time.monotonic()
    got = c.recv_until_closed(15)
    assert got == [], got
    assert time.monotonic() - t0 >= 0.9, "dropped before the keep-alive elapsed"
    m = watcher.get(3)
    assert (m.topic, m.payload) == (will_topic, b"gone silent")


def test_keepalive_pings_keep_connection(broker, raw):
    c = raw(R.V311)
    assert c.connect("pinger", keepalive=1).reason == 0
    for _ in range(6):
        time.sleep(0.5)
        c.send(R.pingreq())
        assert c.expect(R.PINGRESP, 2).type == R.PINGRESP
    assert c.is_open(0.2)


def test_clean_disconnect_closes_socket(broker, raw):
    # [MQTT-3.14.4-1] the server closes the connection after DISCONNECT
    c = raw(R.V311)
    assert c.connect("bye").reason == 0
    c.send(R.disconnect())
    assert c.recv_until_closed(3) == []


def test_many_clients(broker):
    clients = [PahoClient(broker.port, version=V311 if i % 2 else V5) for i in range(40)]
    try:
        for c in clients:
            assert c.connect().rc == 0
        topic = unique("many")
        for c in clients:
            c.subscribe(topic, 0)
        clients[0].publish(topic, b"all", qos=1)
        for c in clients:
            assert c.get(5).payload == b"all"
    finally:
        for c in clients:
            c.close()
