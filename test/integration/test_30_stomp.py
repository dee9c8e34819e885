"""STOMP 1.0 / 1.1 / 1.2 front-end with the real stomp.py client (raw frames
only where a well-behaved client cannot go): connect and version
negotiation, SEND / SUBSCRIBE on /topic, receipts, transactions,
heart-beats, temporary queues, retained messages, ERROR handling.
Queue semantics are in test_31, MQTT <-> STOMP in test_32.
"""

import queue
import time

import pytest

from stomp_client import frame_bytes, raw_stomp, stomps  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.junction_only("STOMP front-end"),
    pytest.mark.broker_options(stomp=True, extra_yaml="stomp: {heart_beat_ms: 1000, max_frame_size: 65536}\n"),
]

VERSIONS = ["1.0", "1.1", "1.2"]


# ---------------------------------------------------------------- connect

@pytest.mark.parametrize("version", VERSIONS)
def test_connect_each_version(broker, stomps, version):
    c = stomps(broker.stomp_port, version)
    h = c.connected_frame.headers
    if version == "1.0":
        assert "heart-beat" not in h
    else:
        assert h["version"] == version
        assert h["heart-beat"] == "1000,1000"
    assert h["server"].startswith("Junction/")
    assert h["session"].startswith("stomp-")
    assert c.disconnect() is not None


def test_version_negotiation(broker, raw_stomp):
    r = raw_stomp(broker.stomp_port)
    f = r.connect("1.0,1.1")
    assert f.headers["version"] == "1.1"
    r2 = raw_stomp(broker.stomp_port)
    r2.frame("CONNECT", [])  # no accept-version: 1.0, no version header
    f = r2.read()
    assert f.cmd == "CONNECTED" and "version" not in f.headers
    r3 = raw_stomp(broker.stomp_port)
    r3.frame("CONNECT", [("accept-version", "2.0,3.1")])
    e = r3.expect_error()
    assert e.headers["message"] == "unsupported protocol version"
    assert e.headers["version"] == "1.0,1.1,1.2"


def test_stomp_command_and_host(broker, raw_stomp):
    r = raw_stomp(broker.stomp_port)
    r.frame("STOMP", [("accept-version", "1.2"), ("host", "any-vhost"), ("login", "u"), ("passcode", "p")])
    assert r.read().cmd == "CONNECTED"


# ---------------------------------------------------------------- topics

@pytest.mark.parametrize("version", VERSIONS)
def test_topic_send_subscribe(broker, stomps, version):
    sub = stomps(broker.stomp_port, version)
    pub = stomps(broker.stomp_port, version)
    sub.subscribe("/topic/t/+", sub_id="s1")
    body = b"bin\x00ary\nbody"
    pub.send("/topic/t/x", body, receipt="r1", k="v", **{"content-type": "application/octet-stream"})
    m = sub.get()
    h = m.headers
    assert m.body == body
    assert h["destination"] == "/topic/t/x"
    assert h["subscription"] == "s1"
    assert h["message-id"]
    assert h["content-length"] == str(len(body))
    assert h["content-type"] == "application/octet-stream"
    assert h["k"] == "v"
    assert h["qos"] == "1"
    assert "ack" not in h and "redelivered" not in h and "retained" not in h
    sub.expect_nothing(0.3)


def test_topic_subscribe_without_id_in_1_0(broker, raw_stomp, stomps):
    r = raw_stomp(broker.stomp_port)
    r.frame("CONNECT", [])
    assert r.read().cmd == "CONNECTED"
    r.frame("SUBSCRIBE", [("destination", "/topic/old"), ("receipt", "s")])
    assert r.read().headers["receipt-id"] == "s"
    stomps(broker.stomp_port, "1.2").send("/topic/old", "x", receipt="p")
    m = r.read()
    assert m.cmd == "MESSAGE" and m.headers["subscription"] == "/topic/old" and m.body == b"x"
    r.frame("UNSUBSCRIBE", [("destination", "/topic/old"), ("receipt", "u")])
    assert r.read().headers["receipt-id"] == "u"


def test_overlapping_and_duplicate_filters(broker, stomps):
    sub = stomps(broker.stomp_port, "1.2")
    pub = stomps(broker.stomp_port, "1.2")
    sub.subscribe("/topic/w/#", sub_id="all")
    sub.subscribe("/topic/w/+", sub_id="one-level")
    sub.subscribe("/topic/w/x", sub_id="exact")
    sub.subscribe("/topic/w/x", sub_id="exact-again")
    pub.send("/topic/w/x", "hi", receipt="r")
    got = sub.get_n(4)
    assert sorted(m.headers["subscription"] for m in got) == ["all", "exact", "exact-again", "one-level"]
    assert all(m.body == b"hi" for m in got)
    sub.expect_nothing(0.3)
    sub.unsubscribe("exact")
    sub.unsubscribe("all")
    pub.send("/topic/w/x", "again", receipt="r2")
    got = sub.get_n(2)
    assert sorted(m.headers["subscription"] for m in got) == ["exact-again", "one-level"]
    sub.unsubscribe("exact-again")
    sub.unsubscribe("one-level")
    pub.send("/topic/w/x", "none", receipt="r3")
    sub.expect_nothing(0.5)


def test_header_escaping_round_trip(broker, stomps):
    for version in ("1.1", "1.2"):
        sub = stomps(broker.stomp_port, version)
        pub = stomps(broker.stomp_port, version)
        sub.subscribe("/topic/esc", sub_id="e")
        pub.send("/topic/esc", "x", receipt="r", note="a:b\\c\nd")
        assert sub.get().headers["note"] == "a:b\\c\nd"


def test_header_values_in_each_version(broker, raw_stomp):
    subs = {}
    for v in VERSIONS:
        r = raw_stomp(broker.stomp_port)
        r.connect(v)
        r.frame("SUBSCRIBE", [("destination", "/topic/enc"), ("id", "s"), ("receipt", "s")])
        assert r.read().cmd == "RECEIPT"
        subs[v] = r
    pub = raw_stomp(broker.stomp_port)
    pub.connect("1.2")
    pub.frame("SEND", [("destination", "/topic/enc"), ("cr", "a\\rb"), ("colon", "x\\cy"), ("nl", "l1\\nl2"),
                       ("receipt", "p")], b"body")
    assert pub.read().cmd == "RECEIPT"
    for v, r in subs.items():
        m = r.read()
        assert m.cmd == "MESSAGE" and m.body == b"body", (v, m)
        assert m.headers["cr"] == "a\rb", v  # 1.2 escapes CR, 1.0 and 1.1 carry it raw
        assert m.headers["colon"] == "x:y", v
        if v == "1.0":
            assert "nl" not in m.headers  # 1.0 cannot carry a line feed in a header
        else:
            assert m.headers["nl"] == "l1\nl2", v


def test_retained_messages_are_marked(broker, stomps):
    pub = stomps(broker.stomp_port, "1.2")
    pub.send("/topic/ret/a", "kept", receipt="r1", retain="true")
    sub = stomps(broker.stomp_port, "1.2")
    sub.subscribe("/topic/ret/+", sub_id="r")
    m = sub.get()
    assert m.body == b"kept" and m.headers["retained"] == "true" and m.headers["destination"] == "/topic/ret/a"
    pub.send("/topic/ret/a", "live", receipt="r2")
    m = sub.get()
    assert m.body == b"live" and "retained" not in m.headers
    pub.send("/topic/ret/a", "", receipt="r3", retain="true")  # empty retained body clears the topic
    assert sub.get().body == b""
    late = stomps(broker.stomp_port, "1.2")
    late.subscribe("/topic/ret/#", sub_id="late")
    late.expect_nothing(0.5)


# ---------------------------------------------------------------- receipts

def test_receipts_in_order_and_after_durable_work(broker, raw_stomp):
    r = raw_stomp(broker.stomp_port)
    r.connect("1.2")
    frames = b""
    for i in range(200):
        dest = "/queue/rq" if i % 3 else "/topic/rq"
        frames += frame_bytes("SEND", [("destination", dest), ("receipt", "r%d" % i)], b"m%d" % i)
    r.send(frames)
    ids = []
    while len(ids) < 200:
        f = r.read()
        assert f is not None and f.cmd == "RECEIPT", f
        ids.append(f.headers["receipt-id"])
    assert ids == ["r%d" % i for i in range(200)]


@pytest.mark.parametrize("version", VERSIONS)
def test_receipt_on_every_frame(broker, raw_stomp, version):
    r = raw_stomp(broker.stomp_port)
    r.connect(version)
    seq = [
        ("SUBSCRIBE", [("destination", "/queue/every"), ("id", "s"), ("ack", "client-individual")]),
        ("BEGIN", [("transaction", "t")]),
        ("SEND", [("destination", "/queue/every"), ("transaction", "t")]),
        ("COMMIT", [("transaction", "t")]),
    ]
    for i, (cmd, headers) in enumerate(seq):
        r.frame(cmd, headers + [("receipt", "x%d" % i)])
    got = []
    message = None
    while len(got) < len(seq):
        f = r.read()
        if f.cmd == "MESSAGE":
            message = f
            continue
        assert f.cmd == "RECEIPT", f
        got.append(f.headers["receipt-id"])
    assert got == ["x%d" % i for i in range(len(seq))]
    if message is None:
        message = r.read()
    ack_id = message.headers["ack"] if version == "1.2" else message.headers["message-id"]
    key = "id" if version == "1.2" else "message-id"
    r.frame("ACK", [(key, ack_id), ("subscription", "s"), ("receipt", "a")])
    assert r.read().headers["receipt-id"] == "a"
    r.frame("UNSUBSCRIBE", [("id", "s"), ("receipt", "u")])
    assert r.read().headers["receipt-id"] == "u"
    r.frame("DISCONNECT", [("receipt", "bye")])
    assert r.read().headers["receipt-id"] == "bye"
    r.expect_closed()


# ---------------------------------------------------------------- transactions

@pytest.mark.parametrize("version", VERSIONS)
def test_transaction_commit_and_abort(broker, stomps, version):
    sub = stomps(broker.stomp_port, version)
    pub = stomps(broker.stomp_port, version)
    sub.subscribe("/topic/tx", sub_id="t")
    tx = pub.conn.begin()
    for i in range(3):
        pub.conn.send("/topic/tx", "in-tx-%d" % i, transaction=tx)
    sub.expect_nothing(0.5)
    pub.conn.commit(tx, receipt="c")
    pub.wait_receipt("c")
    assert [m.body for m in sub.get_n(3)] == [b"in-tx-0", b"in-tx-1", b"in-tx-2"]
    tx2 = pub.conn.begin()
    pub.conn.send("/topic/tx", "aborted", transaction=tx2)
    pub.conn.abort(tx2, receipt="a")
    pub.wait_receipt("a")
    sub.expect_nothing(0.5)
    pub.send("/topic/tx", "after", receipt="s")
    assert sub.get().body == b"after"


def receipt_ids(c, wait):
    """RECEIPT ids that arrive within `wait` seconds of quiet, in order."""
    out = []
    while True:
        try:
            out.append(c.listener.receipts.get(timeout=wait).headers.get("receipt-id"))
        except queue.Empty:
            return out


@pytest.mark.parametrize("version", VERSIONS)
def test_receipts_inside_a_transaction_wait_for_the_commit(broker, stomps, version):
    # RabbitMQ's test_send_with_receipt_tx: a RECEIPT says the work is done;
    # a transactional SEND is not done until COMMIT.
    sub = stomps(broker.stomp_port, version)
    sub.subscribe("/queue/txr", sub_id="q")
    pub = stomps(broker.stomp_port, version)
    tx = pub.conn.begin()
    for i in range(50):
        pub.conn.send("/queue/txr", "m%d" % i, transaction=tx, headers={"receipt": "r%d" % i})
    assert receipt_ids(pub, 0.7) == [], "RECEIPT for a SEND inside a transaction before COMMIT"
    sub.expect_nothing(0.1)
    pub.conn.commit(tx, receipt="c")
    pub.wait_receipt("c")
    assert receipt_ids(pub, 0.3) == [], "RECEIPTs of the transaction's frames after the COMMIT's"
    got = sub.get_n(50)
    assert [m.body for m in got] == [b"m%d" % i for i in range(50)]


def test_receipts_inside_a_transaction_come_in_order_before_the_commits(broker, raw_stomp):
    r = raw_stomp(broker.stomp_port)
    r.connect("1.2")
    r.frame("BEGIN", [("transaction", "t")])
    for i in range(3):
        r.frame("SEND", [("destination", "/queue/txo"), ("transaction", "t"), ("receipt", "s%d" % i)], b"x")
    r.frame("SEND", [("destination", "/queue/txo"), ("receipt", "outside")], b"y")
    assert r.read().headers["receipt-id"] == "outside"
    r.frame("COMMIT", [("transaction", "t"), ("receipt", "c")])
    assert [r.read().headers["receipt-id"] for _ in range(4)] == ["s0", "s1", "s2", "c"]


@pytest.mark.parametrize("end", ["abort", "disconnect"])
def test_receipts_inside_an_aborted_transaction_never_come(broker, stomps, end):
    sub = stomps(broker.stomp_port, "1.2")
    sub.subscribe("/queue/txa", sub_id="q", ack="client-individual")
    pub = stomps(broker.stomp_port, "1.2")
    pub.send("/queue/txa", "to-ack", receipt="first")
    m = sub.get()
    tx = pub.conn.begin()
    ack_tx = sub.conn.begin()
    for i in range(5):
        pub.conn.send("/queue/txa", "m%d" % i, transaction=tx, headers={"receipt": "r%d" % i})
    sub.conn.ack(m.headers["ack"], transaction=ack_tx, receipt="ack-in-tx")
    if end == "abort":
        pub.conn.abort(tx, receipt="a")
        sub.conn.abort(ack_tx, receipt="b")
        assert receipt_ids(pub, 0.5) == ["a"]
        assert receipt_ids(sub, 0.5) == ["b"]
    pub.conn.disconnect(receipt="bye-pub")
    sub.conn.disconnect(receipt="bye-sub")
    assert receipt_ids(pub, 0.5) == ["bye-pub"]
    assert receipt_ids(sub, 0.5) == ["bye-sub"]
    # Neither transaction happened: the SENDs never reached the queue, the
    # ACK never took the message from it.
    check = stomps(broker.stomp_port, "1.2")
    check.subscribe("/queue/txa", sub_id="c")
    assert [f.body for f in check.drain(quiet=0.5)] == [b"to-ack"]


def test_disconnect_aborts_open_transactions(broker, stomps):
    sub = stomps(broker.stomp_port, "1.2")
    sub.subscribe("/queue/txq", sub_id="q")
    pub = stomps(broker.stomp_port, "1.2")
    tx = pub.conn.begin()
    pub.conn.send("/queue/txq", "never", transaction=tx)
    pub.disconnect()
    sub.expect_nothing(0.7)


def test_unknown_transaction_is_an_error(broker, raw_stomp):
    r = raw_stomp(broker.stomp_port)
    r.connect("1.2")
    r.frame("SEND", [("destination", "/topic/x"), ("transaction", "nope"), ("receipt", "z")], b"x")
    e = r.expect_error()
    assert e.headers["message"] == "unknown transaction"
    assert e.headers["receipt-id"] == "z"


# ---------------------------------------------------------------- heart-beats

def test_heart_beats_both_ways(broker, stomps):
    c = stomps(broker.stomp_port, "1.2", heartbeats=(1000, 1000))
    time.sleep(3.5)
    assert c.listener.heartbeats >= 2
    assert c.conn.is_connected()
    c.send("/topic/hb", "still here", receipt="r")


def test_broker_sends_beats_at_the_agreed_interval(broker, raw_stomp):
    r = raw_stomp(broker.stomp_port)
    f = r.connect("1.2", heart_beat="0,1000")
    assert f.headers["heart-beat"] == "1000,1000"
    t0 = time.monotonic()
    beats = 0
    while time.monotonic() - t0 < 3.2:
        if r.read(timeout=2.0, skip_heartbeats=False) == "HEARTBEAT":
            beats += 1
    assert beats >= 2


def test_silent_client_is_closed(broker, raw_stomp):
    r = raw_stomp(broker.stomp_port)
    r.connect("1.2", heart_beat="1000,0")  # promises a beat every second, then says nothing
    t0 = time.monotonic()
    e = r.expect_error(timeout=6)
    took = time.monotonic() - t0
    assert e.headers["message"] == "heart-beat timeout"
    assert 1.9 < took < 5.0, took


def test_no_heart_beats_when_not_agreed(broker, raw_stomp):
    r = raw_stomp(broker.stomp_port)
    r.connect("1.2", heart_beat="0,0")
    time.sleep(2.5)
    r.sock.settimeout(0.3)
    try:
        data = r.sock.recv(100)
    except OSError:
        data = None
    assert data is None  # neither beats nor a close


# ---------------------------------------------------------------- temp queues

def test_temp_queue_request_reply(broker, stomps):
    service = stomps(broker.stomp_port, "1.2")
    service.subscribe("/queue/svc", sub_id="svc")
    requester = stomps(broker.stomp_port, "1.2")
    requester.send("/queue/svc", "ping", receipt="q", **{"reply-to": "/temp-queue/answers",
                                                          "correlation-id": "c-1"})
    req = service.get()
    reply_to = req.headers["reply-to"]
    assert reply_to.startswith("/queue/tmp.stomp-")
    assert req.headers["correlation-id"] == "c-1"
    service.send(reply_to, "pong", receipt="a", **{"correlation-id": "c-1"})
    rep = requester.get()
    assert rep.body == b"pong"
    assert rep.headers["destination"] == "/temp-queue/answers"
    assert rep.headers["correlation-id"] == "c-1"
    # Nobody else may consume it.
    thief = stomps(broker.stomp_port, "1.2")
    thief.conn.subscribe(reply_to, "steal")
    assert thief.wait_errors()[0][0]["message"] == "temporary queue of another connection"


def test_explicit_temp_queue_subscription(broker, stomps):
    a = stomps(broker.stomp_port, "1.2")
    a.subscribe("/temp-queue/mine", sub_id="m")
    a.send("/temp-queue/mine", "to myself", receipt="r")
    m = a.get()
    assert m.body == b"to myself" and m.headers["destination"] == "/temp-queue/mine"
    assert m.headers["subscription"] == "m"


def test_reply_to_a_closed_temp_queue_is_dropped(broker, stomps):
    a = stomps(broker.stomp_port, "1.2")
    a.subscribe("/temp-queue/gone", sub_id="g")
    a.send("/temp-queue/gone", "x", receipt="r")
    a.get()
    session = a.connected_frame.headers["session"]
    a.disconnect()
    b = stomps(broker.stomp_port, "1.2")
    b.send("/queue/tmp.%s.gone" % session, "late reply", receipt="r")  # accepted, then dropped
    assert b.errors() == []


# ---------------------------------------------------------------- back-pressure

def test_slow_queue_consumer_is_resumed(broker, raw_stomp):
    """More than the outbound limit (4 MiB) for a consumer that stops
    reading: delivery pauses and resumes once it drains; nothing is lost."""
    n, size = 1500, 8192
    consumer = raw_stomp(broker.stomp_port)
    consumer.connect("1.2")
    consumer.frame("SUBSCRIBE", [("destination", "/queue/big"), ("id", "c"), ("receipt", "s")])
    assert consumer.read().cmd == "RECEIPT"
    producer = raw_stomp(broker.stomp_port)
    producer.connect("1.2")
    body = b"y" * size
    for start in range(0, n, 100):
        producer.send(b"".join(frame_bytes("SEND", [("destination", "/queue/big"), ("seq", str(i))], body)
                               for i in range(start, start + 100)))
    producer.frame("SEND", [("destination", "/queue/big"), ("seq", "end"), ("receipt", "all")], b"end")
    assert producer.read(timeout=20).headers["receipt-id"] == "all"
    time.sleep(0.5)  # the consumer is still not reading
    seqs = []
    while len(seqs) < n + 1:
        m = consumer.read(timeout=10)
        assert m is not None and m.cmd == "MESSAGE", m
        seqs.append(m.headers["seq"])
    assert seqs == [str(i) for i in range(n)] + ["end"]


# ---------------------------------------------------------------- errors

ERROR_CASES = {
    "before-connect": (None, [("SEND", [("destination", "/topic/x")], b"x")], "not connected"),
    "second-connect": ("1.2", [("CONNECT", [("accept-version", "1.2")], b"")], "already connected"),
    "unknown-destination": ("1.2", [("SEND", [("destination", "/nowhere/x"), ("receipt", "r9")], b"x")],
                            "unknown destination (expected /topic/, /queue/ or /temp-queue/)"),
    "missing-destination": ("1.2", [("SEND", [("receipt", "r1")], b"x")], "missing destination header"),
    "wildcard-send": ("1.2", [("SEND", [("destination", "/topic/a/+")], b"x")],
                      "invalid topic name (wildcards only in SUBSCRIBE)"),
    "subscribe-without-id": ("1.1", [("SUBSCRIBE", [("destination", "/topic/a")], b"")], "missing id header"),
    "bad-ack-mode": ("1.2", [("SUBSCRIBE", [("destination", "/topic/a"), ("id", "1"), ("ack", "sometimes")], b"")],
                     "invalid ack mode (auto, client or client-individual)"),
    "duplicate-id": ("1.2", [("SUBSCRIBE", [("destination", "/topic/a"), ("id", "1")], b""),
                             ("SUBSCRIBE", [("destination", "/topic/b"), ("id", "1")], b"")],
                     "duplicate subscription id"),
    "nack-in-1.0": ("1.0", [("NACK", [("message-id", "1-1")], b"")], "NACK is not part of STOMP 1.0"),
    "ack-without-id": ("1.2", [("ACK", [("receipt", "r")], b"")], "missing id header"),
    "commit-unknown": ("1.2", [("COMMIT", [("transaction", "t0")], b"")], "unknown transaction"),
    "begin-twice": ("1.2", [("BEGIN", [("transaction", "t")], b""), ("BEGIN", [("transaction", "t")], b"")],
                    "transaction already started"),
    "bad-heart-beat": (None, [("CONNECT", [("accept-version", "1.2"), ("heart-beat", "soon")], b"")],
                       "bad heart-beat header"),
    "bad-qos": ("1.2", [("SEND", [("destination", "/topic/a"), ("qos", "7")], b"x")], "qos must be 0, 1 or 2"),
    "bad-reply-to": ("1.2", [("SEND", [("destination", "/topic/a"), ("reply-to", "nowhere")], b"x")],
                     "invalid reply-to destination"),
    "server-frame": ("1.2", [("MESSAGE", [("destination", "/topic/a")], b"")], "not a client frame"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_then_close_and_others_unaffected(broker, raw_stomp, stomps, case):
    bystander = stomps(broker.stomp_port, "1.2")
    bystander.subscribe("/topic/by", sub_id="b")
    version, frames, message = ERROR_CASES[case]
    r = raw_stomp(broker.stomp_port)
    if version:
        r.connect(version)
    for cmd, headers, body in frames:
        r.frame(cmd, headers, body)
    e = r.expect_error()
    assert e.headers["message"] == message
    receipts = [v for _, h, _ in frames for k, v in h if k == "receipt"]
    if receipts:
        assert e.headers.get("receipt-id") == receipts[-1]
    assert e.body  # a short explanation
    bystander.send("/topic/by", "fine", receipt="ok")
    assert bystander.get().body == b"fine"


@pytest.mark.parametrize("junk,message", [
    (b"SEND\ndestination /topic/a\n\nx\x00", "header without colon"),
    (b"FROB\n\n\x00", "unknown command"),
    (b"SEND\ndestination:/topic/a\ncontent-length:abc\n\nx\x00", "bad content-length"),
    (b"SEND\ndestination:/topic/a\ncontent-length:1\n\nxy\x00", "body not terminated by NUL"),
    (b"SEND\ndestination:/topic/a\n\n" + b"x" * 70000 + b"\x00", "frame too large"),
    (b"SEND\n" + b"".join(b"h%d:v\n" % i for i in range(300)) + b"\n\x00", "too many headers"),
    (b"SEND\ndestination:/topic/a\nbad:\\q\n\nx\x00", "invalid escape sequence"),
])
def test_malformed_frames(broker, raw_stomp, junk, message):
    r = raw_stomp(broker.stomp_port)
    r.connect("1.2")
    r.send(junk)
    e = r.expect_error()
    assert e.headers["message"] == message


def test_error_reaches_stomp_py(broker, stomps):
    c = stomps(broker.stomp_port, "1.2")
    c.conn.send("/elsewhere/x", "x")
    errs = c.wait_errors()
    assert errs and errs[0][0]["message"].startswith("unknown destination")
    assert b"/elsewhere/x" in errs[0][1]


def test_login_is_accepted(broker, raw_stomp):
    # Until authentication plugins exist a named user is accepted; anonymous
    # access follows the listener's allow_anonymous (true on loopback).
    r = raw_stomp(broker.stomp_port)
    r.frame("CONNECT", [("accept-version", "1.2"), ("login", "alice"), ("passcode", "secret")])
    assert r.read().cmd == "CONNECTED"


def test_shutdown_sends_error(broker, raw_stomp):
    r = raw_stomp(broker.stomp_port)
    r.connect("1.2")
    broker.stop()
    e = r.expect_error()
    assert e.headers["message"] == "server shutting down"
