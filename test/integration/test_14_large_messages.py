"""14: large messages reach subscribers that read as fast as they can.

A subscriber is dropped QoS 0 / topic copies only when it is actually slow
(its connection made no progress for limits.slow_consumer_ms with
limits.outbound_buffer queued), not because one message is larger than the
outbound buffer. RabbitMQ's STOMP suite (test_send_multiple_with_a_large_message)
sends several large bodies back to back to topic subscribers; the same for
MQTT QoS 0 with paho.
"""

import hashlib
import queue
import socket
import time

import pytest

import raw_mqtt as R
from clients import V311, V5, PahoClient
from stomp_client import stomps  # noqa: F401 (fixture)

MIB = 1024 * 1024
BIG = 16 * MIB


def body(i):
    # Distinct, incompressible-looking bodies: a dropped or mixed-up one shows.
    seed = hashlib.sha256(b"big-%d" % i).digest()
    return (seed * (BIG // len(seed) + 1))[:BIG]


@pytest.mark.junction_only("STOMP front-end")
@pytest.mark.broker_options(stomp=True, extra_yaml="stomp: {max_frame_size: 33554432}\n")
@pytest.mark.timeout(180)
def test_stomp_topic_subscribers_get_every_large_message(broker, stomps):
    subs = [stomps(broker.stomp_port, "1.2") for _ in range(2)]
    for i, s in enumerate(subs):
        s.subscribe("/topic/big", sub_id="s%d" % i)
    pub = stomps(broker.stomp_port, "1.2")
    for i in range(3):
        pub.conn.send("/topic/big", body(i))
    pub.send("/topic/big", b"end", receipt="sent")
    for s in subs:
        got = s.get_n(4, timeout=120)
        assert [len(f.body) for f in got] == [BIG, BIG, BIG, 3]
        assert [f.body for f in got[:3]] == [body(i) for i in range(3)]
    assert "slow consumer" not in broker.log


@pytest.mark.broker_options(limits={"max_packet_size": 33554432})
@pytest.mark.parametrize("version", [V311, V5])
@pytest.mark.timeout(180)
def test_mqtt_qos0_subscribers_get_every_large_message(broker, version):
    subs = []
    try:
        for _ in range(2):
            s = PahoClient(broker.port, version=version)
            s.connect()
            s.subscribe("big", 0)
            subs.append(s)
        pub = PahoClient(broker.port, version=version)
        pub.connect()
        subs.append(pub)
        for i in range(3):
            pub.publish("big", body(i), qos=0)
        pub.publish("big", b"end", qos=0)
        for s in subs[:2]:
            got = s.get_n(4, timeout=120)
            assert [len(m.payload) for m in got] == [BIG, BIG, BIG, 3]
            assert [m.payload for m in got[:3]] == [body(i) for i in range(3)]
    finally:
        for s in subs:
            s.close()


@pytest.mark.junction_only("limits.slow_consumer_ms, $SYS drop reasons")
@pytest.mark.broker_options(junction_limits={"slow_consumer_ms": 1000, "outbound_buffer": 65536},
                            extra_yaml="sys: {interval_s: 1}\n")
@pytest.mark.timeout(120)
def test_a_stalled_subscriber_is_a_slow_consumer_and_the_others_get_everything(broker):
    # A subscriber that stops reading (tiny receive buffer, never read) is
    # dropped QoS 0 copies once it made no progress for slow_consumer_ms;
    # a subscriber that reads gets every message; the drops are counted.
    stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", broker.port))
    stalled.sendall(R.connect("stalled") + R.subscribe(1, [("flood", 0)]))
    healthy = PahoClient(broker.port)
    pub = PahoClient(broker.port)
    stats = PahoClient(broker.port)
    try:
        healthy.connect()
        healthy.subscribe("flood", 0)
        stats.connect()
        stats.subscribe("$SYS/broker/publish/messages/dropped/slow_consumer", 0)
        pub.connect()
        chunk = b"x" * (16 * 1024)
        # Publish until the broker reports a drop: the kernel's buffers and
        # the 64 KiB outbound buffer fill first, then slow_consumer_ms passes.
        n, dropped = 0, 0
        deadline = time.monotonic() + 30
        while dropped == 0 and time.monotonic() < deadline:
            for _ in range(50):
                pub.publish("flood", b"%06d" % n + chunk, qos=0)
                n += 1
            time.sleep(0.2)
            while True:
                try:
                    dropped = int(stats.messages.get_nowait().payload)
                except queue.Empty:
                    break
        assert dropped > 0, "no QoS 0 copy was dropped for a subscriber that stopped reading"
        pub.publish("flood", b"end", qos=0)
        got = healthy.get_n(n + 1, timeout=60)
        assert [m.payload[:6] for m in got[:n]] == [b"%06d" % i for i in range(n)]
        assert "slow consumer" in broker.log
    finally:
        for c in (healthy, pub, stats):
            c.close()
        stalled.close()
