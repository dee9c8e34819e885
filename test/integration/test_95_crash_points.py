"""95: crash points (issue 16): test/reliability/crash_points.py, a mixed
workload of paho QoS 1 and QoS 2 producers, a persistent subscriber, stomp.py
queue SENDs with receipts, transactions and a client-individual consumer,
retained updates and session takeovers, with the broker killed (-9) at
random moments and restarted. Here with 2 kills (the 20-kill run and its
table are in docs/RELIABILITY.md): nothing acknowledged is lost, no QoS 2
message is duplicated, the last acknowledged retained value (or a later one)
is retained, and the broker still shuts down cleanly."""

import json
import os
import subprocess

import pytest

import broker as broker_mod

pytestmark = pytest.mark.junction_only("kill -9 of Junction with its store")

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reliability", "crash_points.py")


@pytest.mark.timeout(180)
def test_kill9_at_random_moments_loses_nothing_acknowledged(tmp_path):
    out = tmp_path / "counts.json"
    r = subprocess.run(["/usr/bin/python3", SCRIPT, "--junction", broker_mod.junction_bin(), "--kills", "2",
                        "--min-gap", "0.5", "--max-gap", "1.0", "--json", str(out)],
                       capture_output=True, text=True, timeout=170)
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    counts = json.loads(out.read_text())
    for path, row in counts["paths"].items():
        assert row["lost"] == 0, (path, row)
        assert row["acknowledged"] > 0, (path, row)
    assert counts["paths"]["q2"]["duplicated"] == 0
    assert counts["retained"]["behind"] == 0
    assert counts["final_exit"] == 0
