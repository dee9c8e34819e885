"""10: crash test. kill -9 the broker in the middle of a QoS 1 load; restart;
every message the publisher got a PUBACK for must reach the persistent
subscriber. Prints `crash test (<mode>): N acked, R received, lost L, duplicated D`.

Against Mosquitto this is expected to lose messages (it saves only on
autosave), so it is junction_only; set JUNCTION_CRASH_ANY_TARGET=1 to run it
against Mosquitto anyway and watch it detect the loss.
"""

import collections
import os
import threading
import time

import pytest

from clients import V311, V5, PahoClient, unique

N = int(os.environ.get("JUNCTION_CRASH_N", "2000"))

if os.environ.get("JUNCTION_CRASH_ANY_TARGET") == "1":
    crash_mark = pytest.mark.slow
else:
    crash_mark = pytest.mark.junction_only(
        "Mosquitto persists only on autosave, so kill -9 loses acknowledged messages")


def run_crash(broker, mode, n=N, kill_at=0.5):
    topic = unique("crash/t")
    sub_id = unique("crash-sub")

    sub = PahoClient(broker.port, client_id=sub_id, version=V5, clean=False, session_expiry=3600)
    try:
        sub.connect()
        assert sub.subscribe(topic, 1) == [1]
        sub.disconnect()
    finally:
        sub.close()

    # v3.1.1 publisher: a PUBACK means "accepted" with no reason code to misread.
    pub = PahoClient(broker.port, client_id=unique("crash-pub"), version=V311, max_inflight=100)
    pub.connect()
    mid_to_num = {}
    lock = threading.Lock()
    done_publishing = threading.Event()

    def publisher():
        try:
            for i in range(n):
                if pub.gone.is_set():
                    break
                info = pub.c.publish(topic, str(i).encode(), qos=1)
                with lock:
                    mid_to_num[info.mid] = i
        finally:
            done_publishing.set()

    t = threading.Thread(target=publisher, name="crash-publisher", daemon=True)
    t.start()
    want = int(n * kill_at)
    deadline = time.monotonic() + 60
    with pub.pub_lock:
        ok = pub.pub_lock.wait_for(lambda: len(pub.published) >= want or pub.gone.is_set(),
                                   max(0.0, deadline - time.monotonic()))
    acked_before_kill = len(pub.published)
    assert ok and not pub.gone.is_set(), "only %d PUBACKs before the deadline" % acked_before_kill
    broker.kill9()
    killed_at = time.monotonic()
    pub.wait_gone(10)
    done_publishing.wait(10)
    t.join(10)
    pub.close()
    with lock, pub.pub_lock:
        acked = {mid_to_num[m] for m in pub.published if m in mid_to_num}
        unmapped = [m for m in pub.published if m not in mid_to_num]
    assert not unmapped, "PUBACK for unknown mids %r" % unmapped[:10]
    assert len(acked) < n, "the broker was killed after the publisher had finished; no crash tested"

    broker.start()
    recovered_in = time.monotonic() - killed_at
    sub2 = PahoClient(broker.port, client_id=sub_id, version=V5, clean=False, session_expiry=3600,
                      max_inflight=100)
    try:
        ack = sub2.connect(timeout=15)
        session_present = ack.session_present
        received = []
        seen = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            batch = sub2.drain(quiet=3.0 if not acked <= seen else 1.0, limit=5)
            if not batch:
                break
            for m in batch:
                received.append(int(m.payload))
                seen.add(int(m.payload))
        sub2.disconnect()
    finally:
        sub2.close()

    counts = collections.Counter(received)
    lost = sorted(acked - seen)
    duplicated = sum(c - 1 for c in counts.values() if c > 1)
    line = "crash test (%s): %d acked, %d received, lost %d, duplicated %d" % (
        mode, len(acked), len(seen), len(lost), duplicated)
    detail = "(N=%d, killed after %d PUBACKs, restart+reconnect %.2fs, session present %s, first lost %r)" % (
        n, acked_before_kill, recovered_in, session_present, lost[:10])
    return line, detail, lost, received, acked, session_present


@crash_mark
@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", ["batch", "sync"])
def test_crash_kill9_loses_nothing_acknowledged(broker_factory, summary, mode):
    opts = {"durability": mode}
    b = broker_factory(**opts, mosquitto_autosave=1800)
    line, detail, lost, received, acked, session_present = run_crash(b, mode)
    print(line, detail)
    summary("%s %s" % (line, detail))
    assert session_present, "the persistent session did not survive kill -9: %s %s" % (line, detail)
    assert all(0 <= x < N for x in received), "received numbers that were never published"
    assert lost == [], "%s %s" % (line, detail)
