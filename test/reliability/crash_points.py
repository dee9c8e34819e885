#!/usr/bin/python3
"""crash_points.py: kill -9 the broker at random moments of a mixed workload,
restart it each time, and count per path what was acknowledged, lost,
duplicated and reordered (issue 16, "Crash points"; docs/RELIABILITY.md).

The workload, all through clients other people wrote:
  q1   paho MQTT 3.1.1 QoS 1 producers (persistent sessions; paho resends
       what was in flight when it reconnects)
  q2   paho MQTT 5 QoS 2 producers (the same; exactly once expected)
  sub  one paho MQTT 5 persistent subscriber (QoS 2 on cp/q2/#, QoS 1 on cp/q1/#)
  queue     stomp.py SEND with receipt to /queue/cp-queue
  tx        stomp.py BEGIN, 3 x SEND, COMMIT with receipt, to the same queue
  consumer  stomp.py client-individual consumer of /queue/cp-queue, ACK per message
  retained  paho QoS 1 retained updates of cp/retained/<k> (the last acknowledged
            value, or a later one, must be retained at the end)
  takeover  two paho connections taking one client id from each other
Acknowledged: PUBACK/PUBCOMP (paho's on_publish), RECEIPT (STOMP). Lost: an
acknowledged message never received. Duplicated: received more than once
(QoS 1 and the queue's redeliveries of unacknowledged messages are allowed
to; QoS 2 is not). Reordered: a message received after a later one of the
same producer (first receptions only).

Usage: crash_points.py --junction BIN [--kills 20] [--seed N] [--json OUT]
Exit status 1 if anything acknowledged was lost or a QoS 2 message was
duplicated. Loopback only; the broker and its data live in a temporary
directory that is removed.
"""

import argparse
import collections
import faulthandler
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt
import stomp
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes


def bounded(fn, seconds, *args):
    """Runs fn in a daemon thread for at most `seconds` (client libraries can
    block forever on a connection that died mid-handshake); returns its
    result, or None if it did not finish."""
    out = []
    t = threading.Thread(target=lambda: out.append(fn(*args)), daemon=True)
    t.start()
    t.join(seconds)
    return out[0] if out else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Broker:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.mqtt = free_port()
        self.stomp = free_port()
        self.proc = None
        self.log = os.path.join(workdir, "broker.log")
        with open(os.path.join(workdir, "junction.yaml"), "w") as f:
            f.write("listeners:\n"
                    "  - {protocol: mqtt, bind: 127.0.0.1, port: %d}\n"
                    "  - {protocol: stomp, bind: 127.0.0.1, port: %d}\n"
                    "store: {path: %s, durability: batch}\n"
                    "log: {level: notice}\n" % (self.mqtt, self.stomp, os.path.join(workdir, "data")))

    def start(self):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([self.binary, "-c", os.path.join(self.workdir, "junction.yaml")],
                                     stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.monotonic() + 30
        while not (port_open(self.mqtt) and port_open(self.stomp)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("broker did not start; log tail:\n" + open(self.log).read()[-3000:])
            time.sleep(0.02)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            return "hung"


class Ledger:
    """What each path sent, had acknowledged and received (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = collections.defaultdict(set)          # path -> {(producer, seq)}
        self.received = collections.defaultdict(list)      # path -> [(producer, seq)] in arrival order

    def ack(self, path, key):
        with self.lock:
            self.acked[path].add(key)

    def got(self, path, key):
        with self.lock:
            self.received[path].append(key)

    def summary(self, path):
        with self.lock:
            acked = set(self.acked[path])
            arrivals = list(self.received[path])
        counts = collections.Counter(arrivals)
        lost = sorted(acked - set(counts))
        duplicated = sum(n - 1 for n in counts.values())
        reordered = 0
        highest = {}
        seen = set()
        for producer, seq in arrivals:
            if (producer, seq) in seen:
                continue
            seen.add((producer, seq))
            if seq < highest.get(producer, -1):
                reordered += 1
            highest[producer] = max(seq, highest.get(producer, -1))
        return {"acknowledged": len(acked), "received": len(counts), "lost": len(lost), "lost_examples": lost[:5],
                "duplicated": duplicated, "reordered": reordered}


def mqtt_client(client_id, version, port, clean=False):
    if version == mqtt.MQTTv5:
        c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5)
    else:
        c = mqtt.Client(client_id=client_id, clean_session=clean, protocol=version)
    c.max_inflight_messages_set(20)
    c.max_queued_messages_set(0)
    c.reconnect_delay_set(0.05, 0.5)
    kw = {}
    if version == mqtt.MQTTv5:
        p = Properties(PacketTypes.CONNECT)
        p.SessionExpiryInterval = 3600
        kw = {"clean_start": False, "properties": p}
    c.connect_async("127.0.0.1", port, keepalive=30, **kw)
    return c


class MqttProducer(threading.Thread):
    def __init__(self, ledger, port, path, name, qos, version, stop, rate=150):
        super().__init__(daemon=True)
        self.ledger, self.path, self.name, self.qos, self.stop, self.rate = ledger, path, name, qos, stop, rate
        self.mids = {}
        self.mid_lock = threading.Lock()
        self.c = mqtt_client("cp-" + name, version, port)
        self.c.on_publish = self.on_publish
        self.sent = 0

    def on_publish(self, client, userdata, mid):
        with self.mid_lock:
            seq = self.mids.pop(mid, None)
        if seq is not None:
            self.ledger.ack(self.path, (self.name, seq))

    def run(self):
        self.c.loop_start()
        seq = 0
        while not self.stop.is_set():
            # New messages only while connected: paho queues what is published
            # while it is away and its resend on reconnect races with new
            # publishes (a client-side reorder, seen here without any crash).
            if not self.c.is_connected():
                time.sleep(0.01)
                continue
            with self.mid_lock:
                info = self.c.publish("cp/%s/%s" % (self.path, self.name), b"%s:%d" % (self.name.encode(), seq),
                                      qos=self.qos)
                self.mids[info.mid] = seq
            seq += 1
            self.sent = seq
            time.sleep(1.0 / self.rate)

    def finish(self, timeout):
        # What paho still holds goes out once the broker is back; wait for it.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.mid_lock:
                if not self.mids:
                    break
            time.sleep(0.1)
        self.c.loop_stop()
        self.c.disconnect()


class MqttSubscriber:
    def __init__(self, ledger, port):
        self.ledger = ledger
        self.last = time.monotonic()
        self.c = mqtt_client("cp-subscriber", mqtt.MQTTv5, port)
        self.c.on_connect = self.on_connect
        self.c.on_message = self.on_message
        self.subscribed = threading.Event()

    def on_connect(self, client, userdata, flags, rc, properties=None):
        client.subscribe([("cp/q2/#", 2), ("cp/q1/#", 1)])
        self.subscribed.set()

    def on_message(self, client, userdata, m):
        self.last = time.monotonic()
        path = m.topic.split("/")[1]
        name, seq = m.payload.decode().split(":")
        self.ledger.got(path, (name, int(seq)))

    def start(self):
        self.c.loop_start()
        if not self.subscribed.wait(10):
            raise RuntimeError("subscriber did not connect")


class StompWorker(threading.Thread):
    """Queue producer (receipts), transactional producer, or consumer."""

    def __init__(self, ledger, port, role, stop):
        super().__init__(daemon=True)
        self.ledger, self.port, self.role, self.stop = ledger, port, role, stop
        self.receipts = {}
        self.lock = threading.Lock()
        self.last = time.monotonic()
        self.conn = None

    # listener callbacks
    def on_receipt(self, frame):
        with self.lock:
            keys = self.receipts.pop(frame.headers.get("receipt-id"), [])
        for k in keys:
            self.ledger.ack("queue" if self.role == "queue" else "tx", k)

    def on_message(self, frame):
        self.last = time.monotonic()
        body = frame.body.decode() if isinstance(frame.body, bytes) else frame.body
        path, name, seq = body.split(":")
        self.ledger.got(path, (name, int(seq)))
        try:
            self.conn.ack(frame.headers["ack"])
        except Exception:  # the broker went away: redelivered later
            pass

    def on_error(self, frame):
        pass

    def on_disconnected(self):
        pass

    def connect(self):
        while not self.stop.is_set() or self.role == "consumer":
            try:
                conn = stomp.Connection12([("127.0.0.1", self.port)], reconnect_attempts_max=1, auto_decode=False)
                conn.set_listener("w", self)
                conn.connect(wait=True)
                if self.role == "consumer":
                    conn.subscribe("/queue/cp-queue", "c1", ack="client-individual", headers={"prefetch-count": "50"})
                self.conn = conn
                return True
            except Exception:
                if self.stop.is_set() and self.role != "consumer":
                    return False
                time.sleep(0.1)
        return False

    def run(self):
        if not self.connect():
            return
        seq = 0
        while not self.stop.is_set():
            if self.role == "consumer":
                if not self.conn.is_connected():
                    self.connect()
                time.sleep(0.05)
                continue
            try:
                if not self.conn.is_connected():
                    if not self.connect():
                        return
                rid = "r-%s-%d" % (self.role, seq)
                if self.role == "queue":
                    with self.lock:
                        self.receipts[rid] = [("queue", seq)]
                    self.conn.send("/queue/cp-queue", b"queue:queue:%d" % seq, headers={"receipt": rid})
                    seq += 1
                else:
                    tx = "t%d" % seq
                    keys = [("tx", seq + i) for i in range(3)]
                    with self.lock:
                        self.receipts[rid] = keys
                    self.conn.begin(transaction=tx)
                    for i in range(3):
                        self.conn.send("/queue/cp-queue", b"tx:tx:%d" % (seq + i), transaction=tx)
                    self.conn.commit(transaction=tx, headers={"receipt": rid})
                    seq += 3
            except Exception:
                time.sleep(0.1)
            time.sleep(0.01)

    def close(self):
        try:
            self.conn.disconnect()
        except Exception:
            pass


class Retained(threading.Thread):
    def __init__(self, port, stop, keys=5):
        super().__init__(daemon=True)
        self.stop, self.keys = stop, keys
        self.acked = {}  # key -> highest acknowledged value
        self.mids = {}
        self.lock = threading.Lock()
        self.c = mqtt_client("cp-retained", mqtt.MQTTv311, port)
        self.c.on_publish = self.on_publish

    def on_publish(self, client, userdata, mid):
        with self.lock:
            kv = self.mids.pop(mid, None)
            if kv:
                self.acked[kv[0]] = max(kv[1], self.acked.get(kv[0], -1))

    def run(self):
        self.c.loop_start()
        n = 0
        while not self.stop.is_set():
            k = n % self.keys
            with self.lock:
                info = self.c.publish("cp/retained/%d" % k, b"%d" % n, qos=1, retain=True)
                self.mids[info.mid] = (k, n)
            n += 1
            time.sleep(0.02)

    def check(self, port):
        self.c.loop_stop()
        self.c.disconnect()
        got = {}
        done = threading.Event()
        r = mqtt.Client(client_id="cp-retained-check", protocol=mqtt.MQTTv311)

        def on_message(c, u, m):
            got[int(m.topic.rsplit("/", 1)[1])] = int(m.payload)
            if len(got) == self.keys:
                done.set()

        r.on_message = on_message
        r.on_connect = lambda c, u, f, rc: c.subscribe("cp/retained/#", 1)
        r.connect("127.0.0.1", port)
        r.loop_start()
        done.wait(10)
        r.loop_stop()
        r.disconnect()
        behind = {k: (v, got.get(k)) for k, v in self.acked.items() if got.get(k, -1) < v}
        return {"keys": self.keys, "acknowledged_updates": len(self.acked), "behind": len(behind),
                "examples": list(behind.items())[:3]}


class Takeover(threading.Thread):
    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        self.count = 0

    def run(self):
        while not self.stop.is_set():
            try:
                c = mqtt.Client(client_id="cp-taken", clean_session=False, protocol=mqtt.MQTTv311)
                c.connect("127.0.0.1", self.port, keepalive=10)
                c.loop(0.1)
                self.count += 1
                time.sleep(0.2)
                c.disconnect()
            except Exception:
                time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--junction", required=True)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--min-gap", type=float, default=0.6, help="seconds between kills, at least")
    ap.add_argument("--max-gap", type=float, default=2.5, help="seconds between kills, at most")
    ap.add_argument("--json", default=None, help="write the counts here")
    ap.add_argument("--keep", action="store_true", help="keep the broker's directory")
    args = ap.parse_args()
    logging.getLogger("stomp.py").setLevel(logging.CRITICAL)  # its reconnect attempts while the broker is down
    seed = args.seed if args.seed is not None else int(time.time())
    rnd = random.Random(seed)

    # A hang anywhere ends the run with every thread's stack on stderr.
    faulthandler.dump_traceback_later(args.kills * (args.max_gap + 3) + 180, exit=True)
    workdir = tempfile.mkdtemp(prefix="crash-points-")
    broker = Broker(os.path.abspath(args.junction), workdir)
    broker.start()
    ledger = Ledger()
    stop = threading.Event()
    sub = MqttSubscriber(ledger, broker.mqtt)
    sub.start()
    producers = [MqttProducer(ledger, broker.mqtt, "q1", "p1-%d" % i, 1, mqtt.MQTTv311, stop) for i in range(2)]
    producers += [MqttProducer(ledger, broker.mqtt, "q2", "p2-%d" % i, 2, mqtt.MQTTv5, stop) for i in range(2)]
    consumer = StompWorker(ledger, broker.stomp, "consumer", stop)
    stomp_producers = [StompWorker(ledger, broker.stomp, "queue", stop), StompWorker(ledger, broker.stomp, "tx", stop)]
    retained = Retained(broker.mqtt, stop)
    takeover = Takeover(broker.mqtt, stop)
    workers = producers + stomp_producers + [consumer, retained, takeover]
    for w in workers:
        w.start()

    started = time.monotonic()
    kill_times = []
    for i in range(args.kills):
        time.sleep(rnd.uniform(args.min_gap, args.max_gap))
        kill_times.append(round(time.monotonic() - started, 2))
        broker.kill9()
        broker.start()
    time.sleep(1.0)
    stop.set()
    for p in producers:
        bounded(p.finish, 20, 15)
    for w in stomp_producers:
        w.join(5)
        bounded(w.close, 5)
    # Let every delivery arrive: quiet for 2 s on both subscribers.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if time.monotonic() - sub.last > 2 and time.monotonic() - consumer.last > 2:
            break
        time.sleep(0.2)
    retained_result = bounded(retained.check, 30, broker.mqtt) or {
        "keys": retained.keys, "acknowledged_updates": len(retained.acked), "behind": -1, "examples": ["check hung"]}
    bounded(consumer.close, 5)
    bounded(sub.c.loop_stop, 5)
    rc = broker.stop()

    rows = {path: ledger.summary(path) for path in ("q1", "q2", "queue", "tx")}
    result = {"seed": seed, "kills": args.kills, "kill_times_s": kill_times, "paths": rows,
              "retained": retained_result, "takeovers": takeover.count, "final_exit": rc}
    print("crash points: %d kill -9 (seed %d) at %s s" % (args.kills, seed, kill_times))
    print("| path | acknowledged | received | lost | duplicated | reordered |")
    print("|---|---:|---:|---:|---:|---:|")
    labels = {"q1": "MQTT QoS 1 (paho, 2 producers)", "q2": "MQTT QoS 2 (paho v5, 2 producers)",
              "queue": "STOMP queue SEND+receipt", "tx": "STOMP transactions (3 SENDs, COMMIT+receipt)"}
    for path, r in rows.items():
        print("| %s | %d | %d | %d | %d | %d |" % (labels[path], r["acknowledged"], r["received"], r["lost"],
                                                  r["duplicated"], r["reordered"]))
    print("retained: %d keys, %d acknowledged updates, %d keys behind their last acknowledged value"
          % (retained_result["keys"], retained_result["acknowledged_updates"], retained_result["behind"]))
    print("takeovers: %d; final SIGTERM exit: %s" % (takeover.count, rc))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    bad = [p for p, r in rows.items() if r["lost"]] + (["retained"] if retained_result["behind"] else [])
    faulthandler.cancel_dump_traceback_later()
    if rows["q2"]["duplicated"]:
        bad.append("q2 duplicated")
    if rc != 0:
        bad.append("exit %s" % rc)
    if args.keep:
        print("broker directory kept: %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if bad:
        print("FAILED: %s" % ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
