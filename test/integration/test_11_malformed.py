"""11: malformed and forbidden packets close only the offending connection
(v5: after a DISCONNECT with an error reason code); everyone else keeps working."""

import pytest

import raw_mqtt as R
from clients import V311, unique

MALFORMED, PROTOCOL, TOPIC_INVALID = 0x81, 0x82, 0x90


def _pub(topic_bytes, payload=b"x", flags=0, body_extra=b"", version=R.V311, packet_id=None, props=b"\x00"):
    body = R.u16(len(topic_bytes)) + topic_bytes
    if packet_id is not None:
        body += R.u16(packet_id)
    if version == R.V5:
        body += props
    return R.packet(R.PUBLISH, flags, body + body_extra + payload)


CASES = {
    # name: (builder(version) -> bytes, acceptable v5 reason codes for Junction)
    "publish_qos3": (lambda v: _pub(b"m/q3", flags=0x06, packet_id=1, version=v), {MALFORMED}),
    "subscribe_reserved_flags": (lambda v: R.subscribe(1, [("m/s", 1)], version=v, flags=0x00), {MALFORMED}),
    "unsubscribe_reserved_flags": (
        lambda v: R.packet(R.UNSUBSCRIBE, 0, R.u16(1) + (b"\x00" if v == R.V5 else b"") + R.string("m/u")),
        {MALFORMED}),
    "pubrel_reserved_flags": (lambda v: R.packet(R.PUBREL, 0, R.u16(1)), {MALFORMED}),
    "pingreq_reserved_flags": (lambda v: b"\xc1\x00", {MALFORMED}),
    "reserved_packet_type_0": (lambda v: b"\x00\x00", {MALFORMED, PROTOCOL}),
    "topic_bad_utf8": (lambda v: _pub(b"m/\xff\xfe", version=v), {MALFORMED}),
    "topic_utf16_surrogate": (lambda v: _pub(b"m/\xed\xa0\x80", version=v), {MALFORMED}),
    "topic_contains_nul": (lambda v: _pub(b"m/a\x00b", version=v), {MALFORMED}),
    "topic_with_wildcard": (lambda v: _pub(b"m/+/x", version=v), {MALFORMED, PROTOCOL, TOPIC_INVALID}),
    "topic_empty_no_alias": (lambda v: _pub(b"", version=v), {MALFORMED, PROTOCOL}),
    "publish_packet_id_zero": (lambda v: _pub(b"m/p0", flags=0x02, packet_id=0, version=v), {MALFORMED, PROTOCOL}),
    "subscribe_no_filters": (
        lambda v: R.packet(R.SUBSCRIBE, 2, R.u16(1) + (b"\x00" if v == R.V5 else b"")), {MALFORMED, PROTOCOL}),
    # v5 3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the value 3"
    "subscribe_qos3": (lambda v: R.subscribe(1, [("m/s3", 3)], version=v), {PROTOCOL, MALFORMED}),
    "subscribe_filter_bad_utf8": (
        lambda v: R.packet(R.SUBSCRIBE, 2, R.u16(1) + (b"\x00" if v == R.V5 else b"") + R.u16(2) + b"\xc3\x28" + b"\x01"),
        {MALFORMED}),
    "remaining_length_5_bytes": (lambda v: b"\x30\xff\xff\xff\xff\x01", {MALFORMED}),
    "truncated_topic_length": (lambda v: R.packet(R.PUBLISH, 0, b"\x00\x10ab"), {MALFORMED}),
}

V5_CASES = {
    "unknown_property": (lambda: _pub(b"m/up", version=R.V5, props=b"\x02\x7f\x00"), {MALFORMED, PROTOCOL}),
    "duplicate_content_type": (
        lambda: _pub(b"m/dup", version=R.V5, props=R.properties([(R.P_CONTENT_TYPE, "a"), (R.P_CONTENT_TYPE, "b")])),
        {PROTOCOL, MALFORMED}),
    "property_length_overrun": (lambda: _pub(b"m/pl", version=R.V5, props=b"\x20\x03\x00\x01a"), {MALFORMED}),
    "subscribe_reserved_option_bits": (lambda: R.subscribe(1, [("m/ro", 0xC1)], version=R.V5), {MALFORMED, PROTOCOL}),
    "subscribe_retain_handling_3": (lambda: R.subscribe(1, [("m/rh", 0x31)], version=R.V5), {MALFORMED, PROTOCOL}),
    "no_local_on_shared_subscription": (
        lambda: R.subscribe(1, [("$share/g/m/nl", R.sub_options(1, no_local=True))], version=R.V5), {PROTOCOL}),
    # [MQTT-4.12.0-?] / 3.15: AUTH without an Authentication Method in CONNECT
    "auth_without_method": (lambda: R.packet(R.AUTH, 0, b"\x19\x00"), {PROTOCOL}),
    "subscription_identifier_zero": (
        lambda: R.subscribe(1, [("m/sid0", 1)], version=R.V5, props={R.P_SUBSCRIPTION_ID: 0}), {MALFORMED, PROTOCOL}),
}


MOSQUITTO_DEVIATIONS = {
    "pingreq_reserved_flags": "Mosquitto 2.0.11 answers a PINGREQ with reserved flags set instead of "
                              "closing ([MQTT-2.2.2-2])",
    "no_local_on_shared_subscription": "Mosquitto 2.0.11 accepts No Local on a shared subscription "
                                       "([MQTT-3.8.3-4]: protocol error)",
}


def _cases(names):
    out = []
    for n in sorted(names):
        marks = [pytest.mark.junction_only(MOSQUITTO_DEVIATIONS[n])] if n in MOSQUITTO_DEVIATIONS else []
        out.append(pytest.param(n, id=n, marks=marks))
    return out


def _offend(broker, paho, raw, version, data):
    watcher = paho(broker.port, version=V311)
    watcher.connect()
    topic = unique("malformed/watch")
    watcher.subscribe(topic, 1)
    bad = raw(version)
    assert bad.connect("bad-" + unique()).reason == 0
    bad.send(data)
    got = bad.recv_until_closed(3)
    # the rest of the broker is unaffected: the pre-existing connection still works
    watcher.publish(topic, b"still fine", qos=1)
    assert watcher.get(3).payload == b"still fine"
    return got


def _check(got, version, codes, strict):
    assert all(p.type == R.DISCONNECT for p in got), "only a DISCONNECT may precede the close: %r" % got
    if version == R.V5 and got:
        assert got[0].reason >= 0x80, got
        if strict:
            assert got[0].reason in codes, "reason 0x%02x not in %s" % (got[0].reason, sorted(map(hex, codes)))
    if version == R.V5 and strict:
        assert got, "v5: expected a DISCONNECT with a reason code before the close"


@pytest.mark.parametrize("case", _cases(CASES))
@pytest.mark.parametrize("version", [R.V311, R.V5], ids=["v311", "v5"])
def test_malformed_closes_connection(broker, paho, raw, version, case, junction):
    build, codes = CASES[case]
    got = _offend(broker, paho, raw, version, build(version))
    _check(got, version, codes, strict=junction)


@pytest.mark.parametrize("case", _cases(V5_CASES))
def test_malformed_v5_only(broker, paho, raw, case, junction):
    build, codes = V5_CASES[case]
    got = _offend(broker, paho, raw, R.V5, build())
    _check(got, R.V5, codes, strict=junction)


def test_garbage_before_connect(broker, raw):
    c = raw(R.V311)
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.recv_until_closed(3) == []


def test_connect_bad_utf8_client_id(broker, raw):
    c = raw(R.V311)
    body = R.string("MQTT") + b"\x04\x02\x00\x3c" + R.u16(3) + b"a\xffb"
    c.send(R.packet(R.CONNECT, 0, body))
    got = c.recv_until_closed(3)
    assert all(p.type == R.CONNACK and p.reason != 0 for p in got), got


def test_connect_half_sent_then_closed(broker, paho, raw):
    c = raw(R.V311)
    c.send(R.connect("half")[:7])
    c.close()
    w = paho(broker.port)
    w.connect()
    w.disconnect()


# MQTT 3.1 (MQIsdp, level 3) sent PUBREL, SUBSCRIBE and UNSUBSCRIBE at QoS 1
# and set DUP on a resend; 3.1.1 fixed their flags. Not malformed in 3.1.
@pytest.mark.parametrize("packet,answer", [
    (b"\x6a\x02\x00\x01", b"\x70\x02\x00\x01"),                                   # PUBREL, DUP -> PUBCOMP
    (b"\x8a\x06\x00\x05\x00\x01\x61\x01", b"\x90\x03\x00\x05\x01"),               # SUBSCRIBE, DUP -> SUBACK
    (b"\xaa\x05\x00\x06\x00\x01\x61", b"\xb0\x02\x00\x06"),                       # UNSUBSCRIBE, DUP -> UNSUBACK
], ids=["pubrel", "subscribe", "unsubscribe"])
def test_mqtt31_dup_flag_on_pubrel_subscribe_unsubscribe(broker, packet, answer):
    c = R.RawClient(broker.port, version=R.V31)
    assert c.connect(unique("v31"), version=R.V31).reason == 0
    c.send(packet)
    p = c.recv()
    assert bytes([(p.type << 4) | p.flags]) + R.varint(len(p.body)) + p.body == answer
    c.send(R.pingreq())
    c.expect(R.PINGRESP)
    c.close()


def test_mqtt311_dup_flag_on_pubrel_is_still_malformed(broker):
    c = R.RawClient(broker.port, version=R.V311)
    assert c.connect(unique("v311")).reason == 0
    c.send(b"\x6a\x02\x00\x01")
    assert c.recv_until_closed(5.0) == []
