"""09: limits.max_queued_bytes, the payload bytes one session may hold
(pending + in flight), with paho-mqtt v5, mosquitto_pub/mosquitto_sub and
stomp.py. A 1000-byte cap and 300-byte messages: three fit, the fourth would
pass the cap."""

import subprocess

import pytest

from clients import MOSQUITTO_PUB, MOSQUITTO_SUB, V5, MosquittoSub, roundtrip, unique
from stomp_client import stomps  # noqa: F401 (fixture)

CAP = dict(max_queued_bytes=1000)
SIZE = 300

JUNCTION_REFUSES = ("Junction refuses (PUBACK 0x97) a message that would take a session past "
                    "max_queued_bytes; Mosquitto acknowledges and drops, and admits while the "
                    "queue is below the limit (one message past it)")


def _body(i):
    return bytes([0x61 + i]) * SIZE  # "aaa...", "bbb...": tells the messages apart


def _offline_subscriber(paho, broker, topic, cid):
    s = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    s.connect()
    s.subscribe(topic, 1)
    s.disconnect()


def _reconnect(paho, broker, cid):
    s = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    s.connect()
    return s


@pytest.mark.broker_options(limits=CAP)
def test_offline_queue_bounded_by_bytes(broker, paho):
    """Any broker: ten 300-byte messages for an offline session with a
    1000-byte cap; it gets the first three (Junction) or four (Mosquitto),
    in order, and nothing past them."""
    topic, cid = unique("lim/qb"), unique("qbsub")
    _offline_subscriber(paho, broker, topic, cid)
    p = paho(broker.port, version=V5)
    p.connect()
    for i in range(10):
        p.publish(topic, _body(i), qos=1)
    got = [m.payload for m in _reconnect(paho, broker, cid).drain(0.7)]
    assert 3 <= len(got) <= 4, "%d messages of %d bytes queued with max_queued_bytes 1000" % (len(got), SIZE)
    assert got == [_body(i) for i in range(len(got))]
    roundtrip(broker.port)


@pytest.mark.junction_only(JUNCTION_REFUSES)
@pytest.mark.broker_options(limits=CAP)
def test_fourth_message_gets_quota_exceeded_paho_v5(broker, paho):
    topic, cid = unique("lim/qb5"), unique("qb5sub")
    _offline_subscriber(paho, broker, topic, cid)
    p = paho(broker.port, version=V5)
    p.connect()
    reasons = []
    for i in range(5):
        mid = p.publish(topic, _body(i), qos=1)
        reasons.append(p.puback_reason(mid))
    assert reasons == [0, 0, 0, 0x97, 0x97], "PUBACK reason codes: %r" % reasons
    assert p.connected.is_set(), "a v5 publisher is refused per message, not disconnected"

    got = [m.payload for m in _reconnect(paho, broker, cid).drain(0.7)]
    assert got == [_body(0), _body(1), _body(2)]
    # Acknowledged by the subscriber: the session has room again.
    assert p.puback_reason(p.publish(topic, _body(5), qos=1)) in (0, 0x10)
    assert "max_queued_bytes" in broker.log


@pytest.mark.junction_only(JUNCTION_REFUSES)
@pytest.mark.broker_options(limits=CAP)
def test_fourth_message_refused_mosquitto_clients(broker):
    """mosquitto_sub keeps a persistent v5 session (-c, -x) and leaves
    (-E: exit once subscribed); mosquitto_pub sends one message per run."""
    port = str(broker.port)
    topic, cid = unique("lim/qbm"), unique("qbmsub")
    sub = [MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", port, "-V", "mqttv5", "-q", "1", "-c", "-i", cid,
           "-x", "300", "-t", topic, "-E"]
    r = subprocess.run(sub, capture_output=True, timeout=10)
    assert r.returncode == 0, r.stderr

    def pub(i, version):
        return subprocess.run([MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", port, "-V", version, "-q", "1",
                               "-t", topic, "-m", _body(i).decode()], capture_output=True, timeout=10)

    for i in range(3):
        r = pub(i, "mqttv5")
        assert r.returncode == 0 and not r.stderr, r.stderr
    r = pub(3, "mqttv5")
    assert b"Quota exceeded" in r.stderr, (r.returncode, r.stderr)
    # MQTT 3.1.1 has no negative PUBACK: the publisher is disconnected
    # without one, so it does not believe the message was delivered.
    r = pub(4, "mqttv311")
    assert r.returncode != 0, (r.returncode, r.stdout, r.stderr)

    s = MosquittoSub(broker.port, topic, qos=1, version="mqttv5", client_id=cid, extra=("-c", "-x", "300"))
    try:
        got = [m.payload for m in s.get_n(3)]
        assert got == [_body(i).decode() for i in range(3)]
        with pytest.raises(AssertionError):
            s.get(0.7)
    finally:
        s.close()


@pytest.mark.junction_only("STOMP is Junction's")
@pytest.mark.broker_options(stomp=True, limits=CAP)
def test_stomp_send_with_receipt_refused_at_the_byte_cap(broker, paho, stomps):
    """A SEND with a receipt that an MQTT subscriber's session cannot take
    gets ERROR `subscriber queue full` instead of the RECEIPT."""
    topic, cid = unique("lim/qbs"), unique("qbssub")
    _offline_subscriber(paho, broker, topic, cid)
    st = stomps(broker.stomp_port, "1.2")
    for i in range(3):
        st.send("/topic/" + topic, _body(i), receipt="r%d" % i)
    st.conn.send("/topic/" + topic, _body(3), headers={"receipt": "r3"})
    (headers, _), = st.wait_errors()
    assert headers["message"] == "subscriber queue full"
    assert headers["receipt-id"] == "r3"

    got = [m.payload for m in _reconnect(paho, broker, cid).drain(0.7)]
    assert got == [_body(0), _body(1), _body(2)]
