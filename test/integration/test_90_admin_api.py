"""The admin HTTP API (README "Operations"), driven with Python `requests`
and `curl` against the real binary: every endpoint, the list conventions,
the 4xx paths (401/403/404/405/413/415/431/400), keep-alive, and that
changes made through it are durable like a client's (a purge survives
kill -9; a kicked MQTT 5 client gets DISCONNECT 0x98).
"""

import base64
import json
import os
import socket
import subprocess
import time
import urllib.parse

import pytest
import requests

import broker as broker_mod
import raw_mqtt
from clients import V5, PahoClient, mosquitto_pub, unique
from stomp_client import Stomp

pytestmark = [
    pytest.mark.junction_only("the admin API is Junction's"),
    pytest.mark.timeout(120),
]

ADMIN_CODE = 0x98  # MQTT 5 DISCONNECT: Administrative action


def api_broker(broker_factory, **kw):
    b = broker_factory(listeners=[{"protocol": "http"}], stomp=True, **kw)
    b.http = "http://127.0.0.1:%d" % b.listener_ports[0]
    return b


@pytest.fixture
def admin(broker_factory):
    return api_broker(broker_factory)


def get(b, path, **kw):
    r = requests.get(b.http + path, timeout=10, **kw)
    assert r.headers["Content-Type"].startswith("application/json") or path == "/metrics" or not path.startswith("/api"), r.headers
    return r


def ok(r):
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json"
    return r.json()


def enc(segment):
    return urllib.parse.quote(segment, safe="")


def test_broker_info_and_keep_alive(admin):
    s = requests.Session()
    info = ok(s.get(admin.http + "/api/v1/broker", timeout=10))
    assert info["version"] and info["node_id"]
    assert info["uptime_s"] >= 0
    protos = sorted(l["protocol"] for l in info["listeners"])
    assert protos == ["http", "mqtt", "stomp"]
    http_l = [l for l in info["listeners"] if l["protocol"] == "http"][0]
    assert http_l["port"] == admin.listener_ports[0] and http_l["transport"] == "tcp"
    assert info["store"]["mode"] == "batch" and info["store"]["path"]
    for k in ("messages_received", "messages_delivered", "messages_dropped", "connections", "sessions",
              "subscriptions", "retained", "queues"):
        assert isinstance(info["counters"][k], int), k
    mosquitto_pub(admin.port, "kp/a", "x", qos=1)
    # The same connection again (keep-alive): counters moved.
    info2 = ok(s.get(admin.http + "/api/v1/broker", timeout=10))
    assert info2["counters"]["messages_received"] == info["counters"]["messages_received"] + 1
    s.close()


def test_clients_list_get_kick(admin):
    c = PahoClient(admin.port, client_id="dev-1", version=V5, session_expiry=300)
    c.connect()
    c.subscribe("plant/#", qos=1)
    st = Stomp(admin.stomp_port)
    try:
        items = ok(get(admin, "/api/v1/clients"))
        assert items["total"] == len(items["items"]) >= 2
        dev = [i for i in items["items"] if i["client_id"] == "dev-1"][0]
        assert dev["protocol"] == "mqtt" and dev["protocol_version"] == "5.0"
        assert dev["peer"].startswith("127.0.0.1:") and dev["connected_at"].endswith("Z")
        assert dev["subscriptions"] == 1 and dev["queued"] == 0 and dev["inflight"] == 0 and dev["dropped"] == 0
        assert "username" in dev
        stomp_items = [i for i in items["items"] if i["protocol"] == "stomp"]
        assert len(stomp_items) == 1 and stomp_items[0]["protocol_version"] == "1.2"
        # filter is an MQTT topic filter over client ids; paging
        assert [i["client_id"] for i in ok(get(admin, "/api/v1/clients?filter=dev-1"))["items"]] == ["dev-1"]
        page = ok(get(admin, "/api/v1/clients?limit=1&sort=client_id"))
        assert len(page["items"]) == 1 and page["total"] == items["total"]
        one = ok(get(admin, "/api/v1/clients/dev-1"))
        assert one["client_id"] == "dev-1" and one["subscription_list"] == [{"filter": "plant/#", "qos": 1}]
        subs = ok(get(admin, "/api/v1/subscriptions?client_id=dev-1"))
        assert subs["total"] == 1 and subs["items"][0]["filter"] == "plant/#"
        assert ok(get(admin, "/api/v1/subscriptions?filter=plant/%23"))["total"] == 1
        assert ok(get(admin, "/api/v1/subscriptions?filter=other/%23"))["total"] == 0
        assert get(admin, "/api/v1/clients/nobody").status_code == 404
        # kick without session=true: disconnected, the persistent session stays
        r = requests.delete(admin.http + "/api/v1/clients/dev-1", timeout=10)
        assert ok(r)["disconnected"] is True
        assert c.gone.wait(5)
        # an MQTT 5 client is told why: DISCONNECT 0x98 (Administrative action)
        raw = raw_mqtt.RawClient(admin.port, version=raw_mqtt.V5)
        assert raw.connect("dev-raw").reason == 0
        assert ok(requests.delete(admin.http + "/api/v1/clients/dev-raw", timeout=10))["disconnected"] is True
        got = raw.recv_until_closed(5)
        assert [(p.type, p.reason) for p in got] == [(raw_mqtt.DISCONNECT, ADMIN_CODE)], got
        raw.close()
        one = ok(get(admin, "/api/v1/clients/dev-1"))
        assert one["connected"] is False and one["subscriptions"] == 1
        # ... and session=true removes it
        r = requests.delete(admin.http + "/api/v1/clients/dev-1?session=true", timeout=10)
        body = ok(r)
        assert body["disconnected"] is False and body["session_removed"] is True
        assert get(admin, "/api/v1/clients/dev-1").status_code == 404
        # the STOMP client gets an ERROR
        sid = stomp_items[0]["client_id"]
        assert ok(requests.delete(admin.http + "/api/v1/clients/" + enc(sid), timeout=10))["disconnected"] is True
        errs = st.wait_errors(5)
        assert errs and "administrator" in errs[0][0].get("message", ""), errs
    finally:
        c.close()
        st.close()
    assert "DELETE /api/v1/clients/dev-1" in admin.log


def test_retained_endpoints_with_encoded_topics(admin):
    topic = "site 1/50%/temp?x"
    mosquitto_pub(admin.port, topic, "21.5", qos=1, retain=True)
    binary = bytes(range(256))
    p = PahoClient(admin.port)
    p.connect()
    p.publish("bin/blob", binary, qos=1, retain=True)
    p.close()
    lst = ok(get(admin, "/api/v1/retained"))
    topics = {i["topic"]: i for i in lst["items"]}
    assert topics[topic]["qos"] == 1 and topics[topic]["payload_size"] == 4
    assert ok(get(admin, "/api/v1/retained?filter=bin/%2B"))["total"] == 1
    path = "/api/v1/retained/" + urllib.parse.quote(topic, safe="/")
    one = ok(get(admin, path))
    assert one["topic"] == topic and one["payload"] == "21.5"
    blob = ok(get(admin, "/api/v1/retained/bin/blob"))
    assert "payload" not in blob and base64.b64decode(blob["payload_base64"]) == binary
    assert ok(requests.delete(admin.http + path, timeout=10))["deleted"] is True
    assert get(admin, path).status_code == 404
    assert requests.delete(admin.http + path, timeout=10).status_code == 404
    # cleared for subscribers too, and durably
    admin.kill9()
    admin.start()
    sub = PahoClient(admin.port)
    sub.connect()
    sub.subscribe("#", qos=1)
    got = sub.drain(quiet=0.7)
    sub.close()
    assert [m.topic for m in got] == ["bin/blob"]


def fill_queue(port, name, n, prefix="m"):
    p = PahoClient(port, version=V5)
    p.connect()
    for i in range(n):
        p.publish("$queue/" + name, ("%s%d" % (prefix, i)).encode(), qos=1)
    p.close()


def test_queues_list_peek_purge_move_delete(admin):
    fill_queue(admin.port, "orders", 20)
    fill_queue(admin.port, "DLQ.orders", 5, prefix="dead")
    lst = ok(get(admin, "/api/v1/queues"))
    q = {i["name"]: i for i in lst["items"]}
    assert q["orders"]["messages"] == 20 and q["orders"]["consumers"] == 0 and q["orders"]["unacked"] == 0
    assert q["orders"]["bytes"] == sum(len("m%d" % i) for i in range(20))
    assert q["orders"]["dead_letter"] == "DLQ.orders" and q["orders"]["oldest_age_ms"] >= 0
    assert ok(get(admin, "/api/v1/queues?sort=-messages"))["items"][0]["name"] == "orders"
    peek = ok(get(admin, "/api/v1/queues/orders/messages?limit=3"))
    assert [m["payload"] for m in peek["items"]] == ["m0", "m1", "m2"]
    assert all(m["delivery_count"] == 0 and isinstance(m["headers"], dict) for m in peek["items"])
    assert ok(get(admin, "/api/v1/queues/orders"))["messages"] == 20  # peek consumed nothing
    # replay part of the DLQ into orders
    r = requests.post(admin.http + "/api/v1/queues/DLQ.orders/move", json={"to": "orders", "limit": 2}, timeout=10)
    assert ok(r)["moved"] == 2
    r = requests.post(admin.http + "/api/v1/queues/DLQ.orders/move", json={"to": "orders"}, timeout=10)
    assert ok(r)["moved"] == 3
    assert ok(get(admin, "/api/v1/queues/orders"))["messages"] == 25
    assert ok(get(admin, "/api/v1/queues/DLQ.orders"))["messages"] == 0
    # a consumer gets them in order, the moved ones last
    st = Stomp(admin.stomp_port)
    st.subscribe("/queue/orders", sub_id="s1", ack="client-individual")
    frames = st.get_n(25)
    bodies = [f.body.decode() for f in frames]
    assert bodies == ["m%d" % i for i in range(20)] + ["dead%d" % i for i in range(5)]
    assert ok(get(admin, "/api/v1/queues/orders"))["unacked"] == 25
    st.close()
    # purge: durable before the answer (kill -9 right after)
    fill_queue(admin.port, "purge-me", 50)
    r = requests.delete(admin.http + "/api/v1/queues/purge-me/messages", timeout=10)
    assert ok(r)["purged"] == 50
    admin.kill9()
    admin.start()
    assert ok(get(admin, "/api/v1/queues/orders"))["messages"] == 25  # the unacked came back
    gone = get(admin, "/api/v1/queues/purge-me")
    assert gone.status_code == 404 or gone.json()["messages"] == 0
    # delete: refused while not empty, then forced
    r = requests.delete(admin.http + "/api/v1/queues/orders", timeout=10)
    assert r.status_code == 409 and "force" in r.json()["error"]
    assert ok(requests.delete(admin.http + "/api/v1/queues/orders?force=true", timeout=10))["deleted"] is True
    assert get(admin, "/api/v1/queues/orders").status_code == 404
    assert requests.post(admin.http + "/api/v1/queues/nope/move", json={"to": "x"}, timeout=10).status_code == 404


def test_publish_and_delayed(admin):
    sub = PahoClient(admin.port, version=V5)
    sub.connect()
    sub.subscribe("api/#", qos=1)
    r = requests.post(admin.http + "/api/v1/publish",
                      json={"topic": "api/t", "payload": "hello", "qos": 1, "retain": True,
                            "properties": {"content_type": "text/plain", "user_properties": {"k": "v"}}},
                      timeout=10)
    body = ok(r)
    assert body["published"] is True and body["matched"] >= 1
    m = sub.get()
    assert m.topic == "api/t" and m.payload == b"hello"
    r = requests.post(admin.http + "/api/v1/publish",
                      json={"topic": "api/bin", "payload_base64": base64.b64encode(b"\x00\xff").decode()}, timeout=10)
    ok(r)
    assert sub.get().payload == b"\x00\xff"
    sub.close()
    assert ok(get(admin, "/api/v1/retained/api/t"))["payload"] == "hello"
    # to a queue, and refusals
    ok(requests.post(admin.http + "/api/v1/publish", json={"topic": "$queue/apiq", "payload": "q", "qos": 1}, timeout=10))
    assert ok(get(admin, "/api/v1/queues/apiq"))["messages"] == 1
    assert requests.post(admin.http + "/api/v1/publish", json={"topic": "a/+"}, timeout=10).status_code == 400
    assert requests.post(admin.http + "/api/v1/publish", json={"topic": "$SYS/x"}, timeout=10).status_code == 403
    assert requests.post(admin.http + "/api/v1/publish", json={"topic": "a", "qos": 3}, timeout=10).status_code == 400
    # delayed messages: listed, cancelled
    mosquitto_pub(admin.port, "$delayed/600/later/t", "soon", qos=1)
    d = ok(get(admin, "/api/v1/delayed"))
    assert d["total"] == 1 and d["items"][0]["topic"] == "later/t" and d["items"][0]["due_in_ms"] > 590000
    did = d["items"][0]["id"]
    assert ok(requests.delete(admin.http + "/api/v1/delayed/" + did, timeout=10))["deleted"] is True
    assert ok(get(admin, "/api/v1/delayed"))["total"] == 0
    assert requests.delete(admin.http + "/api/v1/delayed/" + did, timeout=10).status_code == 404


def test_bridges_empty(admin):
    assert ok(get(admin, "/api/v1/bridges")) == {"items": [], "total": 0}


def raw_http(port, data, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    out = b""
    if read:
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
    s.close()
    return out


def test_bad_requests_get_clear_errors(admin):
    port = admin.listener_ports[0]
    r = get(admin, "/api/v1/nothing")
    assert r.status_code == 404 and "error" in r.json()
    r = requests.put(admin.http + "/api/v1/broker", json={}, timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    r = requests.post(admin.http + "/api/v1/publish", data="topic=a", timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and "error" in r.json()
    r = requests.post(admin.http + "/api/v1/publish", data="{nope", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    assert get(admin, "/api/v1/queues?limit=abc").status_code == 400
    assert get(admin, "/api/v1/clients?sort=nosuchfield").status_code in (200, 400)
    bad = raw_http(port, b"GET /api/v1/queues/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert bad.startswith(b"HTTP/1.1 400"), bad[:80]
    # head over 16 KiB -> 431, body over 1 MiB -> 413 (before the body is sent)
    big = raw_http(port, b"GET /api/v1/broker HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n")
    assert big.startswith(b"HTTP/1.1 431"), big[:80]
    huge = raw_http(port, b"POST /api/v1/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 2000000\r\n\r\n")
    assert huge.startswith(b"HTTP/1.1 413"), huge[:80]
    garbage = raw_http(port, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400"), garbage[:80]
    assert b'{"error"' in garbage
    # curl: pipelined keep-alive requests on one connection, and HEAD
    out = subprocess.run(["curl", "-s", "-w", "%{http_code} %{num_connects}\n",
                          "-o", "/dev/null", admin.http + "/api/v1/broker", "-o", "/dev/null", admin.http + "/api/v1/queues",
                          "-o", "/dev/null", admin.http + "/metrics"],
                         capture_output=True, text=True, timeout=20).stdout.split("\n")
    assert out[0].startswith("200 1") and out[1].startswith("200 0") and out[2].startswith("200 0"), out
    head = subprocess.run(["curl", "-s", "-I", admin.http + "/api/v1/broker"], capture_output=True, text=True,
                          timeout=20).stdout
    assert head.startswith("HTTP/1.1 200") and "Content-Length:" in head
    # still serving MQTT and HTTP
    mosquitto_pub(admin.port, "still/ok", "x", qos=1)
    assert ok(get(admin, "/api/v1/broker"))["counters"]["messages_received"] >= 1


def test_dashboard_served(admin):
    r = requests.get(admin.http + "/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "canvas" in r.text and "api/v1/queues" in r.text
    assert "http://" not in r.text.replace("http://www.w3.org", "")  # nothing fetched from elsewhere


def make_passwd(tmp_path, users):
    path = str(tmp_path / "passwd")
    first = True
    for u, pw in users:
        args = [broker_mod.junction_bin(), "passwd", "-b"] + (["-c"] if first else []) + [path, u, pw]
        subprocess.run(args, check=True, capture_output=True, timeout=20)
        first = False
    return path


def test_credentials_401_403(broker_factory, tmp_path):
    pw = make_passwd(tmp_path, [("admin", "s3cret"), ("bob", "pw")])
    b = api_broker(broker_factory, extra_yaml="auth: {password_file: %s}\nhttp: {admin_users: [admin]}\n" % pw,
                   listener_extra="allow_anonymous: true")
    for path in ("/", "/metrics", "/api/v1/broker", "/api/v1/queues"):
        r = requests.get(b.http + path, timeout=10)
        assert r.status_code == 401, path
        assert r.headers["WWW-Authenticate"].startswith("Basic")
        assert "error" in r.json()
    assert requests.get(b.http + "/api/v1/broker", auth=("admin", "wrong"), timeout=10).status_code == 401
    assert requests.get(b.http + "/api/v1/broker", auth=("nobody", "s3cret"), timeout=10).status_code == 401
    r = requests.get(b.http + "/api/v1/broker", auth=("bob", "pw"), timeout=10)
    assert r.status_code == 403 and "error" in r.json()
    assert requests.get(b.http + "/api/v1/broker", auth=("admin", "s3cret"), timeout=10).status_code == 200
    assert requests.get(b.http + "/metrics", auth=("admin", "s3cret"), timeout=10).status_code == 200
    r = requests.post(b.http + "/api/v1/publish", auth=("admin", "s3cret"), json={"topic": "a/b", "payload": "x"},
                      timeout=10)
    assert r.status_code == 200
    assert "user 'admin': POST /api/v1/publish" in b.log


def test_non_loopback_http_listener_needs_a_password_file(tmp_path):
    cfg = tmp_path / "j.yaml"
    cfg.write_text("listeners:\n  - {protocol: mqtt, port: 1883}\n  - {protocol: http, bind: 0.0.0.0, port: 8081}\n")
    r = subprocess.run([broker_mod.junction_bin(), "--check-config", "--config", str(cfg)], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 1
    assert "j.yaml:" in r.stderr + r.stdout and "0.0.0.0:8081" in r.stderr + r.stdout, r.stderr
    cfg.write_text("listeners:\n  - {protocol: http, transport: ws, port: 8081}\n")
    r = subprocess.run([broker_mod.junction_bin(), "--check-config", "--config", str(cfg)], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 1 and "tcp or tls" in r.stderr + r.stdout


def test_https_listener_with_credentials(broker_factory, tmp_path):
    import certs
    pki = certs.make_pki(tmp_path / "pki")
    pw = make_passwd(tmp_path, [("admin", "s3cret")])
    b = broker_factory(listeners=[{"protocol": "http", "transport": "tls",
                                   "tls": {"cert_file": pki["server.crt"], "key_file": pki["server.key"]}}],
                       extra_yaml="auth: {password_file: %s}\nhttp: {admin_users: [admin]}\n" % pw,
                       listener_extra="allow_anonymous: true")
    url = "https://localhost:%d" % b.listener_ports[0]
    r = requests.get(url + "/api/v1/broker", auth=("admin", "s3cret"), verify=pki["ca.crt"], timeout=10)
    assert r.status_code == 200 and r.json()["listeners"][1]["transport"] == "tls"
    assert requests.get(url + "/api/v1/broker", verify=pki["ca.crt"], timeout=10).status_code == 401
    page = subprocess.run(["curl", "-s", "--cacert", pki["ca.crt"], "-u", "admin:s3cret", url + "/"],
                          capture_output=True, text=True, timeout=20).stdout
    assert "api/v1/queues" in page
    # plain HTTP to the TLS port: closed, the broker goes on
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://127.0.0.1:%d/api/v1/broker" % b.listener_ports[0], timeout=5)
    assert requests.get(url + "/metrics", auth=("admin", "s3cret"), verify=pki["ca.crt"], timeout=10).status_code == 200


def test_bridges_report_an_unreachable_upstream(broker_factory):
    dead = broker_mod.free_port()  # nothing listens there
    b = api_broker(broker_factory, extra_yaml=(
        "bridges:\n"
        "  - name: up\n"
        "    uris: [\"amqp://guest:guest@127.0.0.1:%d/\"]\n"
        "    reconnect: {min_backoff_ms: 200, max_backoff_ms: 400}\n"
        "    outbound:\n"
        "      - {filter: \"out/#\", exchange: junction, routing_key: \"{topic}\", qos: 1}\n" % dead))
    mosquitto_pub(b.port, "out/a", "kept", qos=1)  # waits in the outbox
    deadline = time.monotonic() + 10
    while True:
        items = ok(get(b, "/api/v1/bridges"))["items"]
        if items and items[0]["last_error"] and items[0]["outbox"] == 1:
            break
        assert time.monotonic() < deadline, items
        time.sleep(0.2)
    br = items[0]
    assert br["name"] == "amqp:up" and br["kind"] == "amqp"
    assert br["state"] == "connecting" and br["upstream"] == "127.0.0.1:%d" % dead
    assert br["confirms_pending"] == 0 and br["since"].endswith("Z")
    text = requests.get(b.http + "/metrics", timeout=10).text
    assert 'junction_bridge_up{bridge="amqp:up",kind="amqp"} 0' in text
    assert 'junction_bridge_outbox_messages{bridge="amqp:up"} 1' in text


def test_slow_and_idle_connections_are_cut_while_others_are_served(broker_factory):
    b = api_broker(broker_factory, extra_yaml="http: {request_timeout_ms: 1500, idle_timeout_ms: 1500}\n")
    port = b.listener_ports[0]
    # slowloris: a head that never ends gets 408 and a close
    slow = socket.create_connection(("127.0.0.1", port), timeout=10)
    slow.sendall(b"GET /api/v1/broker HTTP/1.1\r\nHost: x\r\n")
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    idle.sendall(b"GET /api/v1/broker HTTP/1.1\r\nHost: x\r\n\r\n")
    first = idle.recv(65536)
    assert first.startswith(b"HTTP/1.1 200")
    t0 = time.monotonic()
    for _ in range(3):  # meanwhile others are served
        assert ok(get(b, "/api/v1/broker"))["version"]
        slow.sendall(b"X")  # one byte now and then does not keep the request alive
        time.sleep(0.3)
    got = b""
    while True:
        chunk = slow.recv(65536)
        if not chunk:
            break
        got += chunk
    assert got.startswith(b"HTTP/1.1 408"), got[:80]
    assert 1.0 < time.monotonic() - t0 < 6
    # the idle keep-alive connection is closed by the broker
    idle.settimeout(10)
    assert idle.recv(65536) == b""
    slow.close()
    idle.close()
