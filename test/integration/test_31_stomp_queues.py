"""STOMP /queue/ destinations on the core's durable queues, with stomp.py:
messages wait for a consumer, competing consumers get each message once,
ack modes (auto, client = cumulative, client-individual), prefetch-count,
NACK, redelivery with `redelivered` when a consumer leaves without acking,
ACK inside transactions, overflow, TTL, and the kill -9 restart test.
"""

import threading
import time

import pytest

from stomp_client import frame_bytes, raw_stomp, stomps  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.junction_only("STOMP front-end"),
    pytest.mark.broker_options(stomp=True),
]


def bodies(frames):
    return [f.body for f in frames]


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_messages_wait_for_a_consumer(broker, stomps, version):
    pub = stomps(broker.stomp_port, version)
    for i in range(5):
        pub.send("/queue/wait", "m%d" % i, receipt="r%d" % i)
    c = stomps(broker.stomp_port, version)
    c.subscribe("/queue/wait", sub_id="w")
    got = c.get_n(5)
    assert bodies(got) == [b"m%d" % i for i in range(5)]
    for m in got:
        assert m.headers["destination"] == "/queue/wait"
        assert m.headers["subscription"] == "w"
        assert "ack" not in m.headers and "redelivered" not in m.headers
    c.expect_nothing(0.3)


def test_two_consumers_each_message_once(broker, stomps):
    a = stomps(broker.stomp_port, "1.2")
    b = stomps(broker.stomp_port, "1.1")
    a.subscribe("/queue/work", sub_id="a", ack="client-individual")
    b.subscribe("/queue/work", sub_id="b", ack="client-individual")
    pub = stomps(broker.stomp_port, "1.2")
    n = 100
    for i in range(n):
        pub.conn.send("/queue/work", "job-%d" % i)
    pub.send("/queue/work", "last", receipt="done")
    seen = []
    deadline = time.monotonic() + 10
    per = {"a": 0, "b": 0}
    while len(seen) < n + 1 and time.monotonic() < deadline:
        for name, c in (("a", a), ("b", b)):
            for m in c.drain(quiet=0.05, limit=0.2):
                seen.append(m.body)
                per[name] += 1
                c.ack(m)
    assert sorted(seen) == sorted([b"job-%d" % i for i in range(n)] + [b"last"])
    assert per["a"] > 10 and per["b"] > 10, per  # round robin shares the work
    a.expect_nothing(0.3)
    b.expect_nothing(0.1)


def test_prefetch_count_limits_unacked(broker, stomps):
    pub = stomps(broker.stomp_port, "1.2")
    for i in range(5):
        pub.send("/queue/pf", "p%d" % i, receipt="r%d" % i)
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/pf", sub_id="p", ack="client-individual", **{"prefetch-count": "2"})
    first = c.get_n(2)
    c.expect_nothing(0.5)
    c.ack(first[1], receipt="a1")
    assert c.get().body == b"p2"
    c.expect_nothing(0.3)
    c.ack(first[0])
    assert c.get().body == b"p3"


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_client_ack_is_cumulative(broker, stomps, raw_stomp, version):
    pub = stomps(broker.stomp_port, "1.2")
    for i in range(5):
        pub.send("/queue/cum", "c%d" % i, receipt="r%d" % i)
    c = stomps(broker.stomp_port, version)
    c.subscribe("/queue/cum", sub_id="c", ack="client")
    got = c.get_n(5)
    if version == "1.2":
        assert all(m.headers["ack"] == m.headers["message-id"] for m in got)
    c.ack(got[2], receipt="a")  # covers c0..c2
    c.conn.disconnect()  # c3, c4 go back to the queue
    time.sleep(0.2)
    d = stomps(broker.stomp_port, "1.2")
    d.subscribe("/queue/cum", sub_id="d")
    again = d.get_n(2)
    assert bodies(again) == [b"c3", b"c4"]
    assert all(m.headers["redelivered"] == "true" for m in again)
    assert all(m.headers["delivery-count"] == "2" for m in again)
    d.expect_nothing(0.3)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_nack_redelivers(broker, stomps, version):
    pub = stomps(broker.stomp_port, version)
    pub.send("/queue/nk", "once more", receipt="r")
    c = stomps(broker.stomp_port, version)
    c.subscribe("/queue/nk", sub_id="n", ack="client-individual")
    m = c.get()
    assert "redelivered" not in m.headers
    c.nack(m, receipt="nk")
    m2 = c.get()
    assert m2.body == b"once more"
    assert m2.headers["redelivered"] == "true"
    assert m2.headers["delivery-count"] == "2"
    c.ack(m2, receipt="ok")
    c.expect_nothing(0.4)


def test_nack_without_requeue_dead_letters(broker, stomps):
    pub = stomps(broker.stomp_port, "1.2")
    pub.send("/queue/poison", "bad", receipt="r")
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/poison", sub_id="p", ack="client-individual")
    c.nack(c.get(), receipt="n", requeue="false")
    c.expect_nothing(0.3)
    dlq = stomps(broker.stomp_port, "1.2")
    dlq.subscribe("/queue/DLQ.poison", sub_id="d")
    assert dlq.get().body == b"bad"


def test_consumer_leaving_without_ack_redelivers_to_another(broker, stomps, raw_stomp):
    pub = stomps(broker.stomp_port, "1.2")
    a = raw_stomp(broker.stomp_port)
    a.connect("1.2")
    a.frame("SUBSCRIBE", [("destination", "/queue/jobs"), ("id", "a"), ("ack", "client-individual"),
                          ("receipt", "s")])
    assert a.read().cmd == "RECEIPT"
    for i in range(3):
        pub.send("/queue/jobs", "j%d" % i, receipt="r%d" % i)
    got = [a.read() for _ in range(3)]
    assert [f.body for f in got] == [b"j0", b"j1", b"j2"]
    b = stomps(broker.stomp_port, "1.2")
    b.subscribe("/queue/jobs", sub_id="b", ack="client-individual")
    b.expect_nothing(0.3)  # all three are out with `a`, unacknowledged
    a.close()  # no ACK, no DISCONNECT: the connection just ends
    again = b.get_n(3)
    assert bodies(again) == [b"j0", b"j1", b"j2"]
    assert all(m.headers["redelivered"] == "true" for m in again)
    for m in again:
        b.ack(m)
    b.expect_nothing(0.3)


def test_unsubscribe_requeues_unacked(broker, stomps):
    pub = stomps(broker.stomp_port, "1.2")
    pub.send("/queue/uq", "u", receipt="r")
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/uq", sub_id="one", ack="client")
    assert c.get().body == b"u"
    c.unsubscribe("one")
    c.subscribe("/queue/uq", sub_id="two", ack="client")
    m = c.get()
    assert m.body == b"u" and m.headers["redelivered"] == "true" and m.headers["subscription"] == "two"


@pytest.mark.parametrize("outcome", ["commit", "abort"])
def test_ack_inside_a_transaction(broker, stomps, outcome):
    pub = stomps(broker.stomp_port, "1.2")
    pub.send("/queue/txa", "t", receipt="r")
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/txa", sub_id="t", ack="client-individual")
    m = c.get()
    tx = c.conn.begin()
    c.ack(m, transaction=tx)
    if outcome == "commit":
        c.conn.commit(tx, receipt="done")
    else:
        c.conn.abort(tx, receipt="done")
    c.wait_receipt("done")
    c.conn.disconnect()
    time.sleep(0.2)
    d = stomps(broker.stomp_port, "1.2")
    d.subscribe("/queue/txa", sub_id="d")
    if outcome == "commit":
        d.expect_nothing(0.5)
    else:
        m2 = d.get()
        assert m2.body == b"t" and m2.headers["redelivered"] == "true"


def test_sends_in_a_transaction_reach_the_queue_together(broker, stomps):
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/txs", sub_id="s")
    pub = stomps(broker.stomp_port, "1.2")
    tx = pub.conn.begin()
    for i in range(10):
        pub.conn.send("/queue/txs", "x%d" % i, transaction=tx)
    c.expect_nothing(0.4)
    pub.conn.commit(tx, receipt="c")
    pub.wait_receipt("c")
    assert bodies(c.get_n(10)) == [b"x%d" % i for i in range(10)]


def test_queue_overflow_rejects_the_publisher(broker_factory, stomps):
    b = broker_factory(stomp=True, extra_yaml="queues:\n  - {pattern: tiny, max_length: 2}\n")
    pub = stomps(b.stomp_port, "1.2")
    pub.send("/queue/tiny", "1", receipt="r1")
    pub.send("/queue/tiny", "2", receipt="r2")
    pub.conn.send("/queue/tiny", "3", headers={"receipt": "r3"})
    (headers, body), = pub.wait_errors()
    assert headers["message"] == "queue full"
    assert headers["receipt-id"] == "r3"
    assert b"/queue/tiny" in body
    c = stomps(b.stomp_port, "1.2")
    c.subscribe("/queue/tiny", sub_id="t")
    assert bodies(c.get_n(2)) == [b"1", b"2"]
    c.expect_nothing(0.3)


def test_expired_messages_are_not_delivered(broker, stomps):
    pub = stomps(broker.stomp_port, "1.2")
    now_ms = int(time.time() * 1000)
    pub.send("/queue/ttl", "stale", receipt="r1", expires=str(now_ms + 300))
    pub.send("/queue/ttl", "fresh", receipt="r2", expires=str(now_ms + 60000))
    time.sleep(0.6)
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/ttl", sub_id="t")
    m = c.get()
    assert m.body == b"fresh" and m.headers["expires"] == str(now_ms + 60000)
    c.expect_nothing(0.3)
    dlq = stomps(broker.stomp_port, "1.2")
    dlq.subscribe("/queue/DLQ.ttl", sub_id="d")
    assert dlq.get().body == b"stale"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_queue_survives_kill_9(broker, raw_stomp, stomps, summary):
    """Fill a queue with no consumer while kill -9 hits the broker; after the
    restart every message whose SEND got a RECEIPT is delivered."""
    kill_after = 1500
    r = raw_stomp(broker.stomp_port)
    r.connect("1.2")
    payload = b"x" * 200
    written = [0]

    def produce():
        # Paced, so the broker is still busy with this stream when it dies.
        try:
            for start in range(0, 100000, 50):
                chunk = b"".join(frame_bytes("SEND", [("destination", "/queue/crash"), ("receipt", "m%d" % i)],
                                             b"m%d:" % i + payload) for i in range(start, start + 50))
                r.send(chunk)
                written[0] = start + 50
                time.sleep(0.002)
        except OSError:
            pass  # the broker died under us

    t = threading.Thread(target=produce, daemon=True)
    t.start()
    receipted = set()
    while True:
        f = r.read(timeout=10)
        if f is None:
            break
        assert f.cmd == "RECEIPT", f
        receipted.add(int(f.headers["receipt-id"][1:]))
        if len(receipted) == kill_after:
            broker.kill9()
    t.join(10)
    assert len(receipted) >= kill_after
    assert written[0] > len(receipted)  # the kill came mid-stream

    broker.start()
    c = stomps(broker.stomp_port, "1.2")
    c.subscribe("/queue/crash", sub_id="c", ack="client", **{"prefetch-count": "0"})
    got = c.drain(quiet=1.0, limit=60)
    ids = [int(m.body.split(b":")[0][1:]) for m in got]
    recovered = set(ids)
    missing = sorted(receipted - recovered)
    summary("stomp queue kill -9: %d SENDs written, %d RECEIPTs received, %d messages after restart, "
            "%d receipted missing, %d duplicates" % (written[0], len(receipted), len(recovered), len(missing),
                                                     len(ids) - len(recovered)))
    assert not missing, missing[:20]
    assert ids == sorted(ids)  # queue order survives the restart
    c.ack(got[-1], receipt="all")
