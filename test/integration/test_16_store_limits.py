"""The store's admission limits: `store.max_disk_bytes` (records the store may
hold) and `store.min_free_disk_bytes` (free space left on its filesystem,
RabbitMQ's disk_free_limit; here on a small tmpfs the test mounts). While a
limit holds, publishes that would write are refused with the protocol's
answer (paho MQTT 5: PUBACK 0x97; mosquitto_pub 3.1.1: disconnected; stomp.py:
ERROR naming the limit), `$SYS/broker/store/limit` names it, plain QoS 0
traffic and consumers go on; draining the queue frees the space and
publishes are accepted again. Everything acknowledged before is delivered.
"""

import os
import shutil
import subprocess
import time

import pytest

from clients import MOSQUITTO_PUB, MOSQUITTO_SUB, V5, PahoClient
from stomp_client import Stomp

pytestmark = [
    pytest.mark.junction_only("store admission limits are Junction's (Mosquitto has none)"),
    pytest.mark.timeout(180),
]

QUOTA_EXCEEDED = 0x97
PAYLOAD = 4096


def fill_until_refused(port, queue, limit_msgs):
    """QoS 1 publishes of PAYLOAD bytes until a PUBACK says 0x97; returns the accepted payloads."""
    pub = PahoClient(port, version=V5)
    pub.connect()
    accepted = []
    refused_at = None
    try:
        for i in range(limit_msgs):
            body = (b"%08d" % i) * (PAYLOAD // 8)
            mid = pub.publish("$queue/" + queue, body, qos=1, timeout=10)
            reason = pub.puback_reason(mid)
            if reason == QUOTA_EXCEEDED:
                refused_at = i
                break
            assert reason == 0, "PUBACK reason 0x%02x" % reason
            accepted.append(body)
    finally:
        pub.disconnect()
        pub.close()
    assert refused_at is not None, "no refusal after %d messages" % limit_msgs
    return accepted


def sys_value(port, name, timeout=5):
    r = subprocess.run([MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(port), "-t", "$SYS/broker/" + name,
                        "-C", "1", "-W", str(timeout)], capture_output=True, timeout=timeout + 5)
    return r.stdout.decode().strip()


def wait_sys(port, name, want, timeout=10):
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = sys_value(port, name, timeout=3)
        if seen == want:
            return
        time.sleep(0.3)
    raise AssertionError("$SYS/broker/%s is %r, not %r" % (name, seen, want))


def check_refusals(broker, limit_name):
    """Every protocol is told, and QoS 0 traffic to a plain topic still flows."""
    wait_sys(broker.port, "store/limit", limit_name)
    # MQTT 3.1.1 has no negative PUBACK: the broker closes, mosquitto_pub fails.
    r = subprocess.run([MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                        "-t", "$queue/fill", "-m", "x"], capture_output=True, timeout=15)
    assert r.returncode != 0, "mosquitto_pub QoS 1 succeeded while the store is at its limit"
    stomp = Stomp(broker.stomp_port, "1.2")
    try:
        stomp.conn.send("/queue/fill", "y", headers={"receipt": "r1"})
        errors = stomp.wait_errors(5)
        assert errors, "no ERROR for a SEND while the store is at its limit"
        assert limit_name in errors[0][0].get("message", "") + errors[0][1].decode(errors="replace")
    finally:
        stomp.close()
    sub = PahoClient(broker.port)
    pub = PahoClient(broker.port)
    sub.connect()
    pub.connect()
    try:
        sub.subscribe("plain/t", 0)
        pub.publish("plain/t", b"qos0 goes on", qos=0)
        assert sub.get(5).payload == b"qos0 goes on"
    finally:
        for c in (sub, pub):
            c.disconnect()
            c.close()


def drain_and_resume(broker, accepted, limit_name):
    """A consumer gets everything acknowledged, in order; then publishes are accepted again."""
    c = PahoClient(broker.port, version=V5)
    c.connect()
    try:
        c.subscribe("$queue/fill", 1)
        got = [m.payload for m in c.get_n(len(accepted), timeout=60)]
        assert got == accepted
        c.expect_nothing(0.5)
    finally:
        c.disconnect()
        c.close()
    wait_sys(broker.port, "store/limit", "none", timeout=15)
    pub = PahoClient(broker.port, version=V5)
    pub.connect()
    try:
        mid = pub.publish("$queue/fill", b"after", qos=1)
        assert pub.puback_reason(mid) == 0
    finally:
        pub.disconnect()
        pub.close()
    assert "store." + limit_name in broker.log


def test_max_disk_bytes(broker_factory):
    limit = 3_000_000
    b = broker_factory(stomp=True, store_extra="max_disk_bytes: %d, min_free_disk_bytes: 0" % limit,
                       extra_yaml="sys: {interval_s: 1}\n")
    accepted = fill_until_refused(b.port, "fill", 5000)
    held = len(accepted) * PAYLOAD
    # Refused near the limit: not long before (records carry some overhead),
    # not far past it (checked every sixteenth of it written).
    assert limit * 0.5 < held < limit * 1.3, "refused after %d bytes of payload" % held
    check_refusals(b, "max_disk_bytes")
    drain_and_resume(b, accepted, "max_disk_bytes")


@pytest.fixture
def small_fs(tmp_path):
    """A 32 MiB tmpfs of our own (root only; skipped where mounting is not allowed)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % r.stderr.decode().strip())
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_min_free_disk_bytes_on_a_small_filesystem(broker_factory, small_fs):
    reserve = 16 << 20
    b = broker_factory(stomp=True, data_dir=str(small_fs / "data"),
                       store_extra="min_free_disk_bytes: %d, map_size_mb: 1" % reserve,
                       extra_yaml="sys: {interval_s: 1}\n")
    try:
        accepted = fill_until_refused(b.port, "fill", 8000)
        free = shutil.disk_usage(str(small_fs)).free
        # Stopped near the reserve: it was not eaten into by more than one
        # check's worth of writes (a sixteenth of it) plus LMDB's own pages.
        assert free > reserve - (4 << 20), "only %d bytes free left on the filesystem" % free
        assert len(accepted) * PAYLOAD > 8 << 20, "refused early: %d messages" % len(accepted)
        check_refusals(b, "min_free_disk_bytes")
        drain_and_resume(b, accepted, "min_free_disk_bytes")
    finally:
        b.stop()  # before the filesystem goes
    assert os.path.isdir(str(small_fs / "data"))
