"""AMQP 0-9-1 bridge (README "AMQP bridge") against a real RabbitMQ the suite starts on its
own ports (fixture `rabbitmq`), checked with pika as the independent AMQP
client and paho-mqtt / stomp.py on the Junction side.

Chaos tests print their counts (sent, confirmed, received, lost, duplicated).
"""

import re
import time

import pika
import pytest

import raw_mqtt as R
from clients import V5
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from stomp_client import Stomp

pytestmark = [pytest.mark.junction_only("AMQP bridge"), pytest.mark.timeout(240)]

_seq = [0]


def unique(prefix):
    _seq[0] += 1
    return "%s%d_%d" % (prefix, int(time.time() * 1000) % 1000000, _seq[0])


def bridge_yaml(uri, name, outbound=(), inbound=(), extra=""):
    lines = ["bridges:", "  - name: %s" % name, "    uris: [\"%s\"]" % uri,
             "    reconnect: {min_backoff_ms: 200, max_backoff_ms: 1000}"]
    if extra:
        lines += ["    " + extra]
    if outbound:
        lines.append("    outbound:")
        lines += ["      - " + o for o in outbound]
    if inbound:
        lines.append("    inbound:")
        lines += ["      - " + i for i in inbound]
    return "\n".join(lines) + "\n"


def wait_log(broker, pattern, count=1, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(re.findall(pattern, broker.log)) >= count:
            return
        time.sleep(0.1)
    raise AssertionError("no %r (x%d) in the broker log:\n%s" % (pattern, count, broker.log[-3000:]))


def wait_connected(broker, name, count=1):
    wait_log(broker, r"bridge %s: connected;" % re.escape(name), count)


class Consumer:
    """A pika queue bound to an exchange; collects (method, properties, body)."""

    def __init__(self, rabbitmq, exchange, binding_key, queue=None, durable=False):
        self.conn = pika.BlockingConnection(rabbitmq.params())
        self.ch = self.conn.channel()
        self.ch.exchange_declare(exchange, "topic", durable=True)
        self.queue = queue or unique("q")
        self.ch.queue_declare(self.queue, durable=durable, auto_delete=not durable)
        self.ch.queue_bind(self.queue, exchange, binding_key)
        self.got = []

    def collect(self, n, timeout=30.0):
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            m, p, b = self.ch.basic_get(self.queue, auto_ack=True)
            if m is None:
                self.conn.process_data_events(0.05)
                continue
            self.got.append((m, p, b))
        return self.got

    def close(self):
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001
            pass


def amqp_publish(rabbitmq, exchange, key, body, **props):
    conn = pika.BlockingConnection(rabbitmq.params())
    ch = conn.channel()
    ch.exchange_declare(exchange, "topic", durable=True)
    ch.confirm_delivery()
    ch.basic_publish(exchange, key, body, pika.BasicProperties(**props))
    conn.close()


def v5_props(**values):
    p = Properties(PacketTypes.PUBLISH)
    for k, v in values.items():
        setattr(p, k, v)
    return p


# ------------------------------------------------------------ outbound

def test_mqtt_publish_reaches_pika_with_properties(broker_factory, paho, rabbitmq):
    ex = unique("jx")
    b = broker_factory(extra_yaml=bridge_yaml(rabbitmq.uri(), "out", outbound=[
        '{filter: "sensors/#", exchange: %s, routing_key: "{topic}", qos: 1}' % ex]))
    wait_connected(b, "out")
    consumer = Consumer(rabbitmq, ex, "sensors.#")
    try:
        c = paho(b.port, version=V5)
        c.connect()
        props = v5_props(ContentType="application/json", CorrelationData=b"corr-1", ResponseTopic="r/s",
                         UserProperty=[("k1", "v1"), ("k2", "v2")], MessageExpiryInterval=600)
        c.publish("sensors/room.1/temp", b'{"t": 21}', qos=1, properties=props)
        c.publish("sensors/x", b"second", qos=0)
        got = consumer.collect(2)
        assert len(got) == 2, got
        m, p, body = got[0]
        assert body == b'{"t": 21}'
        assert m.routing_key == "sensors.room%2E1.temp"  # the dot inside a level is escaped
        assert p.content_type == "application/json"
        assert p.correlation_id == "corr-1"
        assert p.reply_to == "r.s"
        assert p.delivery_mode == 2
        assert p.message_id and p.timestamp
        assert 0 < int(p.expiration) <= 600000
        assert p.headers["k1"] == b"v1" or p.headers["k1"] == "v1"
        assert "x-junction-origin" in p.headers
        assert got[1][2] == b"second" and got[1][1].delivery_mode == 1
    finally:
        consumer.close()


def test_mqtt_publish_reaches_pika_over_amqps(broker_factory, paho, rabbitmq):
    """The bridge connects to RabbitMQ's TLS listener (amqps://, verified
    against the test CA by DNS name); pika reads on the plain port. A second
    bridge trusting another CA fails the handshake, says why, and retries."""
    ex = unique("jtls")
    good = bridge_yaml(rabbitmq.tls_uri(), "sec", outbound=['{filter: "tls/#", exchange: %s, qos: 1}' % ex],
                       extra="tls: {ca_file: \"%s\", server_name: localhost}" % rabbitmq.pki["ca.crt"])
    bad = bridge_yaml(rabbitmq.tls_uri(), "untrusted", outbound=['{filter: "never/#", exchange: %s}' % ex],
                      extra="tls: {ca_file: \"%s\", server_name: localhost}" % rabbitmq.pki["other-ca.crt"])
    b = broker_factory(extra_yaml=good + bad[len("bridges:\n"):])
    wait_connected(b, "sec")
    consumer = Consumer(rabbitmq, ex, "tls.#")
    try:
        c = paho(b.port, version=V5)
        c.connect()
        c.publish("tls/dev1/temp", b"over tls", qos=1)
        got = consumer.collect(1)
        assert len(got) == 1, got
        assert got[0][0].routing_key == "tls.dev1.temp"
        assert got[0][2] == b"over tls"
        wait_log(b, r"bridge untrusted: cannot connect to 127\.0\.0\.1:%d: TLS handshake failed: .*verif" % rabbitmq.tls_port,
                 timeout=30)
        assert not re.search(r"bridge untrusted: connected;", b.log)
    finally:
        consumer.close()


def test_stomp_send_reaches_pika_with_headers(broker_factory, rabbitmq):
    ex = unique("jxs")
    b = broker_factory(stomp=True, extra_yaml=bridge_yaml(rabbitmq.uri(), "sout", outbound=[
        '{filter: "st/#", exchange: %s, qos: 1}' % ex]))
    wait_connected(b, "sout")
    consumer = Consumer(rabbitmq, ex, "#")
    st = Stomp(b.stomp_port)
    try:
        st.send("/topic/st/a.b", b"from stomp", receipt="r1", **{"content-type": "text/plain", "x-app": "42",
                                                                  "correlation-id": "cid-7"})
        got = consumer.collect(1)
        assert len(got) == 1
        m, p, body = got[0]
        assert body == b"from stomp"
        assert m.routing_key == "st.a%2Eb"
        assert p.content_type.startswith("text/plain")
        assert p.correlation_id == "cid-7"
        assert p.headers["x-app"] in (b"42", "42")
    finally:
        st.conn.disconnect()
        consumer.close()


# ------------------------------------------------------------ inbound

def test_pika_publish_reaches_mqtt_and_stomp_with_headers(broker_factory, paho, rabbitmq):
    ex = unique("jin")
    b = broker_factory(stomp=True, extra_yaml=bridge_yaml(rabbitmq.uri(), "in", inbound=[
        '{exchange: %s, binding_key: "cmd.#", topic_prefix: "up/", qos: 1}' % ex]))
    wait_connected(b, "in")
    sub = paho(b.port, version=V5)
    sub.connect()
    sub.subscribe("up/#", qos=1)
    st = Stomp(b.stomp_port)
    try:
        st.subscribe("/topic/up/cmd/#", sub_id="s1")
        amqp_publish(rabbitmq, ex, "cmd.dev%2E7.set", b"on", content_type="text/plain", correlation_id="c-9",
                     reply_to="replies.dev7", message_id="mid-1", headers={"h1": "v1", "n": 5})
        m = sub.get(timeout=20)
        assert m.topic == "up/cmd/dev.7/set"
        assert m.payload == b"on"
        mp = m.props
        assert mp["ContentType"] == "text/plain"
        assert mp["CorrelationData"] == b"c-9"
        assert mp["ResponseTopic"] == "replies/dev7"
        ups = dict(mp["UserProperty"])
        assert ups["h1"] == "v1" and ups["n"] == "5" and ups["message-id"] == "mid-1"
        f = st.listener.messages.get(timeout=20)
        assert f.body == b"on"
        assert f.headers["destination"] == "/topic/up/cmd/dev.7/set"
        assert f.headers["h1"] == "v1"
        assert f.headers["content-type"].startswith("text/plain")
    finally:
        st.conn.disconnect()


@pytest.mark.parametrize("dedup", [False, True])
def test_inbound_dedup_by_amqp_message_id(broker_factory, paho, rabbitmq, dedup):
    """With the bridge's dedup: true, a second delivery with the same AMQP
    message-id (RabbitMQ's redelivery after a reconnect, a producer's retry)
    reaches local subscribers once; without it, twice."""
    ex = unique("jdd")
    b = broker_factory(extra_yaml=bridge_yaml(rabbitmq.uri(), "dd", inbound=[
        '{exchange: %s, binding_key: "dd.#", topic_prefix: "in/", qos: 1}' % ex],
        extra="dedup: %s" % ("true" if dedup else "false")))
    wait_connected(b, "dd")
    sub = paho(b.port, version=V5)
    sub.connect()
    sub.subscribe("in/#", qos=1)
    amqp_publish(rabbitmq, ex, "dd.x", b"once", message_id="order-42")
    amqp_publish(rabbitmq, ex, "dd.x", b"once", message_id="order-42")
    amqp_publish(rabbitmq, ex, "dd.x", b"other", message_id="order-43")
    got = [m.payload for m in sub.get_n(2 if dedup else 3, timeout=20)]
    if dedup:
        assert got == [b"once", b"other"]
        sub.expect_nothing(1.0)
    else:
        assert got == [b"once", b"once", b"other"]


# ------------------------------------------------------------ limits

def _closed_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


DEAD_URI = "amqp://guest:guest@127.0.0.1:%d/" % _closed_port()


@pytest.mark.broker_options(extra_yaml=bridge_yaml(DEAD_URI, "full", outbound=['{filter: "o/#", exchange: x, qos: 1}'],
                                                   extra="outbox: {max_messages: 5, overflow: reject}"))
def test_outbox_limit_refuses_with_reason_code(broker, raw):
    """Upstream unreachable: the outbox fills to its limit, then QoS 1 publishes are refused (0x97)."""
    pub = raw(R.V5)
    pub.connect("ofull")
    for i in range(1, 9):
        pub.publish("o/x", b"%d" % i, qos=1, packet_id=i)
    acks = {}
    while len(acks) < 8:
        a = pub.expect(R.PUBACK, 5)
        acks[a.packet_id] = a.reason
    assert [acks[i] for i in range(1, 6)] == [0] * 5, acks
    assert [acks[i] for i in range(6, 9)] == [0x97] * 3, acks


@pytest.mark.broker_options(extra_yaml="sys: {interval_s: 1}\n" + bridge_yaml(
    DEAD_URI, "depth", outbound=['{filter: "d/#", exchange: x, qos: 1}']))
def test_outbox_depth_in_sys(broker, raw, msub):
    """Upstream unreachable: the outbox has no count limit by default (disk limits bound it; issue 18), and its
    depth is in $SYS (connection/amqp:<name>/outbox, next to .../state) for operators watching an outage."""
    sub = msub(broker.port, "$SYS/broker/connection/amqp:depth/outbox")
    pub = raw(R.V5)
    pub.connect("depth-pub")
    n = 300
    for i in range(1, n + 1):
        pub.publish("d/x", b"%d" % i, qos=1, packet_id=i)
    reasons = [pub.expect(R.PUBACK, 5).reason for _ in range(n)]
    assert reasons == [0] * n
    deadline = time.monotonic() + 10
    value = None
    while value != str(n) and time.monotonic() < deadline:
        value = sub.get(10).payload
    assert value == str(n)


# ------------------------------------------------------------ chaos

def test_kill9_with_outbox_then_resume(broker_factory, paho, rabbitmq, capsys):
    ex = unique("jk")
    consumer = Consumer(rabbitmq, ex, "k.#", durable=True)
    dead = DEAD_URI
    rule = '{filter: "k/#", exchange: %s, qos: 1}' % ex
    b = broker_factory(extra_yaml=bridge_yaml(dead, "k9", outbound=[rule]))
    c = paho(b.port, version=V5, client_id="pub-k9")
    c.connect()
    n = 50
    for i in range(n):
        c.publish("k/%d" % i, b"%d" % i, qos=1)  # acknowledged: in the outbox on disk
    c.drop()
    b.kill9()
    # Point the bridge at the real upstream and start again.
    with open(b.config_path) as f:
        text = f.read()
    with open(b.config_path, "w") as f:
        f.write(text.replace(dead, rabbitmq.uri()))
    b.restart()
    wait_connected(b, "k9")
    try:
        got = consumer.collect(n, timeout=60)
        bodies = [int(x[2]) for x in got]
        seen = []
        for v in bodies:
            if v not in seen:
                seen.append(v)
        lost = n - len(seen)
        dup = len(bodies) - len(seen)
        with capsys.disabled():
            print("\n[amqp kill -9] sent %d, confirmed by junction %d, received %d, lost %d, duplicated %d"
                  % (n, n, len(bodies), lost, dup))
        assert lost == 0
        assert seen == list(range(n))  # in order
    finally:
        consumer.ch.queue_delete(consumer.queue)
        consumer.close()


def test_two_nodes_scale_out_exactly_once(broker_factory, paho, rabbitmq):
    ex = unique("mesh")
    rules = dict(outbound=['{filter: "mesh/#", exchange: %s, qos: 1}' % ex],
                 inbound=['{exchange: %s, binding_key: "mesh.#", qos: 1}' % ex])
    a = broker_factory(stomp=True, extra_yaml=bridge_yaml(rabbitmq.uri(), "m", **rules))
    bnode = broker_factory(stomp=True, extra_yaml=bridge_yaml(rabbitmq.uri(), "m", **rules))
    wait_connected(a, "m")
    wait_connected(bnode, "m")
    sa = paho(a.port, version=V5)
    sa.connect()
    sa.subscribe("mesh/#", qos=1)
    sb = paho(bnode.port, version=V5)
    sb.connect()
    sb.subscribe("mesh/#", qos=1)
    stb = Stomp(bnode.stomp_port)
    sta = Stomp(a.stomp_port)
    try:
        stb.subscribe("/topic/mesh/#", sub_id="b")
        sta.subscribe("/topic/mesh/#", sub_id="a")
        pa = paho(a.port, version=V5)
        pa.connect()
        pb = paho(bnode.port, version=V5)
        pb.connect()
        n = 10
        for i in range(n):
            pa.publish("mesh/a", b"a%d" % i, qos=1)
            pb.publish("mesh/b", b"b%d" % i, qos=1)
        expect = sorted([b"a%d" % i for i in range(n)] + [b"b%d" % i for i in range(n)])
        for name, s in (("mqtt A", sa), ("mqtt B", sb)):
            got = sorted(m.payload for m in s.get_n(2 * n, timeout=30))
            assert got == expect, name
            s.expect_nothing(1.0)  # exactly once: nothing more comes
        for name, st in (("stomp A", sta), ("stomp B", stb)):
            got = sorted(st.listener.messages.get(timeout=30).body for _ in range(2 * n))
            assert got == expect, name
            time.sleep(0.5)
            assert st.listener.messages.empty(), name
    finally:
        stb.conn.disconnect()
        sta.conn.disconnect()


def test_rabbitmq_down_during_stream_loses_nothing(broker_factory, paho, rabbitmq, capsys):
    """Runs last in this file: it stops and restarts the shared RabbitMQ."""
    ex = unique("jc")
    consumer = Consumer(rabbitmq, ex, "c.#", durable=True)
    qname = consumer.queue
    consumer.close()
    b = broker_factory(extra_yaml=bridge_yaml(rabbitmq.uri(), "ch", outbound=['{filter: "c/#", exchange: %s, qos: 1}' % ex]))
    wait_connected(b, "ch")
    c = paho(b.port, version=V5, client_id="pub-chaos")
    c.connect()
    n = 300
    acked = 0
    for i in range(n // 3):
        c.publish("c/s", b"%d" % i, qos=1)
        acked += 1
    rabbitmq.stop()
    t_down = time.monotonic()
    for i in range(n // 3, 2 * n // 3):
        c.publish("c/s", b"%d" % i, qos=1)  # PUBACK from Junction's outbox while upstream is down
        acked += 1
    time.sleep(max(0.0, 20.0 - (time.monotonic() - t_down)))
    rabbitmq.start()
    for i in range(2 * n // 3, n):
        c.publish("c/s", b"%d" % i, qos=1)
        acked += 1
    wait_connected(b, "ch", count=2)
    conn = pika.BlockingConnection(rabbitmq.params())
    ch = conn.channel()
    bodies = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        m, p, body = ch.basic_get(qname, auto_ack=True)
        if m is None:
            if len(set(bodies)) >= n:
                break
            conn.process_data_events(0.1)
            continue
        bodies.append(int(body))
    ch.queue_delete(qname)
    conn.close()
    seen = []
    for v in bodies:
        if v not in seen:
            seen.append(v)
    lost = n - len(seen)
    with capsys.disabled():
        print("\n[amqp upstream down] sent %d, confirmed %d, received %d, lost %d, duplicated %d"
              % (n, acked, len(bodies), lost, len(bodies) - len(seen)))
    assert lost == 0
    assert seen == list(range(n))


@pytest.mark.parametrize("dedup", [False, True])
def test_round_trip_through_rabbitmq_stopped_mid_stream(broker_factory, paho, rabbitmq, capsys, dedup):
    """Node A exports c/# to RabbitMQ, node B imports it back as back/#;
    RabbitMQ is killed (SIGKILL) mid-stream and started again. A resends what was not
    confirmed (same message-id) and RabbitMQ redelivers what B had not
    acknowledged: without dedup a subscriber on B can see those twice; with
    the bridge's dedup: true it sees each message once. Nothing is lost
    either way. Stops and restarts the shared RabbitMQ."""
    ex = unique("jrt")
    a = broker_factory(extra_yaml=bridge_yaml(rabbitmq.uri(), "out", outbound=['{filter: "c/#", exchange: %s, qos: 1}' % ex]))
    bnode = broker_factory(extra_yaml=bridge_yaml(
        rabbitmq.uri(), "in", inbound=['{exchange: %s, binding_key: "c.#", topic_prefix: "back/", qos: 1}' % ex],
        extra="dedup: %s" % ("true" if dedup else "false")))
    wait_connected(a, "out")
    wait_connected(bnode, "in")
    sub = paho(bnode.port, version=V5)
    sub.connect()
    sub.subscribe("back/#", qos=1)
    pub = paho(a.port, version=V5, client_id=unique("rt-pub"), max_inflight=100)
    pub.connect()
    n = 1500
    got = []
    mids = []
    stopped = False
    for i in range(n):
        mids.append(pub.publish("c/s", b"%d" % i, qos=1, wait=False))
        if i % 50 == 49:
            time.sleep(0.02)  # a stream, not one burst
            while True:
                try:
                    got.append(int(sub.messages.get_nowait().payload))
                except Exception:  # noqa: BLE001 - queue.Empty
                    break
        if not stopped and len(got) >= n // 4:
            rabbitmq.stop(kill=True)  # mid-stream: exports unconfirmed, imports unacknowledged
            stopped = True
            time.sleep(2.0)
            rabbitmq.start()
    for mid in mids:
        pub.wait_published(mid, timeout=60)  # Junction's outbox took every one
    assert stopped, "the stream ended before the stop"
    wait_connected(a, "out", count=2)
    wait_connected(bnode, "in", count=2)
    got += [int(m.payload) for m in sub.drain(quiet=3.0, limit=120)]
    distinct = set(got)
    lost = n - len(distinct)
    dup = len(got) - len(distinct)
    with capsys.disabled():
        print("\n[amqp round trip, RabbitMQ killed mid-stream, dedup %s] sent %d, confirmed by node A %d, "
              "received on node B %d, lost %d, duplicated %d" % (dedup, n, n, len(got), lost, dup))
    assert lost == 0
    if dedup:
        assert dup == 0


# ------------------------------------------------------------ reload

def test_sighup_adds_changes_and_removes_a_bridge(broker_factory, paho, rabbitmq):
    import signal
    ex = unique("hup")
    b = broker_factory()
    consumer = Consumer(rabbitmq, ex, "#")
    pub = paho(b.port, version=V5)
    pub.connect()

    def reload(extra):
        b.extra_yaml = extra
        b._write_config()
        b.signal(signal.SIGHUP)

    try:
        reload(bridge_yaml(rabbitmq.uri(), "hup", outbound=['{filter: "one/#", exchange: %s, qos: 1}' % ex]))
        wait_log(b, r"SIGHUP: bridge amqp:hup started")
        wait_connected(b, "hup")
        pub.publish("one/a", b"first", qos=1)
        got = consumer.collect(1)
        assert [g[2] for g in got] == [b"first"]

        # Changed: the bridge restarts with its new rules.
        reload(bridge_yaml(rabbitmq.uri(), "hup", outbound=['{filter: "two/#", exchange: %s, qos: 1}' % ex]))
        wait_log(b, r"SIGHUP: bridge amqp:hup changed; stopping it")
        wait_log(b, r"SIGHUP: bridge amqp:hup started", count=2)
        wait_connected(b, "hup", count=2)
        pub.publish("one/b", b"not any more", qos=1)
        pub.publish("two/a", b"second", qos=1)
        got = consumer.collect(2, timeout=10)
        assert [g[2] for g in got] == [b"first", b"second"]

        # Removed: it stops; nothing goes upstream any more.
        reload("")
        wait_log(b, r"SIGHUP: bridge amqp:hup removed; stopping it")
        wait_log(b, r"bridge amqp:hup stopped", count=2)
        pub.publish("two/b", b"after removal", qos=1)
        got = consumer.collect(3, timeout=1.5)
        assert [g[2] for g in got] == [b"first", b"second"]
    finally:
        consumer.close()
