"""/metrics as Prometheus itself sees it.

Junction serves the Prometheus text exposition (0.0.4) at GET /metrics of an
http listener (gateway/admin/metrics.cpp). Here Debian's real Prometheus
(/usr/bin/prometheus, package prometheus) scrapes a running broker every
second from its own temporary config and data directory, and the tests ask
Prometheus's HTTP API (/api/v1/query) for what it stored:

- after known MQTT (paho) and STOMP (stomp.py) traffic,
  junction_messages_received_total{protocol="mqtt"|"stomp"} reach exactly the
  published counts, junction_messages_delivered_total the deliveries,
  up{job=...} is 1, junction_connections follows the clients (and drops when
  they leave), junction_queue_messages{queue=...} counts what went to
  $queue/<name>;
- `promtool check metrics` (Debian's promtool) finds no lint problem in a
  live scrape taken after mixed traffic (MQTT, STOMP, a queue with an
  unacknowledged consumer, retained, a delayed message);
- with a password file and http.admin_users, /metrics needs an admin's HTTP
  Basic credentials (401 / 403 / 200; Prometheus with basic_auth scrapes it,
  without gets up == 0); http.public_metrics opens /metrics alone.

Prometheus and promtool missing is a failure, not a skip (scripts/install-deps --test).
"""

import base64
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import broker as broker_mod
from stomp_client import Stomp

PROMETHEUS = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("PROMTOOL_BIN", "/usr/bin/promtool")
INSTALL_HINT = "Debian packages prometheus / prometheus (promtool); run scripts/install-deps --test (as root)"
JOB = "junction"

pytestmark = pytest.mark.junction_only("the admin http listener's /metrics (Prometheus exposition)")


def _fail(msg):
    pytest.fail(msg, pytrace=False)


# ------------------------------------------------------------------ HTTP

def http_get(port, path, auth=None, timeout=5.0):
    """(status, headers, body bytes); HTTP errors are answers too. auth: (user, password)."""
    headers = {}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def wait_http(port, what, timeout=10.0, auth=None):
    """Waits until GET /metrics on `port` answers at all (any status)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            return http_get(port, "/metrics", auth=auth)
        except OSError as e:
            last = e
        time.sleep(0.05)
    _fail("%s: GET /metrics on port %d never answered: %s" % (what, port, last))


def start_broker(broker_factory, **kw):
    """Junction with an MQTT, a STOMP and an http listener; returns (broker, http_port)."""
    b = broker_factory(stomp=True, listeners=[{"protocol": "http"}], **kw)
    port = b.listener_ports[0]
    wait_http(port, "junction http listener")
    return b, port


# ------------------------------------------------------------------ Prometheus

class Prometheus:
    """One Prometheus server with its own config and TSDB directory under
    `workdir`, scraping the given jobs every second; stopped by PID."""

    def __init__(self, workdir, jobs):
        """jobs: list of dicts {name, port, basic_auth: (user, password) or None}."""
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.port = broker_mod.free_port()
        self.config_path = os.path.join(self.workdir, "prometheus.yml")
        self.data_dir = os.path.join(self.workdir, "tsdb")
        self.log_path = os.path.join(self.workdir, "prometheus.log")
        lines = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 1s", "  evaluation_interval: 1s",
                 "scrape_configs:"]
        for j in jobs:
            lines += ["  - job_name: %s" % json.dumps(j["name"]),
                      "    metrics_path: /metrics",
                      "    scrape_interval: 1s",
                      "    scrape_timeout: 1s",
                      "    static_configs:",
                      "      - targets: [%s]" % json.dumps("127.0.0.1:%d" % j["port"])]
            if j.get("basic_auth"):
                user, password = j["basic_auth"]
                lines += ["    basic_auth:",
                          "      username: %s" % json.dumps(user),
                          "      password: %s" % json.dumps(password)]
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    @property
    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self, timeout=30.0):
        if not os.access(PROMETHEUS, os.X_OK):
            _fail("%s not found; %s" % (PROMETHEUS, INSTALL_HINT))
        cmd = [PROMETHEUS,
               "--config.file=%s" % self.config_path,
               "--storage.tsdb.path=%s" % self.data_dir,
               "--web.listen-address=127.0.0.1:%d" % self.port,
               "--storage.tsdb.retention.time=1h",
               "--log.level=warn"]
        logf = open(self.log_path, "a")
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                _fail("prometheus exited with %s during start-up; log:\n%s" % (self.proc.returncode, self.log[-4000:]))
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port, timeout=1) as r:
                    if r.status == 200:
                        return self
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.1)
        _fail("prometheus not ready within %.0fs; log:\n%s" % (timeout, self.log[-4000:]))

    def stop(self):
        """SIGTERM by PID, SIGKILL if it lingers."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def query(self, expr):
        """The instant vector of `expr` as [(labels, float value)]."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port, urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=5) as r:
            doc = json.loads(r.read())
        assert doc["status"] == "success", doc
        assert doc["data"]["resultType"] == "vector", doc
        return [(s["metric"], float(s["value"][1])) for s in doc["data"]["result"]]

    def wait_value(self, expr, want, timeout=30.0):
        """Polls until `expr` is exactly one series whose value is `want`;
        fails with what Prometheus had last."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = self.query(expr)
            if len(last) == 1 and last[0][1] == want:
                return last[0][0]
            if time.monotonic() > deadline:
                raise AssertionError("Prometheus: %s is %r, not %r within %.0fs" % (expr, last, want, timeout))
            time.sleep(0.25)


@pytest.fixture
def prometheus_factory(tmp_path):
    made = []

    def make(jobs):
        p = Prometheus(tmp_path / ("prometheus%d" % len(made)), jobs)
        made.append(p)
        p.start()
        return p

    try:
        yield make
    finally:
        for p in made:
            p.stop()


# ------------------------------------------------------------------ exposition parsing

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')


def parse_exposition(text):
    """{(name, frozenset(labels)): value}, checking that every sample
    belongs to a family announced by # HELP and # TYPE before it."""
    samples = {}
    typed = {}
    helped = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split(" ", 3)[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            typed[name] = kind
            continue
        assert line and not line.startswith("#"), "unexpected line %r" % line
        m = SAMPLE_RE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels = m.group(1), m.group(3) or ""
        family = name
        if family not in typed:
            family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert family in typed and family in helped, "sample %r without # HELP / # TYPE" % line
        pairs = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels))
        samples[(name, pairs)] = float(m.group(4))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


# ------------------------------------------------------------------ tests

@pytest.mark.timeout(120)
def test_prometheus_scrapes_message_counts(broker_factory, prometheus_factory, paho):
    b, http_port = start_broker(broker_factory)
    prom = prometheus_factory([{"name": JOB, "port": http_port}])

    prom.wait_value('up{job="%s"}' % JOB, 1)
    # Before any traffic the counters exist and are 0 (a later match of the
    # published counts is then this test's traffic, not a coincidence).
    prom.wait_value('junction_messages_received_total{job="%s",protocol="mqtt"}' % JOB, 0)
    prom.wait_value('junction_messages_received_total{job="%s",protocol="stomp"}' % JOB, 0)

    sub = paho(b.port, client_id="prom-sub")
    sub.connect()
    sub.subscribe("prom/#", qos=1)
    pub = paho(b.port, client_id="prom-pub")
    pub.connect()
    st = Stomp(b.stomp_port)
    try:
        # MQTT: 7 to topics (the subscriber gets them), 3 to the queue.
        for i in range(7):
            pub.publish("prom/m/%d" % i, b"mqtt %d" % i, qos=1)
        for i in range(3):
            pub.publish("$queue/prom-q", b"mqtt q %d" % i, qos=1)
        # STOMP: 4 to a topic the MQTT subscriber matches, 2 to the same queue.
        for i in range(4):
            st.send("/topic/prom/s", "stomp %d" % i, receipt="s-%d" % i)
        for i in range(2):
            st.send("/queue/prom-q", "stomp q %d" % i, receipt="q-%d" % i)
        got = sub.get_n(11)
        assert sorted(m.topic for m in got) == sorted(["prom/m/%d" % i for i in range(7)] + ["prom/s"] * 4)

        prom.wait_value('junction_messages_received_total{job="%s",protocol="mqtt"}' % JOB, 10)
        prom.wait_value('junction_messages_received_total{job="%s",protocol="stomp"}' % JOB, 6)
        prom.wait_value('junction_messages_received_total{job="%s",protocol="internal"}' % JOB, 0)
        prom.wait_value('sum(junction_messages_received_total{job="%s"})' % JOB, 16)
        # Deliveries by the receiver's protocol: the MQTT subscriber got 11, no STOMP consumer.
        prom.wait_value('junction_messages_delivered_total{job="%s",protocol="mqtt"}' % JOB, 11)
        prom.wait_value('junction_messages_delivered_total{job="%s",protocol="stomp"}' % JOB, 0)
        # The queue holds all 5 (nobody consumes it).
        prom.wait_value('junction_queue_messages{job="%s",queue="prom-q"}' % JOB, 5)
        prom.wait_value('junction_queues_messages{job="%s"}' % JOB, 5)
        # Open connections, by listener protocol: two MQTT clients, one STOMP.
        labels = prom.wait_value('junction_connections{job="%s",protocol="mqtt"}' % JOB, 2)
        assert labels["listener"] == "mqtt/tcp 127.0.0.1:%d" % b.port, labels
        prom.wait_value('junction_connections{job="%s",protocol="stomp"}' % JOB, 1)
        prom.wait_value('up{job="%s"}' % JOB, 1)
        # rate() works on the counter (Prometheus took it as one).
        assert prom.query('increase(junction_messages_received_total{job="%s",protocol="mqtt"}[5m])' % JOB)
    finally:
        st.close()
        sub.disconnect()
        pub.disconnect()

    # The gauges follow the clients leaving; the counters stay.
    prom.wait_value('junction_connections{job="%s",protocol="mqtt"}' % JOB, 0)
    prom.wait_value('junction_connections{job="%s",protocol="stomp"}' % JOB, 0)
    prom.wait_value('junction_messages_received_total{job="%s",protocol="mqtt"}' % JOB, 10)

    # Purging the queue through the API shows in the next scrapes.
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/queues/prom-q/messages" % http_port, method="DELETE")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert json.loads(r.read()) == {"purged": 5}
    prom.wait_value('junction_queue_messages{job="%s",queue="prom-q"}' % JOB, 0)

    # The API and the scrape agree on the totals.
    status, _, body = http_get(http_port, "/api/v1/broker")
    assert status == 200
    assert json.loads(body)["counters"]["messages_received"] == 16
    assert "level=error" not in prom.log, prom.log[-4000:]


@pytest.mark.timeout(120)
def test_promtool_finds_no_lint_problems(broker_factory, paho, tmp_path):
    if not os.access(PROMTOOL, os.X_OK):
        _fail("%s not found; %s" % (PROMTOOL, INSTALL_HINT))
    b, http_port = start_broker(broker_factory)

    pub = paho(b.port, client_id="lint-pub")
    pub.connect()
    sub = paho(b.port, client_id="lint-sub")
    sub.connect()
    sub.subscribe("lint/#", qos=1)
    st = Stomp(b.stomp_port)
    consumer = Stomp(b.stomp_port)
    try:
        pub.publish("lint/t", b"plain", qos=1)
        pub.publish("lint/r", b"kept", qos=1, retain=True)
        pub.publish("$queue/lint-q", b"q1", qos=1)
        pub.publish("$queue/lint-q", b"q2", qos=1)
        pub.publish("$delayed/60/lint/later", b"in a minute", qos=1)
        st.send("/topic/lint/s", "stomp", receipt="r1")
        st.send("/queue/lint-q", "stomp q", receipt="r2")
        st.send("/queue/other-q", 'label "quoted" \\ back', receipt="r3")
        sub.get_n(3)  # lint/t, lint/r, lint/s
        # A consumer holding one message unacknowledged.
        consumer.subscribe("/queue/lint-q", sub_id="c1", ack="client-individual", **{"prefetch-count": "1"})
        consumer.get()

        status, headers, body = http_get(http_port, "/metrics")
        assert status == 200
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers["Content-Type"]
        text = body.decode()

        # The scrape holds what the traffic made (an empty or broken scrape
        # would lint clean: promtool alone proves nothing).
        samples = parse_exposition(text)
        assert value(samples, "junction_messages_received_total", protocol="mqtt") == 5
        assert value(samples, "junction_messages_received_total", protocol="stomp") == 3
        assert value(samples, "junction_retained_messages") >= 1
        assert value(samples, "junction_delayed_messages") == 1
        assert value(samples, "junction_queue_messages", queue="lint-q") == 2   # 3 in, 1 with the consumer
        assert value(samples, "junction_queue_unacked", queue="lint-q") == 1
        assert value(samples, "junction_queue_consumers", queue="lint-q") == 1
        assert value(samples, "junction_queue_messages", queue="other-q") == 1
        assert value(samples, "junction_connections", protocol="stomp",
                     listener="stomp/tcp 127.0.0.1:%d" % b.stomp_port) == 2
        assert value(samples, "junction_store_commit_duration_seconds_bucket", le="+Inf") == \
            value(samples, "junction_store_commit_duration_seconds_count")
        assert value(samples, "process_open_fds") > 0
    finally:
        consumer.close()
        st.close()
        sub.disconnect()
        pub.disconnect()

    with open(tmp_path / "scrape.prom", "w") as f:
        f.write(text)
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, timeout=30)
    out = (r.stdout + r.stderr).decode(errors="replace").strip()
    assert r.returncode == 0 and out == "", \
        "promtool check metrics: exit %d:\n%s\n(scrape in %s)" % (r.returncode, out, tmp_path / "scrape.prom")

    # The same promtool does report a problem (this is a real lint run).
    bad = b"# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n"
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=bad, capture_output=True, timeout=30)
    assert r.returncode != 0 and b"_total" in r.stdout + r.stderr, (r.returncode, r.stdout, r.stderr)


def _passwd(path, user, password, create=False):
    cmd = [broker_mod.junction_bin(), "passwd"] + (["-c"] if create else []) + ["-b", str(path), user, password]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "junction passwd failed: %s" % r.stderr


@pytest.mark.timeout(120)
def test_metrics_need_admin_credentials_unless_public(broker_factory, prometheus_factory, tmp_path):
    pw = tmp_path / "passwd"
    _passwd(pw, "admin", "admin-secret", create=True)
    _passwd(pw, "bob", "bob-pw")
    auth = "auth: {password_file: %s}\n" % pw

    # --- admin_users only: every request needs an admin's credentials.
    b, port = start_broker(broker_factory, extra_yaml=auth + "http: {admin_users: [admin]}\n")
    status, headers, body = http_get(port, "/metrics")
    assert status == 401, (status, body)
    assert headers["WWW-Authenticate"].startswith("Basic "), headers
    assert b"junction_" not in body
    status, _, body = http_get(port, "/metrics", auth=("admin", "wrong"))
    assert status == 401
    status, _, body = http_get(port, "/metrics", auth=("bob", "bob-pw"))
    assert status == 403, (status, body)
    assert b"junction_" not in body
    status, headers, body = http_get(port, "/metrics", auth=("admin", "admin-secret"))
    assert status == 200, (status, body)
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert value(parse_exposition(body.decode()), "junction_messages_received_total", protocol="mqtt") == 0
    assert http_get(port, "/api/v1/broker")[0] == 401
    assert http_get(port, "/api/v1/broker", auth=("admin", "admin-secret"))[0] == 200

    # Prometheus with basic_auth scrapes it; without credentials the target is down.
    prom = prometheus_factory([{"name": "with-auth", "port": port, "basic_auth": ("admin", "admin-secret")},
                               {"name": "no-auth", "port": port},
                               {"name": "not-admin", "port": port, "basic_auth": ("bob", "bob-pw")}])
    prom.wait_value('up{job="with-auth"}', 1)
    prom.wait_value('up{job="no-auth"}', 0)
    prom.wait_value('up{job="not-admin"}', 0)
    prom.wait_value('junction_messages_received_total{job="with-auth",protocol="mqtt"}', 0)
    assert prom.query('junction_messages_received_total{job="no-auth"}') == []
    b.stop()

    # --- public_metrics: /metrics alone is open.
    b2, port2 = start_broker(broker_factory,
                             extra_yaml=auth + "http: {admin_users: [admin], public_metrics: true}\n")
    status, headers, body = http_get(port2, "/metrics")
    assert status == 200, (status, body)
    assert b"# TYPE junction_messages_received_total counter" in body
    status, headers, body = http_get(port2, "/api/v1/broker")
    assert status == 401, (status, body)
    assert headers["WWW-Authenticate"].startswith("Basic ")
    assert http_get(port2, "/api/v1/queues")[0] == 401
    assert http_get(port2, "/")[0] == 401
    assert http_get(port2, "/api/v1/broker", auth=("bob", "bob-pw"))[0] == 403
    assert http_get(port2, "/api/v1/broker", auth=("admin", "admin-secret"))[0] == 200
