"""MQTT <-> STOMP on one broker, with clients other people wrote
(mosquitto_pub / mosquitto_sub, paho-mqtt, stomp.py): payload bytes
unchanged both ways, MQTT 5 properties <-> STOMP headers (content-type,
correlation id incl. binary, response topic <-> reply-to, user properties
with reversibly escaped names, expiry <-> expires, QoS <-> qos, retained),
and queues through MQTT's $queue/ topics.
"""

import time

import pytest

from clients import V5, mosquitto_pub
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from stomp_client import RawStomp, stomps  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.junction_only("STOMP front-end"),
    pytest.mark.broker_options(stomp=True),
]

BINARY = bytes(range(256)) + b"\x00\x00end"


def escape(text):
    """STOMP 1.2 header escaping."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace(":", "\\c").replace("\r", "\\r")


def publish_props(**values):
    p = Properties(PacketTypes.PUBLISH)
    for k, v in values.items():
        setattr(p, k, v)
    return p


# ---------------------------------------------------------------- payloads

def test_mosquitto_pub_reaches_stomp_subscriber(broker, stomps):
    s = stomps(broker.stomp_port, "1.2")
    s.subscribe("/topic/a/b", sub_id="s")
    mosquitto_pub(broker.port, "a/b", "hello from mqtt", qos=1)
    m = s.get()
    assert m.body == b"hello from mqtt"
    assert m.headers["destination"] == "/topic/a/b"
    assert m.headers["qos"] == "1"
    mosquitto_pub(broker.port, "a/b", BINARY, qos=0)  # via stdin: every byte value
    m = s.get()
    assert m.body == BINARY
    assert m.headers["content-length"] == str(len(BINARY))
    assert m.headers["qos"] == "0"


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_stomp_send_reaches_mqtt_subscribers(broker, stomps, paho, msub, version):
    sub = msub(broker.port, "x/y", count=1)  # its output is line based: text only
    p = paho(broker.port)
    p.connect()
    p.subscribe("x/+", qos=1)
    s = stomps(broker.stomp_port, version)
    s.send("/topic/x/y", "hello from stomp", receipt="r1")
    m = sub.get()
    assert (m.topic, m.payload) == ("x/y", "hello from stomp")
    pm = p.get()
    assert (pm.topic, pm.payload, pm.qos) == ("x/y", b"hello from stomp", 1)
    s.send("/topic/x/y", BINARY, receipt="r2")
    assert p.get().payload == BINARY


def test_stomp_wildcard_subscription_gets_mqtt_topics(broker, stomps):
    s = stomps(broker.stomp_port, "1.2")
    s.subscribe("/topic/sensors/+/temp", sub_id="one")
    s.subscribe("/topic/sensors/#", sub_id="all")
    mosquitto_pub(broker.port, "sensors/k1/temp", "21.5")
    got = s.get_n(2)
    assert sorted(m.headers["subscription"] for m in got) == ["all", "one"]
    assert all(m.headers["destination"] == "/topic/sensors/k1/temp" for m in got)


# ---------------------------------------------------------------- properties

def test_mqtt5_properties_become_stomp_headers(broker, stomps):
    s = stomps(broker.stomp_port, "1.2")
    s.subscribe("/topic/props", sub_id="p")
    before_ms = int(time.time() * 1000)
    mosquitto_pub(broker.port, "props", "with props", qos=1, version="mqttv5", extra=[
        "-D", "PUBLISH", "content-type", "text/x",
        "-D", "PUBLISH", "correlation-data", "corr-1",
        "-D", "PUBLISH", "response-topic", "resp/t",
        "-D", "PUBLISH", "user-property", "k", "v",
        "-D", "PUBLISH", "user-property", "destination", "not-mine",
        "-D", "PUBLISH", "user-property", "x-user-kept", "as is",
        "-D", "PUBLISH", "message-expiry-interval", "60",
    ])
    m = s.get()
    h = m.headers
    assert m.body == b"with props"
    assert h["destination"] == "/topic/props"
    assert h["content-type"] == "text/x"
    assert h["correlation-id"] == "corr-1" and "correlation-id-encoding" not in h
    assert h["reply-to"] == "/topic/resp/t"
    assert h["k"] == "v"
    assert h["x-user-destination"] == "not-mine"
    assert h["x-user-x-user-kept"] == "as is"
    assert before_ms + 59000 <= int(h["expires"]) <= int(time.time() * 1000) + 61000


def test_binary_correlation_data_travels_base64(broker, stomps, paho):
    s = stomps(broker.stomp_port, "1.2")
    s.subscribe("/topic/bin", sub_id="b")
    p = paho(broker.port, version=V5)
    p.connect()
    corr = b"\x00\x01\xfe\xff\n"
    p.publish("bin", b"x", qos=1, properties=publish_props(CorrelationData=corr))
    h = s.get().headers
    assert h["correlation-id-encoding"] == "base64"
    assert h["correlation-id"] == "AAH+/wo="


def test_stomp_headers_become_mqtt5_properties(broker, stomps, paho, msub):
    p = paho(broker.port, version=V5)
    p.connect()
    p.subscribe("out/1", qos=2)
    s = stomps(broker.stomp_port, "1.2")
    expires = int(time.time() * 1000) + 120000
    headers = {
        "content-type": "application/json",
        "correlation-id": "AAH+/wo=",
        "correlation-id-encoding": "base64",
        "reply-to": "/queue/answers",
        "expires": str(expires),
        "qos": "2",
        "color": "blue",
        "x-user-content-type": "user's own",
    }
    s.send("/topic/out/1", "payload", receipt="r", **headers)
    m = p.get()
    assert m.payload == b"payload" and m.qos == 2
    assert m.props["ContentType"] == "application/json"
    assert m.props["CorrelationData"] == b"\x00\x01\xfe\xff\n"
    assert m.props["ResponseTopic"] == "$queue/answers"
    assert sorted(m.props["UserProperty"]) == [("color", "blue"), ("content-type", "user's own")]
    assert 115 <= m.props["MessageExpiryInterval"] <= 120

    # mosquitto_sub prints one line per message: printable values only.
    sub = msub(broker.port, "out/2", version="mqttv5")
    headers.update({"correlation-id": "corr-7", "correlation-id-encoding": None, "reply-to": "/topic/back/here"})
    del headers["correlation-id-encoding"]
    s.send("/topic/out/2", "payload 2", receipt="r2", **headers)
    ms = sub.get()
    assert ms.payload == "payload 2"
    assert ms.props["content_type"] == "application/json"
    assert ms.props["correlation"] == "corr-7"
    assert ms.props["response_topic"] == "back/here"
    assert "color:blue" in ms.props["user"] and "content-type:user's own" in ms.props["user"]
    assert 115 <= int(ms.props["expiry"]) <= 120


def test_request_reply_round_trip_is_lossless(broker, stomps, paho):
    """An MQTT 5 requester, a STOMP responder that echoes every header it
    got: the requester sees its own properties again, byte for byte."""
    responder = stomps(broker.stomp_port, "1.2")
    responder.subscribe("/topic/svc/echo", sub_id="svc")
    req = paho(broker.port, version=V5)
    req.connect()
    req.subscribe("replies/me", qos=1)
    corr = b"\x00binary\xffid"
    users = [("destination", "d"), ("x-user-a", "1"), ("k", "v1"), ("k", "v2"), ("", "empty name")]
    req.publish("svc/echo", b"\x00request\xff", qos=1, properties=publish_props(
        ResponseTopic="replies/me", CorrelationData=corr, ContentType="application/x-thing",
        UserProperty=users))
    m = responder.get()
    assert m.headers["reply-to"] == "/topic/replies/me"
    echo = {k: v for k, v in m.headers.items()
            if k not in ("destination", "message-id", "subscription", "content-length", "reply-to", "ack")}
    # stomp.py keeps one value per header name, so the responder writes its
    # SEND by hand to repeat `k` as it was published.
    hdrs = [("destination", m.headers["reply-to"])] + [(k, v) for k, v in echo.items() if k != "k"]
    hdrs += [("k", "v1"), ("k", "v2"), ("content-length", str(len(m.body))), ("receipt", "done")]
    raw = RawStomp(broker.stomp_port)
    raw.connect("1.2")
    raw.frame("SEND", [(escape(k), escape(v)) for k, v in hdrs], m.body)
    assert raw.read().headers["receipt-id"] == "done"
    got = req.get()
    assert got.payload == b"\x00request\xff"
    assert got.props["CorrelationData"] == corr
    assert got.props["ContentType"] == "application/x-thing"
    assert sorted(got.props["UserProperty"]) == sorted(users)


# ---------------------------------------------------------------- retained and qos

def test_retained_both_ways(broker, stomps, msub):
    mosquitto_pub(broker.port, "ret/mqtt", "from mqtt", qos=1, retain=True)
    s = stomps(broker.stomp_port, "1.2")
    s.subscribe("/topic/ret/#", sub_id="r")
    m = s.get()
    assert m.body == b"from mqtt" and m.headers["retained"] == "true"
    s.send("/topic/ret/stomp", "from stomp", receipt="r1", retain="true")
    assert "retained" not in s.get().headers  # live delivery
    late = msub(broker.port, "ret/stomp")
    lm = late.get()
    assert (lm.payload, lm.retain) == ("from stomp", True)


def test_qos_header_both_ways(broker, stomps, paho):
    s = stomps(broker.stomp_port, "1.2")
    s.subscribe("/topic/q/#", sub_id="q")
    pub = paho(broker.port)
    pub.connect()
    pub.publish("q/two", b"2", qos=2)
    assert s.get().headers["qos"] == "2"
    sub = paho(broker.port)
    sub.connect()
    sub.subscribe("q/zero", qos=1)
    s.send("/topic/q/zero", "0", receipt="r", qos="0")
    assert sub.get().qos == 0
    assert s.get().headers["qos"] == "0"


# ---------------------------------------------------------------- queues

def test_queues_shared_by_both_protocols(broker, stomps, paho):
    s = stomps(broker.stomp_port, "1.2")
    s.send("/queue/shared", "from stomp", receipt="r1")
    p = paho(broker.port)
    p.connect()
    p.subscribe("$queue/shared", qos=1)
    m = p.get()
    assert (m.topic, m.payload) == ("$queue/shared", b"from stomp")
    p.publish("$queue/back", b"from mqtt", qos=1)
    s.subscribe("/queue/back", sub_id="b", ack="client-individual")
    sm = s.get()
    assert sm.body == b"from mqtt" and sm.headers["destination"] == "/queue/back"
    s.ack(sm, receipt="a")


def test_stomp_requester_mqtt_responder(broker, stomps, paho):
    responder = paho(broker.port, version=V5)
    responder.connect()
    responder.subscribe("svc/time", qos=1)
    requester = stomps(broker.stomp_port, "1.2")
    requester.send("/topic/svc/time", "what time is it", receipt="q",
                   **{"reply-to": "/temp-queue/answers", "correlation-id": "q-1"})
    req = responder.get()
    session = requester.connected_frame.headers["session"]
    assert req.props["ResponseTopic"] == "$queue/tmp.%s.answers" % session
    assert req.props["CorrelationData"] == b"q-1"
    responder.publish(req.props["ResponseTopic"], b"noon", qos=1,
                      properties=publish_props(CorrelationData=req.props["CorrelationData"]))
    rep = requester.get()
    assert rep.body == b"noon"
    assert rep.headers["destination"] == "/temp-queue/answers"
    assert rep.headers["correlation-id"] == "q-1"


def test_temp_queue_leftovers_are_discarded(broker, stomps, paho):
    a = stomps(broker.stomp_port, "1.2")
    for i in range(3):
        a.send("/temp-queue/unread", "left %d" % i, receipt="r%d" % i)
    session = a.connected_frame.headers["session"]
    a.disconnect()
    time.sleep(0.2)
    p = paho(broker.port)
    p.connect()
    p.subscribe("$queue/tmp.%s.unread" % session, qos=1)
    p.expect_nothing(0.7)
