"""04: wills: published on unclean disconnect, not on clean DISCONNECT;
v5 will delay, will properties, DISCONNECT 0x04."""

import time

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCodes

import raw_mqtt as R
from clients import V311, V5, VERSION_NAMES, props, unique


def _watch(paho, broker, topic, qos=2, version=V311):
    w = paho(broker.port, version=version)
    w.connect()
    w.subscribe(topic, qos)
    return w


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
@pytest.mark.parametrize("will_qos", [0, 1, 2])
def test_will_on_unclean_disconnect(broker, paho, version, will_qos):
    topic = unique("will/u")
    w = _watch(paho, broker, topic)
    c = paho(broker.port, version=version,
             will=dict(topic=topic, payload=b"client died", qos=will_qos))
    c.connect()
    c.drop()
    m = w.get(5)
    assert (m.topic, m.payload, m.qos, m.retain) == (topic, b"client died", will_qos, False)
    w.expect_nothing(0.3)


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_no_will_on_clean_disconnect(broker, paho, version):
    topic = unique("will/clean")
    w = _watch(paho, broker, topic)
    c = paho(broker.port, version=version, will=dict(topic=topic, payload=b"must not appear", qos=1))
    c.connect()
    c.disconnect()
    w.expect_nothing(1.0)


def test_will_retained(broker, paho):
    topic = unique("will/r")
    c = paho(broker.port, version=V311, will=dict(topic=topic, payload=b"offline", qos=1, retain=True))
    c.connect()
    c.drop()
    time.sleep(0.3)
    late = paho(broker.port)
    late.connect()
    late.subscribe(topic, 1)
    m = late.get(5)
    assert (m.payload, m.retain) == (b"offline", True)


def test_v5_disconnect_with_will_message(broker, paho):
    # DISCONNECT reason 0x04: "Disconnect with Will Message".
    topic = unique("will/d4")
    w = _watch(paho, broker, topic)
    c = paho(broker.port, version=V5, will=dict(topic=topic, payload=b"asked for it", qos=1))
    c.connect()
    c.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT, "Disconnect with will message"))
    m = w.get(5)
    assert m.payload == b"asked for it"


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
def test_will_of_killed_mosquitto_sub(broker, paho, msub, version):
    topic = unique("will/ms")
    w = _watch(paho, broker, topic)
    s = msub(broker.port, unique("will/ignored"), version=version,
             extra=["--will-topic", topic, "--will-payload", "mosquitto_sub was killed", "--will-qos", "1"])
    s.kill(9)
    m = w.get(5)
    assert (m.payload, m.qos) == (b"mosquitto_sub was killed", 1)


def test_v5_will_properties_passed_through(broker, paho):
    topic = unique("will/props")
    w = _watch(paho, broker, topic, version=V5)
    wp = props(PacketTypes.WILLMESSAGE, ContentType="application/json", ResponseTopic="r/t",
               CorrelationData=b"\x01\x02", UserProperty=[("who", "me"), ("why", "test")],
               PayloadFormatIndicator=1)
    c = paho(broker.port, version=V5, will=dict(topic=topic, payload=b'{"dead":true}', qos=1, props=wp))
    c.connect()
    c.drop()
    m = w.get(5)
    assert m.payload == b'{"dead":true}'
    assert m.props.get("ContentType") == "application/json"
    assert m.props.get("ResponseTopic") == "r/t"
    assert m.props.get("CorrelationData") == b"\x01\x02"
    assert m.props.get("UserProperty") == [("who", "me"), ("why", "test")]
    assert m.props.get("PayloadFormatIndicator") == 1


def _delayed_will_client(paho, broker, topic, delay, expiry, client_id=None):
    wp = props(PacketTypes.WILLMESSAGE, WillDelayInterval=delay)
    c = paho(broker.port, version=V5, client_id=client_id, clean=True, session_expiry=expiry,
             will=dict(topic=topic, payload=b"delayed will", qos=1, props=wp))
    c.connect()
    return c


def test_v5_will_delay(broker, paho):
    topic = unique("will/delay")
    w = _watch(paho, broker, topic)
    c = _delayed_will_client(paho, broker, topic, delay=2, expiry=60)
    t0 = time.monotonic()
    c.drop()
    w.expect_nothing(1.4)
    m = w.get(4)
    elapsed = m.time - t0
    assert m.payload == b"delayed will"
    assert 1.8 <= elapsed <= 4.0, "will arrived %.2fs after the drop (delay 2 s)" % elapsed


def test_v5_will_delay_cancelled_by_reconnect(broker, paho):
    topic = unique("will/cancel")
    cid = unique("willcancel")
    w = _watch(paho, broker, topic)
    c = _delayed_will_client(paho, broker, topic, delay=2, expiry=60, client_id=cid)
    c.drop()
    time.sleep(0.5)
    again = paho(broker.port, version=V5, client_id=cid, clean=False, session_expiry=60)
    assert again.connect().session_present is True
    w.expect_nothing(3.0)
    again.disconnect()


def test_v5_will_sent_when_session_ends_before_delay(broker, paho):
    # v5 3.1.3.2.2: the will is published when the delay passes or the session
    # ends, whichever happens first. Session expiry 1 s < will delay 30 s.
    topic = unique("will/sess")
    w = _watch(paho, broker, topic)
    c = _delayed_will_client(paho, broker, topic, delay=30, expiry=1)
    t0 = time.monotonic()
    c.drop()
    m = w.get(6)
    assert m.payload == b"delayed will"
    assert m.time - t0 <= 4.0


@pytest.mark.junction_only("Mosquitto 2.0.11 holds the will for the full will delay although "
                           "session expiry 0 ends the session at disconnect (v5 3.1.3.2.2)")
def test_v5_will_delay_zero_expiry_immediate(broker, paho):
    # Session expiry 0: the session ends at disconnect, so the will goes at once.
    topic = unique("will/now")
    w = _watch(paho, broker, topic)
    c = _delayed_will_client(paho, broker, topic, delay=30, expiry=0)
    t0 = time.monotonic()
    c.drop()
    m = w.get(4)
    assert m.time - t0 < 2.0


@pytest.mark.parametrize("version", [R.V311, R.V5])
def test_will_on_protocol_error(broker, paho, raw, version):
    topic = unique("will/proto")
    w = _watch(paho, broker, topic)
    c = raw(version)
    assert c.connect("perr-" + unique(), will_topic=topic, will_payload=b"protocol error",
                     will_qos=1).reason == 0
    c.send(b"\x36\x05\x00\x01a\x00\x01")  # PUBLISH with QoS 3: malformed
    c.recv_until_closed(3)
    m = w.get(5)
    assert m.payload == b"protocol error"
