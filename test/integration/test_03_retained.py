"""03: retained messages: set, delivered on subscribe, replaced, cleared,
kept across restarts; v5 retain handling and retain-as-published."""

import pytest

from broker import KILL9_REASON as KILL9
from clients import V311, V5, VERSION_NAMES, mosquitto_pub, unique, v5_sub_options


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_retained_delivered_on_subscribe(broker, paho, version, qos):
    topic = unique("ret/s")
    pub = paho(broker.port, version=version)
    pub.connect()
    pub.publish(topic, b"kept", qos=qos, retain=True)
    pub.disconnect()
    sub = paho(broker.port, version=version)
    sub.connect()
    sub.subscribe(topic, 2)
    m = sub.get()
    assert (m.topic, m.payload, m.qos, m.retain) == (topic, b"kept", qos, True)
    sub.expect_nothing(0.3)


def test_retained_qos_downgraded_to_subscription(broker, paho):
    topic = unique("ret/q")
    pub = paho(broker.port)
    pub.connect()
    pub.publish(topic, b"q2", qos=2, retain=True)
    sub = paho(broker.port)
    sub.connect()
    sub.subscribe(topic, 1)
    m = sub.get()
    assert (m.qos, m.retain) == (1, True)


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_live_retained_publish_delivered_with_retain_clear(broker, paho, version):
    # [MQTT-3.3.1-9] (v5: retain-as-published 0): a message delivered because
    # of an established subscription has RETAIN 0.
    topic = unique("ret/live")
    sub = paho(broker.port, version=version)
    sub.connect()
    sub.subscribe(topic, 1)
    pub = paho(broker.port, version=version)
    pub.connect()
    pub.publish(topic, b"live", qos=1, retain=True)
    m = sub.get()
    assert (m.payload, m.retain) == (b"live", False)


def test_retained_replaced(broker, paho):
    topic = unique("ret/r")
    pub = paho(broker.port)
    pub.connect()
    for v in (b"first", b"second", b"third"):
        pub.publish(topic, v, qos=1, retain=True)
    sub = paho(broker.port)
    sub.connect()
    sub.subscribe(topic, 1)
    assert [m.payload for m in sub.drain(0.5)] == [b"third"]


@pytest.mark.parametrize("version", [V311, V5], ids=VERSION_NAMES.get)
def test_retained_cleared_by_empty_publish(broker, paho, version):
    topic = unique("ret/clear")
    pub = paho(broker.port, version=version)
    pub.connect()
    pub.publish(topic, b"to be cleared", qos=1, retain=True)
    live = paho(broker.port, version=version)
    live.connect()
    live.subscribe(topic, 1)
    assert live.get().payload == b"to be cleared"
    pub.publish(topic, b"", qos=1, retain=True)
    # [MQTT-3.3.1-10]/v5: the empty retained message is forwarded as normal.
    m = live.get()
    assert (m.payload, m.retain) == (b"", False)
    late = paho(broker.port, version=version)
    late.connect()
    late.subscribe(topic, 1)
    late.expect_nothing(0.7)


def test_retained_wildcard_subscription(broker, paho):
    base = unique("ret/w")
    pub = paho(broker.port)
    pub.connect()
    topics = [base + "/a", base + "/b/c", base + "/d"]
    for t in topics:
        pub.publish(t, t.encode(), qos=1, retain=True)
    pub.publish(base + "/none", b"not retained", qos=1)
    sub = paho(broker.port)
    sub.connect()
    sub.subscribe(base + "/#", 1)
    got = sub.drain(0.5)
    assert sorted(m.topic for m in got) == sorted(topics)
    assert all(m.retain and m.payload == m.topic.encode() for m in got)


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
def test_retained_mosquitto_clients(broker, msub, version):
    topic = unique("ret/mc")
    mosquitto_pub(broker.port, topic, "retained by mosquitto_pub", qos=1, retain=True, version=version)
    s = msub(broker.port, topic, qos=1, version=version)
    m = s.get()
    assert (m.payload, m.retain, m.qos) == ("retained by mosquitto_pub", True, 1)
    s.close()
    # clear with a null message (-n)
    mosquitto_pub(broker.port, topic, None, qos=1, retain=True, version=version)
    s2 = msub(broker.port, topic, qos=1, version=version)
    mosquitto_pub(broker.port, topic, "fresh", qos=1, version=version)
    m = s2.get()
    assert (m.payload, m.retain) == ("fresh", False), "the cleared retained message came back"


@pytest.mark.parametrize("kill", [False, pytest.param(True, marks=pytest.mark.junction_only(KILL9))],
                         ids=["sigterm", "kill9"])
def test_retained_survives_restart(broker, paho, kill):
    base = unique("ret/restart")
    pub = paho(broker.port, version=V5)
    pub.connect()
    pub.publish(base + "/a", b"A", qos=1, retain=True,
                ContentType="text/plain", UserProperty=[("k", "v")])
    pub.publish(base + "/b", b"B", qos=2, retain=True)
    pub.publish(base + "/c", b"C", qos=1, retain=True)
    pub.publish(base + "/c", b"", qos=1, retain=True)  # cleared before the restart
    pub.disconnect()
    broker.restart(kill=kill)
    sub = paho(broker.port, version=V5)
    sub.connect()
    sub.subscribe(base + "/#", 2)
    got = {m.topic: m for m in sub.drain(0.7)}
    assert sorted(got) == [base + "/a", base + "/b"]
    a, b = got[base + "/a"], got[base + "/b"]
    assert (a.payload, a.qos, a.retain) == (b"A", 1, True)
    assert (b.payload, b.qos, b.retain) == (b"B", 2, True)
    assert a.props.get("ContentType") == "text/plain"
    assert a.props.get("UserProperty") == [("k", "v")]


def test_v5_retain_handling(broker, paho):
    base = unique("ret/rh")
    pub = paho(broker.port, version=V5)
    pub.connect()
    for rh in (0, 1, 2):
        pub.publish("%s/%d" % (base, rh), b"r%d" % rh, qos=1, retain=True)
    sub = paho(broker.port, version=V5)
    sub.connect()
    # 0: send retained at every subscribe
    sub.subscribe(base + "/0", options=v5_sub_options(1, retain_handling=0))
    assert [m.payload for m in sub.drain(0.4)] == [b"r0"]
    sub.subscribe(base + "/0", options=v5_sub_options(1, retain_handling=0))
    assert [m.payload for m in sub.drain(0.4)] == [b"r0"]
    # 1: only if the subscription did not exist
    sub.subscribe(base + "/1", options=v5_sub_options(1, retain_handling=1))
    assert [m.payload for m in sub.drain(0.4)] == [b"r1"]
    sub.subscribe(base + "/1", options=v5_sub_options(1, retain_handling=1))
    assert sub.drain(0.5) == []
    # 2: never
    sub.subscribe(base + "/2", options=v5_sub_options(1, retain_handling=2))
    assert sub.drain(0.5) == []
    # ... but live messages still flow
    pub.publish(base + "/2", b"live2", qos=1)
    assert sub.get().payload == b"live2"


def test_v5_retain_as_published(broker, paho):
    base = unique("ret/rap")
    sub = paho(broker.port, version=V5)
    sub.connect()
    sub.subscribe(base + "/on", options=v5_sub_options(1, retain_as_published=True))
    sub.subscribe(base + "/off", options=v5_sub_options(1, retain_as_published=False))
    pub = paho(broker.port, version=V5)
    pub.connect()
    pub.publish(base + "/on", b"x", qos=1, retain=True)
    pub.publish(base + "/on", b"y", qos=1, retain=False)
    pub.publish(base + "/off", b"z", qos=1, retain=True)
    got = sub.get_n(3)
    assert [(m.payload, m.retain) for m in got] == [(b"x", True), (b"y", False), (b"z", False)]
    # a retained message sent because of a new subscription always has RETAIN 1
    late = paho(broker.port, version=V5)
    late.connect()
    late.subscribe(base + "/off", options=v5_sub_options(1, retain_as_published=False))
    m = late.get()
    assert (m.payload, m.retain) == (b"z", True)


def test_retain_as_published_mosquitto_sub(broker, paho, msub):
    topic = unique("ret/rapm")
    s = msub(broker.port, topic, qos=1, version="mqttv5", extra=["--retain-as-published"])
    pub = paho(broker.port, version=V5)
    pub.connect()
    pub.publish(topic, b"as published", qos=1, retain=True)
    m = s.get()
    assert (m.payload, m.retain) == ("as published", True)
