"""The XMPP bridge against a real Prosody (Debian `prosody`, started here on
loopback with its own config and data) and slixmpp as the XMPP client:
PubSub publish -> paho and stomp.py subscribers; MQTT publish -> PubSub event
and chat message (presence-subscribed); retained message via `items`; disco
answers; Prosody restarted mid-test; Junction restarted; wrong secret logged
and retried. Names: node = topic; chat JID = XEP-0106-escaped topic.
"""

import shutil
import time
import xml.etree.ElementTree as ET

import pytest

from stomp_client import stomps  # noqa: F401 (fixture)
from xmpp import COMPONENT, Prosody, XmppClient, junction_yaml, wait_for

NS = "urn:junction:xmpp:0"

pytestmark = [
    pytest.mark.junction_only("XMPP bridge"),
    pytest.mark.skipif(shutil.which("prosody") is None, reason="prosody is not installed"),
    pytest.mark.timeout(120),
]


@pytest.fixture
def prosody(tmp_path):
    p = Prosody(tmp_path / "prosody")
    p.start()
    yield p
    p.stop()


@pytest.fixture
def xmpp_clients():
    made = []

    def make(prosody, user, resource="test"):
        c = XmppClient(prosody, user, resource)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def online_count(broker):
    return broker.log.count("xmpp: component %s online" % COMPONENT)


def bridged_broker(broker_factory, prosody, secret=None, **kw):
    extra = junction_yaml(prosody) if secret is None else junction_yaml(prosody, secret=secret)
    b = broker_factory(extra_yaml=extra, **kw)
    if secret is None:
        wait_for(lambda: online_count(b) >= 1, 15, "the component handshake")
    return b


def junction_payload(body, binary=False):
    e = ET.Element("{%s}junction" % NS)
    if binary:
        ET.SubElement(e, "{%s}binary" % NS)
    ET.SubElement(e, "{%s}body" % NS).text = body
    return e


def event_body(msg):
    """(node, topic, body text, binary?) of a pubsub_publish event."""
    items = msg["pubsub_event"]["items"]
    payload = items["item"]["payload"]
    assert payload is not None and payload.tag == "{%s}junction" % NS, ET.tostring(payload)
    body = payload.find("{%s}body" % NS)
    return (items["node"], payload.get("topic"), body.text or "" if body is not None else "",
            payload.find("{%s}binary" % NS) is not None)


def get(q, timeout=10):
    return q.get(timeout=timeout)


def subscribe(client, node):
    return client.call(lambda c: c["xep_0060"].subscribe(COMPONENT, node))


def test_pubsub_publish_reaches_mqtt_and_stomp(broker_factory, prosody, xmpp_clients, paho, stomps):
    b = bridged_broker(broker_factory, prosody, stomp=True)
    mqtt = paho(b.port)
    mqtt.connect()
    mqtt.subscribe("sensors/#", qos=1)
    st = stomps(b.stomp_port, "1.2")
    st.subscribe("/topic/sensors/#", sub_id="s")
    alice = xmpp_clients(prosody, "alice")

    alice.call(lambda c: c["xep_0060"].publish(COMPONENT, "sensors/t1", payload=junction_payload("21.5")))
    m = mqtt.get()
    assert (m.topic, m.payload) == ("sensors/t1", b"21.5")
    f = st.get()
    assert f.body == b"21.5"
    assert f.headers["destination"] == "/topic/sensors/t1"

    # A binary payload (base64 with the marker) arrives as the bytes.
    alice.call(lambda c: c["xep_0060"].publish(COMPONENT, "sensors/bin", payload=junction_payload("AAEC/w==", True)))
    assert mqtt.get().payload == b"\x00\x01\x02\xff"

    # A chat message to <escaped topic>@component publishes its body.
    alice.run(lambda c: c.send_message(mto="sensors\\2fchat@" + COMPONENT, mbody="from chat", mtype="chat"))
    m = mqtt.get()
    assert (m.topic, m.payload, m.retain) == ("sensors/chat", b"from chat", False)

    # The PubSub publish was retained: items returns it, disco#items lists the node.
    iq = alice.call(lambda c: c["xep_0060"].get_items(COMPONENT, "sensors/t1"))
    items = list(iq["pubsub"]["items"])
    assert len(items) == 1
    assert items[0]["payload"].find("{%s}body" % NS).text == "21.5"
    iq = alice.call(lambda c: c["xep_0030"].get_items(jid=COMPONENT))
    nodes = {node for (_jid, node, _name) in iq["disco_items"]["items"]}
    assert {"sensors/t1", "sensors/bin"} <= nodes
    mqtt.publish("sensors/retained-by-mqtt", b"r", retain=True, qos=1)
    iq = alice.call(lambda c: c["xep_0060"].get_items(COMPONENT, "sensors/retained-by-mqtt"))
    assert [i["payload"].find("{%s}body" % NS).text for i in iq["pubsub"]["items"]] == ["r"]


def test_disco_and_errors(broker_factory, prosody, xmpp_clients):
    bridged_broker(broker_factory, prosody)
    alice = xmpp_clients(prosody, "alice")
    iq = alice.call(lambda c: c["xep_0030"].get_info(jid=COMPONENT))
    ids = iq["disco_info"]["identities"]
    assert ("pubsub", "service", None, "Junction") in ids
    feats = iq["disco_info"]["features"]
    assert "http://jabber.org/protocol/pubsub" in feats
    assert "http://jabber.org/protocol/pubsub#subscribe" in feats
    iq = alice.call(lambda c: c["xep_0030"].get_info(jid=COMPONENT, node="sensors/t1"))
    assert ("pubsub", "leaf", None, None) in iq["disco_info"]["identities"]
    assert alice.call(lambda c: c["xep_0199"].ping(jid=COMPONENT)) is not None

    from slixmpp.exceptions import IqError
    with pytest.raises(IqError) as e:
        alice.call(lambda c: c["xep_0060"].subscribe(COMPONENT, "a/#/b"))
    assert e.value.condition == "item-not-found"
    with pytest.raises(IqError) as e:
        alice.call(lambda c: c["xep_0060"].purge(COMPONENT, "x"))
    assert e.value.condition == "feature-not-implemented"
    with pytest.raises(IqError) as e:
        alice.call(lambda c: c["xep_0060"].unsubscribe(COMPONENT, "never/subscribed"))
    assert e.value.condition == "unexpected-request"


def test_mqtt_publish_reaches_xmpp_as_event_and_chat(broker_factory, prosody, xmpp_clients, paho):
    b = bridged_broker(broker_factory, prosody)
    bob = xmpp_clients(prosody, "bob")
    subscribe(bob, "sensors/+")
    bob.run(lambda c: c.send_presence_subscription(pto="sensors\\2ft2@" + COMPONENT))
    # The bridge accepts and asks back; slixmpp approves, so the subscription
    # is mutual and bob's server sends the bridge his presence.
    contact = "sensors\\2ft2@" + COMPONENT

    def mutual(c):
        return contact in c.client_roster and c.client_roster[contact]["subscription"] == "both"
    wait_for(lambda: bob.run(mutual), 10, "a mutual presence subscription")
    time.sleep(0.5)

    mqtt = paho(b.port)
    mqtt.connect()
    mqtt.publish("sensors/t2", b"hello xmpp", qos=1)
    node, topic, body, binary = event_body(get(bob.events))
    assert (node, topic, body, binary) == ("sensors/+", "sensors/t2", "hello xmpp", False)
    chat = get(bob.chats)
    assert chat["body"] == "hello xmpp"
    assert str(chat["from"]) == "sensors\\2ft2@" + COMPONENT
    assert chat["type"] == "chat"

    mqtt.publish("sensors/t2", b"\x00\xffbin", qos=1)
    node, topic, body, binary = event_body(get(bob.events))
    assert binary and body == "AP9iaW4="
    assert get(bob.chats)["body"] == "AP9iaW4="

    # Unavailable: no chat messages (the bridge tracks presence); available
    # again: they resume.
    bob.run(lambda c: c.send_presence(ptype="unavailable"))
    time.sleep(0.5)
    mqtt.publish("sensors/t2", b"while away", qos=1)
    time.sleep(0.5)
    assert bob.chats.empty()
    bob.run(lambda c: c.send_presence())
    time.sleep(0.5)
    while not bob.events.empty():
        bob.events.get()
    mqtt.publish("sensors/t2", b"back", qos=1)
    assert get(bob.chats)["body"] == "back"
    assert event_body(get(bob.events))[2] == "back"


def test_prosody_restart_and_junction_restart(broker_factory, prosody, xmpp_clients, paho):
    b = bridged_broker(broker_factory, prosody)
    alice = xmpp_clients(prosody, "alice", "r1")
    subscribe(alice, "plant/#")
    mqtt = paho(b.port, client_id="plant-publisher")
    mqtt.connect()
    mqtt.publish("plant/a", b"one", qos=1)
    assert event_body(get(alice.events))[2] == "one"

    # Prosody goes away and comes back: the bridge reconnects on its own.
    alice.close()
    prosody.stop()
    wait_for(lambda: "xmpp: connection to the server lost" in b.log or "the server closed the stream" in b.log
             or "server is shutting down" in b.log, 10, "the bridge noticing")
    mqtt.publish("plant/a", b"while down", qos=1)  # kept for the JID (bounded)
    prosody.start()
    wait_for(lambda: online_count(b) >= 2, 20, "the bridge reconnecting")
    alice = xmpp_clients(prosody, "alice", "r2")
    mqtt.publish("plant/a", b"two", qos=1)
    bodies = []
    while "two" not in bodies:
        bodies.append(event_body(get(alice.events))[2])
    assert bodies[-1] == "two"

    # Junction restarts: the subscription was stored with the session.
    mqtt.disconnect()
    b.stop()
    b.start()
    wait_for(lambda: online_count(b) >= 3, 20, "the bridge after a restart")
    mqtt = paho(b.port, client_id="plant-publisher-2")
    mqtt.connect()
    mqtt.publish("plant/b", b"three", qos=1)
    bodies = []
    while "three" not in bodies:
        bodies.append(event_body(get(alice.events))[2])


def test_wrong_secret_is_logged_and_retried(broker_factory, prosody):
    b = bridged_broker(broker_factory, prosody, secret="not-the-secret")
    wait_for(lambda: b.log.count("<not-authorized/>") >= 2, 20, "two refused handshakes")
    assert "wrong secret" in b.log
    assert online_count(b) == 0


def test_example_config_is_valid():
    import os
    import subprocess
    from broker import REPO, junction_bin
    r = subprocess.run([junction_bin(), "--check-config", "--config", os.path.join(REPO, "conf", "xmpp-example.yaml")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
