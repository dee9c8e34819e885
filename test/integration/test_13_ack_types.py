"""13: an acknowledgement of the wrong type for a packet id is a protocol error
and completes nothing ([MQTT-4.3.3-3], [MQTT-4.3.3-5]; 3.1.1 [MQTT-4.3.3-1]).
A PUBACK does not finish a QoS 2 delivery (nor answer a PUBREL), a PUBREC or
PUBCOMP does not finish a QoS 1 delivery: the connection is closed (MQTT 5:
DISCONNECT 0x82 first) and the delivery is resent to the returning
persistent session, so nothing is lost. (Mosquitto's broker tests check the
same; the file passes against Mosquitto.)"""

import pytest

import raw_mqtt as R
from broker import is_junction
from clients import V311, V5, VERSION_NAMES, unique

PROTOCOL_ERROR = 0x82


def persistent_subscriber(broker, version, client_id, qos):
    c = R.RawClient(broker.port, version=version)
    props = [(R.P_SESSION_EXPIRY, 300)] if version == V5 else None
    # 3.1.1: Clean Session 0 keeps the session; v5: Session Expiry does.
    assert c.connect(client_id, clean=version == V5, props=props).reason == 0
    assert c.subscribe(1, [("ack/types", qos)]).reasons == [qos]
    return c


def reconnect(broker, version, client_id):
    c = R.RawClient(broker.port, version=version)
    props = [(R.P_SESSION_EXPIRY, 300)] if version == V5 else None
    ack = c.connect(client_id, clean=False, props=props)
    assert ack.reason == 0 and ack.session_present
    return c


def publish_one(broker, qos, payload):
    p = R.RawClient(broker.port)
    p.connect(unique("pub"))
    p.publish("ack/types", payload, qos=qos, packet_id=7)
    p.expect(R.PUBACK if qos == 1 else R.PUBREC)
    if qos == 2:
        p.send(R.pubrel(7))
        p.expect(R.PUBCOMP)
    p.close()


def expect_protocol_error_close(c, version):
    packets = c.recv_until_closed(5.0)
    if version == V5 and is_junction():  # Mosquitto 2.0.11 closes without a DISCONNECT (a MAY)
        assert packets and packets[-1].type == R.DISCONNECT and packets[-1].reason == PROTOCOL_ERROR, packets
    else:
        assert all(p.type != R.DISCONNECT for p in packets), packets


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
@pytest.mark.parametrize("wrong", ["puback", "pubcomp"])
def test_wrong_ack_for_a_qos2_publish_completes_nothing(broker, version, wrong):
    cid = unique("q2")
    c = persistent_subscriber(broker, version, cid, 2)
    publish_one(broker, 2, b"exactly-once")
    m = c.expect(R.PUBLISH)
    assert m.qos == 2 and m.payload == b"exactly-once"
    c.send((R.puback if wrong == "puback" else R.pubcomp)(m.packet_id, version=version))
    expect_protocol_error_close(c, version)
    again = reconnect(broker, version, cid)
    resent = again.expect(R.PUBLISH)
    assert (resent.payload, resent.qos, resent.dup) == (b"exactly-once", 2, True)
    again.send(R.pubrec(resent.packet_id, version=version))
    rel = again.expect(R.PUBREL)
    again.send(R.pubcomp(rel.packet_id, version=version))
    again.send(R.pingreq())
    again.expect(R.PINGRESP)
    again.close()


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_puback_in_reply_to_pubrel_completes_nothing(broker, version):
    cid = unique("rel")
    c = persistent_subscriber(broker, version, cid, 2)
    publish_one(broker, 2, b"released")
    m = c.expect(R.PUBLISH)
    c.send(R.pubrec(m.packet_id, version=version))
    rel = c.expect(R.PUBREL)
    c.send(R.puback(rel.packet_id, version=version))
    expect_protocol_error_close(c, version)
    again = reconnect(broker, version, cid)
    rel2 = again.expect(R.PUBREL)  # [MQTT-4.4.0-1]: the PUBREL is resent, not the PUBLISH
    assert rel2.packet_id == m.packet_id
    again.send(R.pubcomp(rel2.packet_id, version=version))
    again.send(R.pingreq())
    again.expect(R.PINGRESP)
    again.close()


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
@pytest.mark.parametrize("wrong", ["pubrec", "pubcomp"])
def test_wrong_ack_for_a_qos1_publish_completes_nothing(broker, version, wrong):
    cid = unique("q1")
    c = persistent_subscriber(broker, version, cid, 1)
    publish_one(broker, 1, b"at-least-once")
    m = c.expect(R.PUBLISH)
    assert m.qos == 1
    c.send((R.pubrec if wrong == "pubrec" else R.pubcomp)(m.packet_id, version=version))
    expect_protocol_error_close(c, version)
    again = reconnect(broker, version, cid)
    resent = again.expect(R.PUBLISH)
    assert (resent.payload, resent.qos, resent.dup) == (b"at-least-once", 1, True)
    again.send(R.puback(resent.packet_id, version=version))
    again.send(R.pingreq())
    again.expect(R.PINGRESP)
    again.close()


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_acks_for_unknown_packet_ids_are_ignored(broker, version):
    # Not a protocol error: an ack may cross a resend after a reconnect.
    c = R.RawClient(broker.port, version=version)
    c.connect(unique("unk"))
    c.send(R.puback(99, version=version))
    c.send(R.pubcomp(98, version=version))
    c.send(R.pingreq())
    c.expect(R.PINGRESP)
    assert c.is_open()
    c.close()
