"""`junction ctl` against the real broker's admin listener: every command in
table and --json form, percent-encoded client ids, queue names and topics,
credentials (flags, JUNCTION_USER/JUNCTION_PASSWORD, no prompt without a
terminal), https with the broker's CA, and the exit codes: 0 ok, 1 the
server answered an error, 2 usage, 3 no answer, 4 authentication (401/403).
"""

import json
import os
import re
import subprocess

import pytest
import requests

import broker as broker_mod
import certs
from clients import V5, PahoClient, unique

pytestmark = [
    pytest.mark.junction_only("junction ctl is Junction's command"),
    pytest.mark.timeout(120),
]


def admin_broker(broker_factory, http=None, **kw):
    b = broker_factory(listeners=[dict(http or {"protocol": "http"})], **kw)
    scheme = "https://localhost" if (http or {}).get("transport") == "tls" else "http://127.0.0.1"
    b.http = "%s:%d" % (scheme, b.listener_ports[0])
    return b


@pytest.fixture
def admin(broker_factory):
    return admin_broker(broker_factory)


def ctl(url, *args, env=None, input=None):
    """Runs `junction ctl --url URL ARGS...` with a clean credential environment
    (plus `env`); stdin is not a terminal."""
    e = {k: v for k, v in os.environ.items() if k not in ("JUNCTION_URL", "JUNCTION_USER", "JUNCTION_PASSWORD")}
    e.update(env or {})
    cmd = [broker_mod.junction_bin(), "ctl"] + (["--url", url] if url else []) + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=e,
                          input=input if input is not None else "")


def ok(r):
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def rows(text):
    """Table lines as lists of cells split on runs of 2+ spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


def fill_queue(port, name, n):
    p = PahoClient(port, version=V5)
    p.connect()
    for i in range(n):
        p.publish("$queue/" + name, ("m%d" % i).encode(), qos=1)
    p.close()


def test_status_table_and_json(admin):
    text = ok(ctl(admin.http, "status"))
    assert text.splitlines()[0].split()[0] == "version", text
    table = rows(text)
    http_rows = [r for r in table if len(r) == 5 and r[1] == "http"]
    assert http_rows and http_rows[0][4] == str(admin.listener_ports[0]), text
    assert any(r[0] == "messages received" for r in table), text
    # --json: the server's answer as it came
    got = json.loads(ok(ctl(admin.http, "--json", "status")))
    direct = requests.get(admin.http + "/api/v1/broker", timeout=10).json()
    assert got["node_id"] == direct["node_id"] and got["version"] == direct["version"]
    assert sorted(l["protocol"] for l in got["listeners"]) == ["http", "mqtt"]
    # global options may follow the command
    assert json.loads(ok(ctl(admin.http, "status", "--json")))["node_id"] == direct["node_id"]
    # the URL from the environment
    assert ok(ctl(None, "status", env={"JUNCTION_URL": admin.http})).startswith("version")


def test_clients_and_kick_with_an_encoded_id(admin):
    cid = "room/1 #a%?" + unique("")
    c = PahoClient(admin.port, client_id=cid, version=V5, session_expiry=300)
    c.connect()
    c.subscribe("plant/#", qos=1)
    try:
        text = ok(ctl(admin.http, "clients"))
        assert text.splitlines()[0].split()[:3] == ["CLIENT", "ID", "PROTOCOL"]
        row = [r for r in rows(text) if r[0] == cid]
        assert row and row[0][1] == "mqtt 5.0" and row[0][3].startswith("127.0.0.1:"), text
        assert row[0][5] == "1"  # SUBS
        items = json.loads(ok(ctl(admin.http, "clients", "--json")))["items"]
        assert [i for i in items if i["client_id"] == cid][0]["subscriptions"] == 1

        assert ok(ctl(admin.http, "kick", cid)) == cid + ": disconnected\n"
        assert c.gone.wait(5)
        # the session stayed; --session removes it
        assert ok(ctl(admin.http, "kick", cid, "--session")) == cid + ": was not connected, session removed\n"
        r = ctl(admin.http, "kick", cid)
        assert r.returncode == 1 and "(HTTP 404)" in r.stderr and r.stdout == ""
        # --json prints the error answer too, the message still goes to stderr
        r = ctl(admin.http, "--json", "kick", cid)
        assert r.returncode == 1 and "error" in json.loads(r.stdout) and "HTTP 404" in r.stderr
    finally:
        c.close()
    assert ok(ctl(admin.http, "clients")) == "no clients\n"


def test_queues_purge_and_move(admin):
    fill_queue(admin.port, "plant/line 1", 20)
    fill_queue(admin.port, "DLQ.line", 5)
    text = ok(ctl(admin.http, "queues"))
    by_name = {r[0]: r for r in rows(text)[1:]}
    assert by_name["plant/line 1"][1] == "20" and by_name["DLQ.line"][1] == "5", text
    assert ok(ctl(admin.http, "move", "DLQ.line", "--to", "plant/line 1", "--limit", 2)) == \
        "2 messages moved from DLQ.line to plant/line 1\n"
    assert ok(ctl(admin.http, "move", "DLQ.line", "--to", "plant/line 1")) == \
        "3 messages moved from DLQ.line to plant/line 1\n"
    assert ok(ctl(admin.http, "purge", "plant/line 1")) == "plant/line 1: 25 messages purged\n"
    items = {q["name"]: q for q in json.loads(ok(ctl(admin.http, "--json", "queues")))["items"]}
    assert items["plant/line 1"]["messages"] == 0 and items["DLQ.line"]["messages"] == 0
    r = ctl(admin.http, "purge", "no-such-queue")
    assert r.returncode == 1 and "no-such-queue" in r.stderr
    r = ctl(admin.http, "move", "plant/line 1")  # --to is required
    assert r.returncode == 2


def test_publish_and_retained(admin):
    sub = PahoClient(admin.port)
    sub.connect()
    sub.subscribe("site 1/#", qos=1)
    topic = "site 1/50%/temp?x"
    try:
        out = ok(ctl(admin.http, "publish", topic, "21.5", "--qos", 1, "--retain"))
        assert out.startswith("published to " + topic), out
        m = sub.messages.get(timeout=5)
        assert (m.topic, m.payload) == (topic, b"21.5")
    finally:
        sub.close()
    assert ok(ctl(admin.http, "publish", "other/t", "x")).startswith("published to other/t")
    text = ok(ctl(admin.http, "retained"))
    assert [topic, "1", "4 B"] in rows(text), text
    assert [r[0] for r in rows(ok(ctl(admin.http, "retained", "--filter", "site 1/+/temp?x")))[1:]] == [topic]
    assert ok(ctl(admin.http, "retained", "--filter", "nothing/#")) == "no retained messages\n"
    got = json.loads(ok(ctl(admin.http, "retained", "--filter", "site 1/#", "--json")))
    assert got["total"] == 1 and got["items"][0]["topic"] == topic and got["items"][0]["payload_size"] == 4
    # usage errors: a bad filter, a bad QoS
    assert ctl(admin.http, "retained", "--filter", "a/#/b").returncode == 2
    assert ctl(admin.http, "publish", "t", "x", "--qos", 3).returncode == 2


def test_bridges_none(admin):
    assert ok(ctl(admin.http, "bridges")) == "no bridges\n"
    assert json.loads(ok(ctl(admin.http, "bridges", "--json"))) == {"items": [], "total": 0}


def test_exit_codes_without_an_answer(admin):
    r = ctl("http://127.0.0.1:%d" % broker_mod.free_port(), "status")
    assert r.returncode == 3 and "cannot connect" in r.stderr
    # the MQTT port speaks no HTTP: the broker closes, ctl says so
    r = ctl("http://127.0.0.1:%d" % admin.port, "--timeout", 5, "status")
    assert r.returncode == 3, (r.stdout, r.stderr)
    r = ctl("ftp://127.0.0.1:1", "status")
    assert r.returncode == 2 and "scheme" in r.stderr
    r = ctl(admin.http)  # no command
    assert r.returncode == 2
    r = ctl(admin.http, "frobnicate")
    assert r.returncode == 2
    assert ctl(admin.http, "--help").returncode == 0


def test_credentials_401_403(broker_factory, tmp_path):
    pw = str(tmp_path / "passwd")
    for i, (u, p) in enumerate([("admin", "s3cret"), ("bob", "pw")]):
        subprocess.run([broker_mod.junction_bin(), "passwd", "-b"] + (["-c"] if i == 0 else []) + [pw, u, p],
                       check=True, capture_output=True, timeout=20)
    b = admin_broker(broker_factory, extra_yaml="auth: {password_file: %s}\nhttp: {admin_users: [admin]}\n" % pw,
                     listener_extra="allow_anonymous: true")
    r = ctl(b.http, "status")
    assert r.returncode == 4 and "authentication failed" in r.stderr
    r = ctl(b.http, "--user", "admin", "--password", "wrong", "status")
    assert r.returncode == 4 and "authentication failed" in r.stderr
    r = ctl(b.http, "--user", "bob", "--password", "pw", "status")
    assert r.returncode == 4 and "not allowed" in r.stderr
    assert ok(ctl(b.http, "-u", "admin", "-p", "s3cret", "status")).startswith("version")
    assert ok(ctl(b.http, "--user", "admin", "status", env={"JUNCTION_PASSWORD": "s3cret"})).startswith("version")
    assert ok(ctl(b.http, "status", env={"JUNCTION_USER": "admin", "JUNCTION_PASSWORD": "s3cret"})).startswith("version")
    # a user without a password, and no terminal to ask on: usage error, no request
    r = ctl(b.http, "--user", "admin", "status")
    assert r.returncode == 2 and "needs a password" in r.stderr


def test_https_with_the_broker_ca(broker_factory, tmp_path):
    pki = certs.make_pki(str(tmp_path / "pki"))
    http = {"protocol": "http", "transport": "tls",
            "tls": {"cert_file": pki["server.crt"], "key_file": pki["server.key"]}}
    b = admin_broker(broker_factory, http=http)
    assert ok(ctl(b.http, "--cacert", pki["ca.crt"], "status")).startswith("version")
    # a certificate from a CA we were not told to trust: no answer (exit 3)
    r = ctl(b.http, "--cacert", pki["other-ca.crt"], "status")
    assert r.returncode == 3 and "TLS" in r.stderr, r.stderr
    # --insecure skips verification (tests only)
    assert ok(ctl(b.http, "--insecure", "status")).startswith("version")
    # plain HTTP to the TLS port is not an answer either
    r = ctl(b.http.replace("https://", "http://"), "--timeout", 5, "status")
    assert r.returncode == 3, (r.returncode, r.stderr)
