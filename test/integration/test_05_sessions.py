"""05: sessions: persistent sessions (offline delivery, across restarts),
takeover, clean start, v5 session expiry, redelivery with DUP, QoS 2 state."""

import subprocess
import time

import pytest
from paho.mqtt.packettypes import PacketTypes

import raw_mqtt as R
from broker import KILL9_REASON
from clients import (MOSQUITTO_SUB, V311, V5, VERSION_NAMES, mosquitto_pub, props,
                     roundtrip, unique)

RESTARTS = [pytest.param(False, id="sigterm"),
            pytest.param(True, id="kill9", marks=pytest.mark.junction_only(KILL9_REASON))]


def _persistent(paho, broker, cid, version, expiry=3600, **kw):
    if version == V5:
        return paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=expiry, **kw)
    return paho(broker.port, client_id=cid, version=version, clean=False, **kw)


def _setup_offline_subscriber(paho, broker, version, base):
    cid = unique("persist")
    s = _persistent(paho, broker, cid, version)
    ack = s.connect()
    assert ack.session_present is False
    s.subscribe([(base + "/q1", 1), (base + "/q2", 2)])
    s.disconnect()
    return cid


def _publish_while_offline(paho, broker, base, n=5):
    p = paho(broker.port, version=V5)
    p.connect()
    for i in range(n):
        p.publish(base + "/q1", b"one-%d" % i, qos=1)
        p.publish(base + "/q2", b"two-%d" % i, qos=2)
    p.disconnect()


def _check_offline_delivery(s, base, n=5):
    got = s.get_n(2 * n, 10)
    q1 = [(m.payload, m.qos) for m in got if m.topic == base + "/q1"]
    q2 = [(m.payload, m.qos) for m in got if m.topic == base + "/q2"]
    assert q1 == [(b"one-%d" % i, 1) for i in range(n)]
    assert q2 == [(b"two-%d" % i, 2) for i in range(n)]
    s.expect_nothing(0.3)


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_persistent_session_receives_offline_messages(broker, paho, version):
    base = unique("sess/off")
    cid = _setup_offline_subscriber(paho, broker, version, base)
    _publish_while_offline(paho, broker, base)
    s = _persistent(paho, broker, cid, version)
    assert s.connect().session_present is True
    _check_offline_delivery(s, base)
    # the subscription itself is part of the session
    p = paho(broker.port)
    p.connect()
    p.publish(base + "/q1", b"live", qos=1)
    assert s.get().payload == b"live"


@pytest.mark.parametrize("kill", RESTARTS)
@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_persistent_session_across_restart(broker, paho, version, kill):
    base = unique("sess/rst")
    cid = _setup_offline_subscriber(paho, broker, version, base)
    _publish_while_offline(paho, broker, base)
    broker.restart(kill=kill)
    s = _persistent(paho, broker, cid, version)
    assert s.connect().session_present is True
    _check_offline_delivery(s, base)
    p = paho(broker.port)
    p.connect()
    p.publish(base + "/q2", b"after restart", qos=2)
    m = s.get()
    assert (m.payload, m.qos) == (b"after restart", 2)


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
def test_persistent_session_mosquitto_clients(broker, version):
    topic = unique("sess/mc")
    cid = unique("msub")
    base = ["stdbuf", "-oL", MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(broker.port), "-V", version,
            "-c", "-i", cid, "-q", "1", "-t", topic]
    r = subprocess.run(base + ["-E"], capture_output=True, timeout=10)
    assert r.returncode == 0, r
    for i in range(3):
        mosquitto_pub(broker.port, topic, "offline %d" % i, qos=1, version=version)
    r = subprocess.run(base + ["-C", "3", "-W", "5"], capture_output=True, timeout=15)
    assert r.returncode == 0, r
    assert r.stdout.decode().splitlines() == ["offline 0", "offline 1", "offline 2"]


def test_session_present_flag(broker, paho):
    cid = unique("sp")
    a = paho(broker.port, client_id=cid, clean=False)
    assert a.connect().session_present is False
    a.disconnect()
    b = paho(broker.port, client_id=cid, clean=False)
    assert b.connect().session_present is True
    b.disconnect()
    c = paho(broker.port, client_id=cid, clean=True)
    assert c.connect().session_present is False  # [MQTT-3.2.2-1]
    c.disconnect()


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_takeover(broker, paho, version):
    cid = unique("takeover")
    a = paho(broker.port, client_id=cid, version=version)
    a.connect()
    b = paho(broker.port, client_id=cid, version=version)
    assert b.connect().rc == 0
    a.wait_gone(5)
    # The v5 reason code (0x8E) is checked by test_takeover_raw_v5_reason: paho
    # 1.6.1 ignores the reason code of a DISCONNECT without properties.
    # the new connection works and the old one stays gone
    topic = unique("takeover/t")
    b.subscribe(topic, 1)
    b.publish(topic, b"new owner", qos=1)
    assert b.get().payload == b"new owner"
    assert not a.connected.is_set()


@pytest.mark.junction_only("Mosquitto 2.0.11 closes the old connection without the DISCONNECT 0x8E "
                           "(Session taken over) that v5 3.1.4 prescribes")
def test_takeover_raw_v5_reason(broker, raw):
    cid = unique("takeraw")
    a = raw(R.V5)
    assert a.connect(cid).reason == 0
    b = raw(R.V5)
    assert b.connect(cid).reason == 0
    got = a.recv_until_closed(5)
    assert [(p.type, p.reason) for p in got] == [(R.DISCONNECT, 0x8E)], got
    assert b.is_open(0.3)


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_takeover_keeps_persistent_session(broker, paho, version):
    cid = unique("takekeep")
    topic = unique("takekeep/t")
    a = _persistent(paho, broker, cid, version)
    a.connect()
    a.subscribe(topic, 1)
    b = _persistent(paho, broker, cid, version)
    assert b.connect().session_present is True
    a.wait_gone(5)
    p = paho(broker.port)
    p.connect()
    p.publish(topic, b"to the session", qos=1)
    assert b.get().payload == b"to the session"


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_clean_start_discards_session(broker, paho, version):
    base = unique("sess/clean")
    cid = _setup_offline_subscriber(paho, broker, version, base)
    _publish_while_offline(paho, broker, base, n=2)
    c = paho(broker.port, client_id=cid, version=version, clean=True)
    ack = c.connect()
    assert ack.session_present is False
    c.expect_nothing(0.7)
    # the old subscriptions are gone too
    p = paho(broker.port)
    p.connect()
    p.publish(base + "/q1", b"nobody", qos=1)
    c.expect_nothing(0.5)
    c.disconnect()
    # and a later persistent connect finds no session
    d = _persistent(paho, broker, cid, version)
    assert d.connect().session_present is False
    d.expect_nothing(0.3)


def test_v5_session_expiry(broker, paho):
    base = unique("sess/exp")
    cid = unique("exp")
    s = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=2)
    s.connect()
    s.subscribe(base + "/q1", 1)
    s.disconnect()
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(base + "/q1", b"into a dying session", qos=1)
    time.sleep(3.0)
    s2 = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=2)
    assert s2.connect().session_present is False, "session should have expired after 2 s"
    s2.expect_nothing(0.5)


def test_v5_session_alive_within_expiry(broker, paho):
    base = unique("sess/alive")
    cid = unique("alive")
    s = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=10)
    s.connect()
    s.subscribe(base, 1)
    s.disconnect()
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(base, b"kept", qos=1)
    time.sleep(1.0)
    s2 = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=10)
    assert s2.connect().session_present is True
    assert s2.get().payload == b"kept"


def test_v5_session_expiry_zero_not_kept(broker, paho):
    cid = unique("exp0")
    s = paho(broker.port, client_id=cid, version=V5, clean=False)  # no expiry property = 0
    s.connect()
    s.subscribe(unique("sess/e0"), 1)
    s.disconnect()
    s2 = paho(broker.port, client_id=cid, version=V5, clean=False)
    assert s2.connect().session_present is False


def test_v5_session_expiry_changed_on_disconnect(broker, paho):
    cid = unique("expdisc")
    s = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    s.connect()
    s.subscribe(unique("sess/ed"), 1)
    s.disconnect(properties=props(PacketTypes.DISCONNECT, SessionExpiryInterval=0))
    s2 = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    assert s2.connect().session_present is False


REDELIVERY_RESTARTS = [pytest.param(None, id="reconnect"), pytest.param(False, id="sigterm"),
                       pytest.param(True, id="kill9", marks=pytest.mark.junction_only(KILL9_REASON))]


@pytest.mark.parametrize("restart", REDELIVERY_RESTARTS)
@pytest.mark.parametrize("version", [R.V311, R.V5])
def test_unacked_qos1_redelivered_with_dup(broker, paho, raw, version, restart):
    """[MQTT-4.4.0-1]: on reconnect with a persistent session, unacknowledged
    PUBLISH packets are resent with the same packet id and DUP=1."""
    cid = unique("dup")
    topic = unique("sess/dup")
    props_ = {R.P_SESSION_EXPIRY: 300} if version == R.V5 else None
    a = raw(version)
    assert a.connect(cid, clean=False, props=props_).reason == 0
    assert a.subscribe(1, [(topic, 1)]).reasons == [1]
    p = paho(broker.port)
    p.connect()
    p.publish(topic, b"ack me later", qos=1)
    first = a.expect(R.PUBLISH)
    assert (first.payload, first.qos, first.dup) == (b"ack me later", 1, False)
    a.close()  # no PUBACK
    time.sleep(0.2)
    if restart is not None:
        broker.restart(kill=restart)
    b = raw(version)
    ack = b.connect(cid, clean=False, props=props_)
    assert (ack.reason, ack.session_present) == (0, True)
    again = b.expect(R.PUBLISH)
    assert (again.payload, again.packet_id, again.dup) == (b"ack me later", first.packet_id, True)
    b.send(R.puback(again.packet_id, version))
    with pytest.raises(TimeoutError):
        b.recv(0.5)


@pytest.mark.parametrize("restart", REDELIVERY_RESTARTS)
@pytest.mark.parametrize("version", [R.V311, R.V5])
def test_qos2_pubrel_resent_after_reconnect(broker, paho, raw, version, restart):
    """Subscriber side: after PUBREC, a reconnect gets PUBREL again (not the PUBLISH)."""
    cid = unique("q2out")
    topic = unique("sess/q2out")
    props_ = {R.P_SESSION_EXPIRY: 300} if version == R.V5 else None
    a = raw(version)
    assert a.connect(cid, clean=False, props=props_).reason == 0
    a.subscribe(1, [(topic, 2)])
    p = paho(broker.port)
    p.connect()
    p.publish(topic, b"exactly once", qos=2)
    pub = a.expect(R.PUBLISH)
    assert pub.qos == 2
    a.send(R.pubrec(pub.packet_id, version))
    rel = a.expect(R.PUBREL)
    assert rel.packet_id == pub.packet_id
    a.close()  # no PUBCOMP
    time.sleep(0.2)
    if restart is not None:
        broker.restart(kill=restart)
    b = raw(version)
    assert b.connect(cid, clean=False, props=props_).session_present is True
    rel2 = b.expect(R.PUBREL)
    assert rel2.packet_id == pub.packet_id
    b.send(R.pubcomp(rel2.packet_id, version))
    with pytest.raises(TimeoutError):
        b.recv(0.5)


@pytest.mark.parametrize("kill", RESTARTS)
@pytest.mark.parametrize("version", [R.V311, R.V5])
def test_qos2_inbound_state_across_restart(broker, paho, version, kill):
    """Publisher side: PUBLISH QoS 2 -> PUBREC; broker restarts; the publisher
    reconnects with its session and sends PUBREL -> PUBCOMP (success), and the
    persistent subscriber gets the message exactly once."""
    topic = unique("sess/q2in")
    sub_id = unique("q2sub")
    s = paho(broker.port, client_id=sub_id, version=V5, clean=False, session_expiry=3600)
    s.connect()
    s.subscribe(topic, 2)
    s.disconnect()
    cid = unique("q2pub")
    props_ = {R.P_SESSION_EXPIRY: 3600} if version == R.V5 else None
    a = R.RawClient(broker.port, version=version)
    try:
        assert a.connect(cid, clean=False, props=props_).reason == 0
        a.publish(topic, b"q2 across restart", qos=2, packet_id=10)
        rec = a.expect(R.PUBREC)
        assert (rec.packet_id, rec.reason) == (10, 0) or (rec.packet_id == 10 and rec.reason == 0x10)
    finally:
        a.close()
    broker.restart(kill=kill)
    b = R.RawClient(broker.port, version=version)
    try:
        ack = b.connect(cid, clean=False, props=props_)
        assert (ack.reason, ack.session_present) == (0, True)
        b.send(R.pubrel(10, version))
        comp = b.expect(R.PUBCOMP)
        assert (comp.packet_id, comp.reason) == (10, 0), "PUBCOMP %r (0x92 = packet id not found)" % comp
    finally:
        b.close()
    s2 = paho(broker.port, client_id=sub_id, version=V5, clean=False, session_expiry=3600)
    assert s2.connect().session_present is True
    got = s2.drain(1.0)
    assert [m.payload for m in got] == [b"q2 across restart"]


def test_broker_serves_after_session_churn(broker, paho):
    cid = unique("churn")
    for i in range(10):
        c = paho(broker.port, client_id=cid, version=V5 if i % 2 else V311, clean=(i % 3 == 0),
                 **({"session_expiry": 60} if i % 2 else {}))
        c.connect()
        if i % 4 == 0:
            c.drop()
        else:
            c.disconnect()
    roundtrip(broker.port)
