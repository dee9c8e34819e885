"""20: junction-bench, the load generator, for a second or two against the
broker under test and against its own discard sink: messages flow, nothing
acknowledged is lost, latency percentiles are ordered, bad arguments exit 2,
an unreachable broker exits 1. (Benchmarks themselves are not timed here.)

Binary: JUNCTION_BENCH_BIN or build/bench/junction-bench.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from broker import REPO, free_port

BENCH = os.environ.get("JUNCTION_BENCH_BIN", os.path.join(REPO, "build", "bench", "junction-bench"))

pytestmark = pytest.mark.skipif(not os.access(BENCH, os.X_OK),
                                reason="junction-bench not built (%s); ninja -C build" % BENCH)


def bench(*args, timeout=60):
    p = subprocess.run([BENCH] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def bench_json(*args):
    rc, out, err = bench(*args, "--json", "-", "-q")
    assert rc == 0, "junction-bench exit %d\nstdout:\n%s\nstderr:\n%s" % (rc, out, err)
    return json.loads(out)


def assert_ordered(lat):
    assert lat["count"] > 0
    assert 0 <= lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat


@pytest.mark.timeout(60)
@pytest.mark.parametrize("qos", [0, 1])
def test_pairs_messages_flow(broker, qos):
    r = bench_json("pairs", "-N", 2, "--duration", 1, "--warmup", 0.2, "--qos", qos, "--port", broker.port)
    assert r["ok"] and r["error"] is None
    assert r["scenario"] == "pairs" and r["publishers"] == 2 and r["subscribers"] == 2
    assert r["published"] > 0
    assert r["delivered"] > 0
    assert r["delivered_per_s"] > 0
    if qos == 1:
        assert r["acked"] > 0
        assert r["lost"] == 0, "the broker acknowledged messages it never delivered"
    else:
        assert r["lost"] is None  # no acknowledgements at QoS 0
    assert_ordered(r["latency_us"])


@pytest.mark.timeout(60)
def test_latency_percentiles_ordered(broker):
    r = bench_json("latency", "--rate", 2000, "--qos", 1, "--duration", 1, "--warmup", 0.2, "--port", broker.port)
    assert r["ok"]
    assert r["rate"] == 2000
    # Fixed rate: never faster than asked (slower only if the broker's acks
    # hold the window: the suite's Mosquitto saves its database on every change).
    assert 0 < r["published_per_s"] <= 2600, r["published_per_s"]
    assert r["delivered"] > 0 and r["lost"] == 0
    assert_ordered(r["latency_us"])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("wait_connack", [False, True])
def test_conns_reads_broker_rss(broker, wait_connack):
    # By default each SUBSCRIBE leaves in the same write as its CONNECT (MQTT
    # allows it), so the broker must take both packets from one read.
    extra = ["--wait-connack"] if wait_connack else []
    r = bench_json("conns", "-K", 50, "--hold", 0.2, "--port", broker.port, "--broker-pid", broker.pid, *extra)
    assert r["ok"]
    assert r["subscribe_with_connect"] is (not wait_connack)
    assert r["connections"] == 50 and not r["capped"]
    assert r["connect_rate"] > 0
    assert r["rss_before_kb"] > 0 and r["rss_after_kb"] > 0
    assert r["rss_per_connection_bytes"] is not None


@pytest.mark.timeout(60)
def test_sink_ceiling(tmp_path):
    out = tmp_path / "sink.json"
    sink = subprocess.Popen([BENCH, "sink", "--port", "0", "-q", "--json", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = sink.stderr.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert m, "no 'listening on' line from the sink: %r" % line
        port = int(m.group(1))
        r = bench_json("fanin", "-P", 2, "-S", 2, "--qos", 1, "--duration", 1, "--warmup", 0.2, "--port", port)
        assert r["ok"] and r["published"] > 0 and r["delivered"] > 0
        assert r["lost"] == 0  # the sink reflects exact-topic publishes to subscribers
    finally:
        sink.send_signal(signal.SIGINT)
        try:
            rc = sink.wait(10)
        except subprocess.TimeoutExpired:
            sink.kill()
            raise
    assert rc == 0
    s = json.loads(out.read_text())
    assert s["scenario"] == "sink" and s["received"] > 0 and s["reflected"] > 0


def test_bad_arguments_exit_2():
    for args in (["nosuchscenario"], ["fanin", "--rate", "-5"], ["fanin", "--host", "10.1.2.3"],
                 ["fanin", "--qos", "3"], []):
        rc, out, err = bench(*args)
        assert rc == 2, (args, rc, err)
        assert "junction-bench:" in err


@pytest.mark.timeout(30)
def test_unreachable_broker_exits_1():
    port = free_port()  # nobody listens there
    t0 = time.monotonic()
    rc, out, err = bench("pairs", "-N", 1, "--duration", 1, "--port", port)
    assert rc == 1
    assert "cannot connect to 127.0.0.1:%d" % port in err
    assert time.monotonic() - t0 < 10
