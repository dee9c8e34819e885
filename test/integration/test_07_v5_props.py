"""07: MQTT 5 properties and options: pass-through of publish properties,
subscription identifiers, no-local, topic aliases both ways, message expiry."""

import time

import pytest

import raw_mqtt as R
from broker import is_junction
from clients import V5, mosquitto_pub, roundtrip, unique, v5_sub_options


def _pair(paho, broker, topic_filter, qos=1, sub_kw=None, **sub_args):
    s = paho(broker.port, version=V5, **(sub_kw or {}))
    s.connect()
    s.subscribe(topic_filter, qos, **sub_args)
    p = paho(broker.port, version=V5)
    p.connect()
    return s, p


USER_PROPS = [("a", "1"), ("b", "two"), ("a", "3"), ("ünï", "cödé"), ("empty", "")]


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_publish_properties_passed_through(broker, paho, qos):
    topic = unique("props/pt")
    s, p = _pair(paho, broker, topic, qos=2)
    corr = bytes([0, 1, 2, 255, 254, 0])
    p.publish(topic, "payload ✓".encode(), qos=qos, PayloadFormatIndicator=1,
              ContentType="application/x-test; charset=utf-8", ResponseTopic="reply/" + topic,
              CorrelationData=corr, UserProperty=list(USER_PROPS), MessageExpiryInterval=120)
    m = s.get()
    assert m.payload == "payload ✓".encode()
    assert m.props.get("PayloadFormatIndicator") == 1
    assert m.props.get("ContentType") == "application/x-test; charset=utf-8"
    assert m.props.get("ResponseTopic") == "reply/" + topic
    assert m.props.get("CorrelationData") == corr
    # [MQTT-3.3.2-18]: user properties forwarded unchanged, in order
    assert m.props.get("UserProperty") == USER_PROPS
    assert 115 <= m.props.get("MessageExpiryInterval", -1) <= 120


def test_no_properties_added(broker, paho):
    topic = unique("props/none")
    s, p = _pair(paho, broker, topic)
    p.publish(topic, b"plain", qos=1)
    m = s.get()
    for k in ("ContentType", "ResponseTopic", "CorrelationData", "UserProperty",
              "MessageExpiryInterval", "SubscriptionIdentifier", "TopicAlias"):
        assert k not in m.props, "%s appeared from nowhere: %r" % (k, m.props)


def test_properties_from_mosquitto_pub(broker, paho):
    topic = unique("props/mp")
    s = paho(broker.port, version=V5)
    s.connect()
    s.subscribe(topic, 1)
    mosquitto_pub(broker.port, topic, "with props", qos=1, version="mqttv5", extra=[
        "-D", "PUBLISH", "user-property", "color", "blue",
        "-D", "PUBLISH", "user-property", "size", "L",
        "-D", "PUBLISH", "content-type", "text/plain",
        "-D", "PUBLISH", "response-topic", "answers/here",
        "-D", "PUBLISH", "correlation-data", "req-42",
        "-D", "PUBLISH", "payload-format-indicator", "1",
    ])
    m = s.get()
    assert m.payload == b"with props"
    assert m.props.get("UserProperty") == [("color", "blue"), ("size", "L")]
    assert m.props.get("ContentType") == "text/plain"
    assert m.props.get("ResponseTopic") == "answers/here"
    assert m.props.get("CorrelationData") == b"req-42"
    assert m.props.get("PayloadFormatIndicator") == 1


def test_properties_to_mosquitto_sub(broker, paho, msub):
    topic = unique("props/ms")
    s = msub(broker.port, topic, qos=1, version="mqttv5")
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(topic, b"hi", qos=1, ContentType="text/x", ResponseTopic="resp/t",
              CorrelationData=b"corr-1", UserProperty=[("k", "v")])
    m = s.get()
    assert m.payload == "hi"
    assert m.props["content_type"] == "text/x"
    assert m.props["response_topic"] == "resp/t"
    assert m.props["correlation"] == "corr-1"
    assert m.props["user"] == "k:v"


def test_subscription_identifiers(broker, paho):
    base = unique("props/sid")
    s = paho(broker.port, version=V5)
    s.connect()
    s.subscribe(base + "/+", 1, sub_id=7)
    s.subscribe(base + "/#", 1, sub_id=9)
    s.subscribe(base + "/only/none", 1)  # no identifier
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(base + "/x", b"both", qos=1)
    copies = s.drain(0.5)
    # one message carrying both ids, or one copy per subscription with its id
    ids = sorted(i for m in copies for i in m.props.get("SubscriptionIdentifier", []))
    assert ids == [7, 9], copies
    p.publish(base + "/only/none", b"hash only", qos=1)
    copies = s.drain(0.5)
    assert copies, "message lost"
    ids = sorted(i for m in copies for i in m.props.get("SubscriptionIdentifier", []))
    assert ids == [9], "the subscription without an id adds none: %r" % copies


def test_subscription_identifier_on_retained(broker, paho):
    topic = unique("props/sidret")
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(topic, b"retained", qos=1, retain=True)
    s = paho(broker.port, version=V5)
    s.connect()
    s.subscribe(topic, 1, sub_id=123456)
    m = s.get()
    assert m.retain and m.props.get("SubscriptionIdentifier") == [123456]


def test_subscription_identifier_mosquitto_sub(broker, paho, msub):
    topic = unique("props/sidms")
    s = msub(broker.port, topic, qos=1, version="mqttv5",
             extra=["-D", "SUBSCRIBE", "subscription-identifier", "42"])
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(topic, b"x", qos=1)
    assert s.get().props["sub_id"] == "42"


def test_no_local(broker, paho):
    topic = unique("props/nl")
    c = paho(broker.port, version=V5)
    c.connect()
    c.subscribe(topic, options=v5_sub_options(1, no_local=True))
    c.publish(topic, b"mine", qos=1)
    other = paho(broker.port, version=V5)
    other.connect()
    other.publish(topic, b"theirs", qos=1)
    got = c.drain(0.5)
    assert [m.payload for m in got] == [b"theirs"]


def test_topic_alias_client_to_broker(broker, paho):
    base = unique("props/alias")
    s = paho(broker.port, version=V5)
    s.connect()
    s.subscribe(base + "/#", 1)
    p = paho(broker.port, version=V5)
    ack = p.connect()
    assert ack.props.get("TopicAliasMaximum", 0) >= 2, "this broker is configured for aliases: %r" % ack.props
    p.publish(base + "/a", b"1", qos=1, TopicAlias=1)   # set alias 1
    p.publish("", b"2", qos=1, TopicAlias=1)             # use it
    p.publish(base + "/b", b"3", qos=1, TopicAlias=2)
    p.publish("", b"4", qos=0, TopicAlias=2)
    p.publish(base + "/c", b"5", qos=1, TopicAlias=1)   # remap alias 1
    p.publish("", b"6", qos=2, TopicAlias=1)
    got = s.get_n(6)
    assert [(m.topic, m.payload) for m in got] == [
        (base + "/a", b"1"), (base + "/a", b"2"), (base + "/b", b"3"),
        (base + "/b", b"4"), (base + "/c", b"5"), (base + "/c", b"6")]
    assert all("TopicAlias" not in m.props for m in got), "aliases are per connection, not forwarded"


@pytest.mark.broker_options(limits=dict(topic_alias_maximum=4))
def test_topic_alias_above_maximum(broker, raw):
    # [MQTT-3.3.2-10]: greater than the Topic Alias Maximum sent in CONNACK ->
    # DISCONNECT 0x94 Topic Alias invalid, then close.
    c = raw(R.V5)
    ack = c.connect("badalias")
    assert ack.prop(R.P_TOPIC_ALIAS_MAXIMUM) == 4
    c.publish(unique("props/ba"), b"x", qos=1, packet_id=1, props={R.P_TOPIC_ALIAS: 5})
    got = c.recv_until_closed(3)
    assert [(p.type, p.reason) for p in got] == [(R.DISCONNECT, 0x94)], got
    roundtrip(broker.port)


def test_topic_alias_zero(broker, raw):
    # [MQTT-3.3.2-8]: alias 0 is not permitted. The reason code is not pinned by
    # the spec (Mosquitto says 0x81 Malformed); 0x82 and 0x94 are reasonable too.
    c = raw(R.V5)
    c.connect("zeroalias")
    c.publish(unique("props/ba"), b"x", qos=1, packet_id=1, props={R.P_TOPIC_ALIAS: 0})
    got = c.recv_until_closed(3)
    assert all(p.type == R.DISCONNECT and p.reason in (0x81, 0x82, 0x94) for p in got), got
    roundtrip(broker.port)


def test_topic_alias_unknown(broker, raw):
    # empty topic with an alias never set: protocol error (0x82) or invalid alias (0x94)
    c = raw(R.V5)
    c.connect("unknownalias")
    c.publish("", b"x", qos=1, packet_id=1, props={R.P_TOPIC_ALIAS: 3})
    got = c.recv_until_closed(3)
    assert all(p.type == R.DISCONNECT and p.reason in (0x82, 0x94) for p in got), got
    roundtrip(broker.port)


def _alias_subscriber(paho, broker, base, maximum):
    s = paho(broker.port, version=V5,
             connect_props={"TopicAliasMaximum": maximum} if maximum else None)
    s.connect()
    s.subscribe(base + "/#", 1)
    return s


def _publish_topics(paho, broker, base, topics, rounds):
    p = paho(broker.port, version=V5)
    p.connect()
    sent = []
    for r in range(rounds):
        for t in topics:
            p.publish(base + "/" + t, ("%s-%d" % (t, r)).encode(), qos=1, wait=False)
            sent.append((base + "/" + t, ("%s-%d" % (t, r)).encode()))
    return sent


def _resolve(msgs, maximum):
    """Apply broker->client topic aliases as a client must; returns (topic, payload)
    list and the number of messages that arrived with an empty topic."""
    table, out, used = {}, [], 0
    for m in msgs:
        alias = m.props.get("TopicAlias")
        topic = m.topic
        if alias is not None:
            assert 1 <= alias <= maximum, "alias %d outside 1..%d" % (alias, maximum)
            if topic:
                table[alias] = topic
            else:
                assert alias in table, "alias %d used before being set" % alias
                topic = table[alias]
                used += 1
        else:
            assert topic, "empty topic without alias"
        out.append((topic, m.payload))
    return out, used


def test_topic_alias_broker_to_client_respects_maximum(broker, paho):
    base = unique("props/out")
    topics = ["t%d" % i for i in range(5)]
    s = _alias_subscriber(paho, broker, base, 3)
    sent = _publish_topics(paho, broker, base, topics, 4)
    got, _ = _resolve(s.get_n(len(sent), 10), 3)
    assert got == sent


@pytest.mark.junction_only("Junction uses broker->client topic aliases; Mosquitto 2.0.11 never does "
                           "(allowed: the server MAY use them)")
def test_topic_alias_broker_to_client_used(broker, paho):
    base = unique("props/out2")
    topics = ["a", "b"]
    s = _alias_subscriber(paho, broker, base, 5)
    sent = _publish_topics(paho, broker, base, topics, 5)
    got, used = _resolve(s.get_n(len(sent), 10), 5)
    assert got == sent
    assert used > 0, "no message used a topic alias although the client allowed 5"


def test_no_topic_alias_without_client_maximum(broker, paho):
    base = unique("props/noalias")
    s = _alias_subscriber(paho, broker, base, 0)
    sent = _publish_topics(paho, broker, base, ["x", "y"], 5)
    got = s.get_n(len(sent))
    assert all("TopicAlias" not in m.props and m.topic for m in got)


def test_message_expiry_while_offline(broker, paho):
    base = unique("props/exp")
    cid = unique("expsub")
    s = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    s.connect()
    s.subscribe(base, 1)
    s.disconnect()
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(base, b"short", qos=1, MessageExpiryInterval=1)
    p.publish(base, b"long", qos=1, MessageExpiryInterval=60)
    p.publish(base, b"forever", qos=1)
    time.sleep(2.2)
    s2 = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    assert s2.connect().session_present is True
    got = s2.drain(0.7)
    assert [m.payload for m in got] == [b"long", b"forever"], "the 1 s message must have expired"
    remaining = got[0].props.get("MessageExpiryInterval")
    # [MQTT-3.3.2-6]: forwarded with the received value minus the time waited
    assert remaining is not None and 50 <= remaining <= 58, "remaining expiry %r after ~2.2 s" % remaining
    assert "MessageExpiryInterval" not in got[1].props


def test_message_expiry_mosquitto_pub(broker, paho):
    base = unique("props/expm")
    cid = unique("expsubm")
    s = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    s.connect()
    s.subscribe(base, 1)
    s.disconnect()
    mosquitto_pub(broker.port, base, "expires", qos=1, version="mqttv5",
                  extra=["-D", "PUBLISH", "message-expiry-interval", "1"])
    mosquitto_pub(broker.port, base, "stays", qos=1, version="mqttv5")
    time.sleep(2.2)
    s2 = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=300)
    s2.connect()
    assert [m.payload for m in s2.drain(0.7)] == [b"stays"]


def test_retained_message_expiry(broker, paho):
    base = unique("props/rexp")
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(base + "/short", b"gone soon", qos=1, retain=True, MessageExpiryInterval=1)
    p.publish(base + "/long", b"stays", qos=1, retain=True, MessageExpiryInterval=100)
    time.sleep(2.2)
    s = paho(broker.port, version=V5)
    s.connect()
    s.subscribe(base + "/#", 1)
    got = s.drain(0.7)
    assert [m.payload for m in got] == [b"stays"]
    assert 90 <= got[0].props.get("MessageExpiryInterval", -1) <= 98


def test_request_response_roundtrip(broker, paho):
    """A responder answers on the request's response topic with its correlation data."""
    req_topic = unique("props/req")
    responder = paho(broker.port, version=V5)
    responder.connect()
    responder.subscribe(req_topic, 1)
    requester = paho(broker.port, version=V5)
    requester.connect()
    reply_topic = unique("props/reply")
    requester.subscribe(reply_topic, 1)
    requester.publish(req_topic, b"2+2?", qos=1, ResponseTopic=reply_topic, CorrelationData=b"\x07id")
    req = responder.get()
    responder.publish(req.props["ResponseTopic"], b"4", qos=1,
                      CorrelationData=req.props["CorrelationData"])
    ans = requester.get()
    assert (ans.topic, ans.payload, ans.props.get("CorrelationData")) == (reply_topic, b"4", b"\x07id")


@pytest.mark.junction_only("Junction explains its errors with a Reason String (optional in the spec)")
def test_reason_string_on_error_disconnect(broker, raw):
    c = raw(R.V5)
    assert c.connect("why").reason == 0
    c.send(R.packet(R.PUBLISH, 0x06, R.string("m/q3") + R.u16(1) + b"\x00x"))  # QoS 3
    got = c.recv_until_closed(3)
    assert len(got) == 1 and got[0].type == R.DISCONNECT, got
    assert got[0].prop(R.P_REASON_STRING), "no Reason String on the error DISCONNECT: %r" % got


def test_no_reason_string_when_problem_information_disabled(broker, raw):
    """[MQTT-3.1.2-29]: Request Problem Information 0 -> no Reason String or User
    Property on anything but PUBLISH, CONNACK and DISCONNECT."""
    c = raw(R.V5)
    assert c.connect("quiet", props={R.P_REQUEST_PROBLEM_INFO: 0}).reason == 0
    c.send(R.unsubscribe(5, [unique("props/never-subscribed")], version=R.V5))
    ack = c.expect(R.UNSUBACK)
    assert ack.reasons[0] in (0x00, 0x11)
    assert ack.prop(R.P_REASON_STRING) is None and not ack.prop_all(R.P_USER_PROPERTY), ack


@pytest.mark.junction_only("Mosquitto 2.0.11 accepts an empty ShareName ($share//x) "
                           "against [MQTT-4.8.2-1]")
def test_shared_subscription_empty_share_name_rejected(broker, raw):
    c = raw(R.V5)
    assert c.connect("emptyshare", props={R.P_REQUEST_PROBLEM_INFO: 0}).reason == 0
    c.send(R.subscribe(6, [("$share//bad", 1)], version=R.V5))
    try:
        ack = c.recv(3)
    except R.Closed:
        return
    if ack.type == R.SUBACK:
        assert ack.reasons[0] >= 0x80, ack
        # [MQTT-3.1.2-29]: no Reason String with Request Problem Information 0
        assert ack.prop(R.P_REASON_STRING) is None and not ack.prop_all(R.P_USER_PROPERTY), ack
    else:
        assert ack.type == R.DISCONNECT and ack.reason >= 0x80, ack


@pytest.mark.parametrize("limit", [2, 5])
def test_client_maximum_packet_size_below_connack_closes_without_one(broker, limit):
    # [MQTT-3.1.2-24]: never send a packet over the client's Maximum Packet
    # Size, not even the CONNACK (Mosquitto closes the same way). The
    # refused connect takes over nothing.
    cid = unique("mps")
    first = R.RawClient(broker.port, version=R.V5)
    assert first.connect(cid).reason == 0
    tiny = R.RawClient(broker.port, version=R.V5)
    tiny.send(R.connect(cid, version=R.V5, props=[(R.P_MAXIMUM_PACKET_SIZE, limit)]))
    assert tiny.recv_until_closed(5.0) == []
    if is_junction():  # Mosquitto 2.0.11 takes the session over first
        assert first.is_open()
        first.send(R.pingreq())
        first.expect(R.PINGRESP)
    first.close()
