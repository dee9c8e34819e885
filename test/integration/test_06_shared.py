"""06: MQTT 5 shared subscriptions $share/<group>/<filter>."""

import collections

import pytest

from clients import V5, unique


def _members(paho, broker, group, topic_filter, k, qos=1):
    subs = []
    for _ in range(k):
        c = paho(broker.port, version=V5)
        c.connect()
        c.subscribe("$share/%s/%s" % (group, topic_filter), qos)
        subs.append(c)
    return subs


def _publish_numbered(paho, broker, topic, n, qos=1):
    p = paho(broker.port, version=V5)
    p.connect()
    mids = [p.publish(topic, str(i).encode(), qos=qos, wait=False) for i in range(n)]
    for mid in mids:
        p.wait_published(mid, 15)
    return p


def _collect(subs):
    return [[int(m.payload) for m in s.drain(0.7)] for s in subs]


@pytest.mark.parametrize("k", [2, 3])
def test_shared_spreads_load(broker, paho, k):
    n = 90
    topic = unique("shared/load")
    subs = _members(paho, broker, "g", topic, k)
    _publish_numbered(paho, broker, topic, n)
    per = _collect(subs)
    everything = [x for xs in per for x in xs]
    counts = collections.Counter(everything)
    assert sorted(counts) == list(range(n)), "every message delivered"
    assert max(counts.values()) == 1, "each message to exactly one member: %r" % (
        [m for m, c in counts.items() if c > 1][:10])
    fair = n / k
    for i, xs in enumerate(per):
        assert len(xs) >= fair / 3, "member %d got %d of %d (k=%d): not spread" % (i, len(xs), n, k)
        assert xs == sorted(xs), "per-member order preserved"


def test_shared_with_wildcard_filter(broker, paho):
    base = unique("shared/wild")
    subs = _members(paho, broker, "wg", base + "/+/temp", 2)
    p = paho(broker.port, version=V5)
    p.connect()
    for i in range(40):
        p.publish("%s/room%d/temp" % (base, i % 4), str(i).encode(), qos=1, wait=False)
    p.publish(base + "/room1/humidity", b"999", qos=1)
    per = _collect(subs)
    assert sorted(x for xs in per for x in xs) == list(range(40))
    assert all(len(xs) > 0 for xs in per)


def test_shared_and_plain_subscribers(broker, paho):
    n = 30
    topic = unique("shared/mix")
    plain = paho(broker.port, version=V5)
    plain.connect()
    plain.subscribe(topic, 1)
    g1 = _members(paho, broker, "one", topic, 2)
    g2 = _members(paho, broker, "two", topic, 3)
    _publish_numbered(paho, broker, topic, n)
    assert [int(m.payload) for m in plain.get_n(n)] == list(range(n))
    for group in (g1, g2):
        per = _collect(group)
        assert sorted(x for xs in per for x in xs) == list(range(n)), "each group gets every message once"


def test_shared_member_leaves(broker, paho):
    n = 20
    topic = unique("shared/leave")
    a, b = _members(paho, broker, "lg", topic, 2)
    a.disconnect()
    _publish_numbered(paho, broker, topic, n)
    # All of them, each once. Not necessarily in order: the client closes its
    # socket before the broker has read the DISCONNECT, so a's session may
    # still take a message or two, which go to b when the session ends
    # (MQTT 5 4.8.2: unacknowledged shared messages of an ended session may
    # go to another member); a CI run under ASan saw 16 arrive after 19.
    got = [int(m.payload) for m in b.get_n(n)]
    assert sorted(got) == list(range(n)), got
    assert a.messages.empty()


def test_shared_unsubscribe(broker, paho):
    topic = unique("shared/unsub")
    a, b = _members(paho, broker, "ug", topic, 2)
    a.unsubscribe("$share/ug/" + topic)
    _publish_numbered(paho, broker, topic, 10)
    assert len(b.get_n(10)) == 10
    a.expect_nothing(0.3)


def test_shared_qos_is_min_of_member_subscription(broker, paho):
    topic = unique("shared/qos")
    s = paho(broker.port, version=V5)
    s.connect()
    s.subscribe("$share/qg/" + topic, 1)
    p = paho(broker.port, version=V5)
    p.connect()
    p.publish(topic, b"two", qos=2)
    m = s.get()
    assert (m.payload, m.qos) == (b"two", 1)


def test_shared_mosquitto_sub(broker, paho, msub):
    n = 20
    topic = unique("shared/ms")
    subs = [msub(broker.port, "$share/msg/" + topic, qos=1, version="mqttv5") for _ in range(2)]
    _publish_numbered(paho, broker, topic, n)
    got = []
    per = []
    for s in subs:
        xs = []
        while True:
            try:
                xs.append(int(s.get(0.7).payload))
            except AssertionError:
                break
        per.append(xs)
        got += xs
    assert sorted(got) == list(range(n))
    assert all(xs for xs in per), per
