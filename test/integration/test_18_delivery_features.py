"""What the core adds beyond routing (issue 19), driven by paho-mqtt 3.1.1
and 5, mosquitto_pub and stomp.py: delayed delivery (`$delayed/<seconds>/
<topic>`, EMQX's prefix; the `x-delay` user property / STOMP header in ms,
RabbitMQ's name; refusals, queue and retained targets, kill -9 with messages
pending), duplicate detection (`x-dedup-id`, across protocols and kill -9),
single active consumer, $share hash_topic order, redelivery back-off."""

import random
import time

import pytest

from clients import V311, V5, mosquitto_pub, unique
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from stomp_client import stomps  # noqa: F401 (fixture)

pytestmark = pytest.mark.junction_only("delayed delivery is Junction's (EMQX's $delayed prefix)")

IMPLEMENTATION_SPECIFIC_ERROR = 0x83
EARLY_SLACK = 0.002  # the client's clock reading before the publish left, not the broker's


def subscriber_and_publisher(broker, paho, topic, version=V5):
    """A paho client subscribed to `topic` at QoS 1 and a connected paho publisher."""
    sub = paho(broker.port, version=version)
    sub.connect()
    sub.subscribe(topic, 1)
    pub = paho(broker.port, version=version)
    pub.connect()
    return sub, pub


def user_props(*pairs):
    p = Properties(PacketTypes.PUBLISH)
    p.UserProperty = list(pairs)
    return p


@pytest.mark.parametrize("version", [V311, V5])
def test_delayed_topic_prefix_delivers_to_the_topic_when_due(broker, paho, version):
    topic = unique("dl/t")
    sub, pub = subscriber_and_publisher(broker, paho, topic, version)
    t0 = time.monotonic()
    pub.publish("$delayed/1/" + topic, b"one second", qos=1)  # waits for the PUBACK
    acked = time.monotonic() - t0
    m = sub.get(timeout=5)
    waited = m.time - t0
    assert (m.topic, m.payload, m.qos) == (topic, b"one second", 1)
    assert waited >= 1.0 - EARLY_SLACK, "delivered %.3fs after the publish, before its delay" % waited
    assert waited < 1.5, "delivered %.3fs after the publish" % waited
    assert acked < 0.9, "the PUBACK waits for the commit, not for the delay"
    sub.expect_nothing(0.3)


def test_mosquitto_pub_to_a_delayed_topic(broker, paho):
    topic = unique("dl/mp")
    sub = paho(broker.port)
    sub.connect()
    sub.subscribe(topic, 1)
    t0 = time.monotonic()
    mosquitto_pub(broker.port, "$delayed/1/" + topic, "from mosquitto_pub", qos=1)
    m = sub.get(timeout=5)
    assert m.payload == b"from mosquitto_pub"
    assert m.time - t0 >= 1.0 - EARLY_SLACK


def test_x_delay_user_property_is_consumed(broker, paho):
    topic = unique("dl/xd")
    sub, pub = subscriber_and_publisher(broker, paho, topic)
    t0 = time.monotonic()
    mid = pub.publish(topic, b"x", qos=1, properties=user_props(("x-delay", "400"), ("trace", "t-1")))
    assert pub.puback_reason(mid) == 0x00
    m = sub.get(timeout=5)
    assert m.time - t0 >= 0.4 - EARLY_SLACK
    assert m.props.get("UserProperty") == [("trace", "t-1")]  # x-delay is not delivered


@pytest.mark.parametrize("topic,props", [
    ("$delayed/soon/t", None),
    ("$delayed/10", None),
    ("$delayed/2592001/t", None),  # 30 days + 1 s: above delays.max_delay_s
    ("t", (("x-delay", "in a while"),)),
    ("t", (("x-delay", "-5"),)),
])
def test_v5_refusals_get_0x83_with_a_reason(broker, paho, topic, props):
    sub, pub = subscriber_and_publisher(broker, paho, "t")
    mid = pub.publish(topic, b"no", qos=1, properties=user_props(*props) if props else None)
    assert pub.puback_reason(mid) == IMPLEMENTATION_SPECIFIC_ERROR
    sub.expect_nothing(0.5)
    # The publisher is still served.
    pub.publish("t", b"plain", qos=1)
    assert sub.get().payload == b"plain"
    assert "refused" in broker.log


def test_v311_refusal_is_acknowledged_and_dropped(broker, paho):
    sub = paho(broker.port)
    sub.connect()
    sub.subscribe("#", 1)
    pub = paho(broker.port)
    pub.connect()
    pub.publish("$delayed/abc/t", b"bad", qos=1)  # PUBACK arrives (3.1.1 has no refusal)
    pub.publish("ok/after", b"good", qos=1)
    assert sub.get().payload == b"good"
    sub.expect_nothing(0.3)


@pytest.mark.broker_options(extra_yaml="delays: {enabled: false}\n")
def test_delays_disabled_are_refused(broker, paho):
    pub = paho(broker.port, version=V5)
    pub.connect()
    mid = pub.publish("$delayed/1/t", b"x", qos=1)
    assert pub.puback_reason(mid) == IMPLEMENTATION_SPECIFIC_ERROR


@pytest.mark.broker_options(stomp=True)
def test_stomp_x_delay_header_to_stomp_and_mqtt_subscribers(broker, stomps, paho):
    topic = unique("dl/st")
    m_sub = paho(broker.port, version=V5)
    m_sub.connect()
    m_sub.subscribe(topic, 1)
    s_sub = stomps(broker.stomp_port, "1.2")
    s_sub.subscribe("/topic/" + topic, sub_id="s")
    pub = stomps(broker.stomp_port, "1.2")
    t0 = time.monotonic()
    pub.send("/topic/" + topic, "stomp later", receipt="r1", **{"x-delay": "500", "trace": "s-1"})
    assert time.monotonic() - t0 < 0.45  # the RECEIPT does not wait for the delay
    f = s_sub.get(timeout=5)
    assert time.monotonic() - t0 >= 0.5 - EARLY_SLACK
    assert f.body == b"stomp later"
    assert "x-delay" not in f.headers and f.headers.get("trace") == "s-1"
    m = m_sub.get(timeout=5)
    assert m.payload == b"stomp later"
    assert m.props.get("UserProperty") == [("trace", "s-1")]


@pytest.mark.broker_options(stomp=True)
def test_stomp_bad_x_delay_is_an_error(broker, stomps):
    pub = stomps(broker.stomp_port, "1.2")
    pub.conn.send("/topic/t", "x", headers={"x-delay": "later", "receipt": "bad"})
    errors = pub.wait_errors()
    assert errors, "no ERROR frame"
    headers, body = errors[0]
    assert "x-delay" in headers.get("message", "") + body.decode("utf-8", "replace")


@pytest.mark.broker_options(stomp=True)
def test_delayed_message_into_a_queue(broker, paho, stomps):
    queue = unique("dlq")
    pub = paho(broker.port, version=V5)
    pub.connect()
    t0 = time.monotonic()
    pub.publish("$delayed/1/$queue/" + queue, b"job", qos=1)
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/" + queue, sub_id="q")
    f = c.get(timeout=5)
    assert f.body == b"job"
    assert time.monotonic() - t0 >= 1.0 - EARLY_SLACK


def test_delayed_retained_message_is_retained_once_delivered(broker, paho):
    topic = unique("dl/r")
    pub = paho(broker.port, version=V5)
    pub.connect()
    pub.publish("$delayed/1/" + topic, b"state", qos=1, retain=True)
    early = paho(broker.port, version=V5)
    early.connect()
    early.subscribe(topic, 1)
    early.expect_nothing(0.5)  # not retained yet
    time.sleep(0.8)
    late = paho(broker.port, version=V5)
    late.connect()
    late.subscribe(topic, 1)
    m = late.get()
    assert (m.payload, m.retain) == (b"state", True)


def test_kill9_with_delayed_messages_pending(broker, paho, summary):
    """300 delayed QoS 1 messages (0.6-2.4 s), kill -9 right after their
    PUBACKs, restart: every acknowledged one arrives, none early, none twice,
    and a persistent subscriber sees them in due order."""
    topic = unique("dl/crash")
    cid = unique("dlsub")
    sub = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=600)
    sub.connect()
    sub.subscribe(topic, 1)
    sub.disconnect()  # offline: what comes due while the broker is down or starting waits in its session
    pub = paho(broker.port, version=V5, max_inflight=100)
    pub.connect()
    rng = random.Random(19)
    due = {}
    mids = []
    for i in range(300):
        delay_ms = rng.randrange(600, 2400)
        due[i] = time.time() + delay_ms / 1000.0
        mids.append(pub.publish(topic, b"%d" % i, qos=1, wait=False,
                                properties=user_props(("x-delay", str(delay_ms)))))
    for mid in mids:
        pub.wait_published(mid)
    broker.kill9()
    pub.close()
    time.sleep(1.0)  # some come due while the broker is down
    t_restart = time.monotonic()
    broker.start()
    restarted = time.monotonic() - t_restart
    sub = paho(broker.port, client_id=cid, version=V5, clean=False, session_expiry=600)
    sub.connect()
    got = sub.drain(quiet=1.5, limit=20)
    ids = [int(m.payload) for m in got]
    early = [i for m, i in zip(got, ids) if time.time() - (time.monotonic() - m.time) < due[i] - EARLY_SLACK]
    lost = sorted(set(due) - set(ids))
    dups = len(ids) - len(set(ids))
    # Due order as the broker saw it: our due times are taken before each
    # publish left, so two within a few ms of each other may be seen swapped.
    inversion = max([due[a] - due[b] for a, b in zip(ids, ids[1:])] + [0.0])
    order_ok = inversion < 0.1
    summary("delayed kill -9: 300 acknowledged, %d delivered after restart, lost %d, early %d, duplicated %d, "
            "due order %s (largest inversion %.3fs), restart %.2fs"
            % (len(set(ids)), len(lost), len(early), dups, order_ok, inversion, restarted))
    assert not lost, lost[:20]
    assert not early, early[:20]
    assert dups == 0
    assert order_ok


# ---------------------------------------------------------------- dedup

def test_dedup_id_mqtt_v5_second_copy_acknowledged_and_dropped(broker, paho):
    topic = unique("dd/t")
    sub, pub = subscriber_and_publisher(broker, paho, topic)
    m1 = pub.publish(topic, b"first", qos=1, properties=user_props(("x-dedup-id", "order-17")))
    m2 = pub.publish(topic, b"retry", qos=1, properties=user_props(("x-dedup-id", "order-17")))
    m3 = pub.publish(topic, b"next", qos=1, properties=user_props(("x-dedup-id", "order-18")))
    assert [pub.puback_reason(m) for m in (m1, m2, m3)] == [0, 0, 0]
    got = sub.get_n(2)
    assert [m.payload for m in got] == [b"first", b"next"]
    assert got[0].props.get("UserProperty") == [("x-dedup-id", "order-17")]  # delivered as received
    sub.expect_nothing(0.3)


@pytest.mark.broker_options(stomp=True)
def test_dedup_id_is_shared_by_stomp_and_mqtt_on_one_queue(broker, paho, stomps):
    queue = unique("ddq")
    s = stomps(broker.stomp_port, "1.2")
    s.send("/queue/" + queue, "via stomp", receipt="r1", **{"x-dedup-id": "job-1"})
    s.send("/queue/" + queue, "stomp retry", receipt="r2", **{"x-dedup-id": "job-1"})
    pub = paho(broker.port, version=V5)
    pub.connect()
    mid = pub.publish("$queue/" + queue, b"mqtt retry", qos=1, properties=user_props(("x-dedup-id", "job-1")))
    assert pub.puback_reason(mid) == 0
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/" + queue, sub_id="q")
    f = c.get()
    assert f.body == b"via stomp" and f.headers.get("x-dedup-id") == "job-1"
    c.expect_nothing(0.5)


def test_dedup_ids_survive_kill9_a_producer_retrying_everything_makes_no_duplicate(broker, paho, summary):
    queue = unique("ddcrash")
    pub = paho(broker.port, version=V5, max_inflight=100)
    pub.connect()
    n = 3000
    mids = [pub.publish("$queue/" + queue, b"%d" % i, qos=1, wait=False,
                        properties=user_props(("x-dedup-id", "m-%d" % i))) for i in range(n)]
    pub.wait_published(mids[n // 3])
    broker.kill9()  # mid-stream: some taken and unanswered, some not taken
    with pub.pub_lock:
        acked = len([m for m in mids if m in pub.published])
    pub.close()
    broker.start()
    retry = paho(broker.port, version=V5, max_inflight=100)
    retry.connect()
    mids = [retry.publish("$queue/" + queue, b"%d" % i, qos=1, wait=False,
                          properties=user_props(("x-dedup-id", "m-%d" % i))) for i in range(n)]
    for mid in mids:
        retry.wait_published(mid)
    c = paho(broker.port, version=V5)
    c.connect()
    c.subscribe("$queue/" + queue, 1)
    got = c.drain(quiet=1.0, limit=30)
    ids = [int(m.payload) for m in got]
    dups = len(ids) - len(set(ids))
    assert acked < n, "the kill came after the last PUBACK"
    summary("dedup kill -9: %d acknowledged before the kill, all %d retried after it; %d delivered, %d duplicates, "
            "%d missing" % (acked, n, len(set(ids)), dups, n - len(set(ids))))
    assert dups == 0
    assert sorted(set(ids)) == list(range(n))


# ---------------------------------------------------------------- ordering

def stomp_and_mqtt_consumers(broker, stomps, paho, queue):
    """A stomp.py consumer (client-individual acks) and a paho MQTT 5 one, in that order."""
    a = stomps(broker.stomp_port, "1.2")
    a.subscribe("/queue/" + queue, sub_id="a", ack="client-individual")
    b = paho(broker.port, version=V5)
    b.connect()
    b.subscribe("$queue/" + queue, 1)
    return a, b


@pytest.mark.broker_options(stomp=True, extra_yaml="queues:\n  - {pattern: \"sac-*\", single_active_consumer: true}\n")
def test_single_active_consumer_stomp_and_mqtt(broker, stomps, paho):
    queue = unique("sac-q")
    a, b = stomp_and_mqtt_consumers(broker, stomps, paho, queue)
    pub = stomps(broker.stomp_port, "1.2")
    for i in range(10):
        pub.send("/queue/" + queue, "m%d" % i, receipt="r%d" % i)
    got = a.get_n(10)
    assert [f.body for f in got] == [b"m%d" % i for i in range(10)]
    b.expect_nothing(0.3)  # waiting in line
    for f in got[:6]:
        a.ack(f)
    a.conn.disconnect()  # leaves m6..m9 unacknowledged
    rest = b.get_n(4)
    assert [m.payload for m in rest] == [b"m6", b"m7", b"m8", b"m9"]


@pytest.mark.broker_options(extra_yaml="shared_subscriptions: {strategy: hash_topic}\n")
def test_shared_hash_topic_keeps_each_topics_order_across_workers(broker, paho):
    group = unique("hg")
    workers = []
    for _ in range(3):
        w = paho(broker.port, version=V5)
        w.connect()
        w.subscribe("$share/%s/fleet/#" % group, 1)
        workers.append(w)
    pub = paho(broker.port, version=V5, max_inflight=100)
    pub.connect()
    topics = ["fleet/dev%d" % d for d in range(9)]
    mids = [pub.publish(t, b"%s:%d" % (t.encode(), i), qos=1, wait=False) for i in range(20) for t in topics]
    for mid in mids:
        pub.wait_published(mid)
    per_worker = [w.drain(quiet=0.5, limit=10) for w in workers]
    assert sum(len(p) for p in per_worker) == 20 * len(topics)
    owner = {}
    for wi, msgs in enumerate(per_worker):
        seen = {}
        for m in msgs:
            assert owner.setdefault(m.topic, wi) == wi, "topic %s went to two workers" % m.topic
            n = int(m.payload.split(b":")[1])
            assert n == seen.get(m.topic, -1) + 1, "topic %s out of order at %d" % (m.topic, n)
            seen[m.topic] = n
    assert len(set(owner.values())) > 1  # spread over the group


@pytest.mark.broker_options(stomp=True, extra_yaml="queues:\n  - {pattern: \"bo-*\", redelivery_delay_ms: 500, "
                                                   "redelivery_multiplier: 2}\n")
def test_redelivery_back_off_after_nack(broker, stomps):
    queue = unique("bo-q")
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/" + queue, sub_id="c", ack="client-individual")
    pub = stomps(broker.stomp_port, "1.2")
    pub.send("/queue/" + queue, "first", receipt="r0")
    f = c.get()
    assert f.body == b"first"
    t0 = time.monotonic()
    c.nack(f, receipt="n1")
    pub.send("/queue/" + queue, "second", receipt="r1")
    g = c.get()
    assert g.body == b"second", "the message behind a backing-off one is not held up"
    assert time.monotonic() - t0 < 0.45
    c.ack(g)
    again = c.get(timeout=5)
    waited = time.monotonic() - t0
    assert again.body == b"first" and again.headers.get("redelivered") == "true"
    assert waited >= 0.5 - EARLY_SLACK, "offered again %.3fs after the NACK" % waited
    c.nack(again, receipt="n2")
    t1 = time.monotonic()
    third = c.get(timeout=5)
    assert third.body == b"first"
    assert time.monotonic() - t1 >= 1.0 - EARLY_SLACK  # 500 ms x 2
    c.ack(third)


def group_of_stomp(f):
    return f.headers.get("x-group-id")


def group_of_mqtt(m):
    return dict(m.props.get("UserProperty") or []).get("x-group-id")


def check_groups(consumers, what):
    """Each group reached one consumer, in the order it was sent."""
    owner = {}
    for ci, msgs in enumerate(consumers):
        last = {}
        for g, n in msgs:
            assert owner.setdefault(g, ci) == ci, "%s: group %s went to two consumers" % (what, g)
            assert n > last.get(g, -1), "%s: group %s out of order at %d" % (what, g, n)
            last[g] = n
    return owner


@pytest.mark.broker_options(stomp=True)
def test_message_groups_stomp_and_mqtt_consumers(broker, stomps, paho):
    """x-group-id from stomp.py and paho (both directions): each group sticks
    to one consumer, in order, delivered as received; when a consumer goes,
    its groups move to the other with what it left unacknowledged first."""
    queue = unique("grp-q")
    a, b = stomp_and_mqtt_consumers(broker, stomps, paho, queue)
    s_pub = stomps(broker.stomp_port, "1.2")
    m_pub = paho(broker.port, version=V5)
    m_pub.connect()
    groups = ["g%d" % i for i in range(4)]
    for n in range(10):
        for gi, g in enumerate(groups):
            body = "%s:%d" % (g, n)
            if gi % 2:
                s_pub.send("/queue/" + queue, body, receipt="r-%s" % body, **{"x-group-id": g})
            else:
                m_pub.publish("$queue/" + queue, body.encode(), qos=1, properties=user_props(("x-group-id", g)))
    at_a = a.drain(quiet=0.5)
    at_b = b.drain(quiet=0.5)
    assert len(at_a) + len(at_b) == 40
    for f in at_a:
        assert group_of_stomp(f) == f.body.decode().split(":")[0]  # delivered as received
    for m in at_b:
        assert group_of_mqtt(m) == m.payload.decode().split(":")[0]
    parsed_a = [(group_of_stomp(f), int(f.body.split(b":")[1])) for f in at_a]
    parsed_b = [(group_of_mqtt(m), int(m.payload.split(b":")[1])) for m in at_b]
    owner = check_groups([parsed_a, parsed_b], "first owners")
    assert set(owner.values()) == {0, 1}, "the groups were spread over both consumers"
    # a acknowledges its first message of each group and goes: the rest of its
    # groups move to b, unacknowledged ones first, in order.
    acked = set()
    for f in at_a:
        g = group_of_stomp(f)
        if g not in acked:
            a.ack(f)
            acked.add(g)
    a.conn.disconnect()
    moved = b.drain(quiet=0.5)
    a_groups = {g for g, ci in owner.items() if ci == 0}
    assert sorted((group_of_mqtt(m), int(m.payload.split(b":")[1])) for m in moved) == \
        sorted((g, n) for g in a_groups for n in range(1, 10))
    check_groups([[(group_of_mqtt(m), int(m.payload.split(b":")[1])) for m in moved]], "after the move")
    # New messages of a's old groups now go to b, after the moved ones.
    for g in a_groups:
        m_pub.publish("$queue/" + queue, b"%s:10" % g.encode(), qos=1, properties=user_props(("x-group-id", g)))
    late = b.drain(quiet=0.5)
    assert sorted(m.payload for m in late) == sorted(b"%s:10" % g.encode() for g in a_groups)


@pytest.mark.broker_options(stomp=True)
def test_message_groups_keep_order_across_kill9(broker, paho, stomps, summary):
    """4 groups x 150 QoS 1 messages into a queue; a STOMP consumer
    acknowledges 60 of the first 100 it gets; kill -9; restart; two consumers
    drain the rest: each group in order at one consumer, exactly the
    unacknowledged ones, none lost, none twice."""
    queue = unique("grp-crash")
    pub = paho(broker.port, version=V5, max_inflight=100)
    pub.connect()
    groups = ["k%d" % i for i in range(4)]
    sent = [(g, n) for n in range(150) for g in groups]
    mids = [pub.publish("$queue/" + queue, b"%s:%d" % (g.encode(), n), qos=1, wait=False,
                        properties=user_props(("x-group-id", g))) for g, n in sent]
    for mid in mids:
        pub.wait_published(mid)
    first = stomps(broker.stomp_port, "1.2")
    first.subscribe("/queue/" + queue, sub_id="f", ack="client-individual")
    before = first.get_n(100)  # its prefetch
    check_groups([[(group_of_stomp(f), int(f.body.split(b":")[1])) for f in before]], "before the kill")
    for i, f in enumerate(before[:60]):
        first.ack(f, receipt="a" if i == 59 else None)
    acked = {(group_of_stomp(f), int(f.body.split(b":")[1])) for f in before[:60]}
    broker.kill9()
    pub.close()
    broker.start()
    # Two consumers, one message in flight each: the first cannot take
    # every group before the second arrives.
    consumers = []
    for ci in range(2):
        c = stomps(broker.stomp_port, "1.2")
        c.subscribe("/queue/" + queue, sub_id="c%d" % ci, ack="client-individual", **{"prefetch-count": "1"})
        consumers.append(c)
    after = [[], []]
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 1.0:
        for ci, c in enumerate(consumers):
            for f in c.drain(quiet=0.01, limit=0.05):
                after[ci].append((group_of_stomp(f), int(f.body.split(b":")[1])))
                c.ack(f)
                quiet_since = time.monotonic()
    check_groups(after, "after the restart")
    flat = [x for part in after for x in part]
    lost = sorted(set(sent) - acked - set(flat))
    dups = len(flat) - len(set(flat)) + len(acked & set(flat))
    summary("groups kill -9: %d sent, %d acknowledged by the consumer before the kill, %d delivered after the "
            "restart over %d consumers; lost %d, twice %d; each group at one consumer, in order"
            % (len(sent), len(acked), len(flat), sum(1 for p in after if p), len(lost), dups))
    assert not lost, lost[:20]
    assert dups == 0
