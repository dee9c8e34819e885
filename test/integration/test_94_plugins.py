"""Plugins (issue 14, docs/PLUGINS.md): the example plugins and the test
plugin (test/plugins/test_plugin.c) loaded into the real binary through
`plugins:`, driven by paho-mqtt, mosquitto_pub/sub and stomp.py; chain order
against the built-in password file; reload; refused plugins."""

import json
import os
import signal
import subprocess
import time

import pytest

import broker as broker_mod
import raw_mqtt
from auth_files import mosquitto_password_file, write_acl
from clients import V5, V311, ConnectFailed, PahoClient, unique
from stomp_client import Stomp, stomps  # noqa: F401 (fixture)

pytestmark = pytest.mark.junction_only("Junction plugins")

BUILD = os.path.dirname(os.path.dirname(os.path.abspath(broker_mod.junction_bin())))
EXAMPLES = os.path.join(BUILD, "plugins", "examples")
TEST_PLUGINS = os.path.join(BUILD, "test", "plugins")
FUTURE = int(time.time()) + 86400
PAST = int(time.time()) - 60


def so(name):
    for d in (EXAMPLES, TEST_PLUGINS):
        p = os.path.join(d, name + ".so")
        if os.path.exists(p):
            return p
    raise AssertionError("plugin %s.so not built under %s" % (name, BUILD))


def plugins_yaml(*entries):
    """entries: ("name", {options}) or ("builtin", "password_file")."""
    out = "plugins:\n"
    for name, opts in entries:
        if name == "builtin":
            out += "  - {builtin: %s}\n" % opts
        else:
            out += "  - path: %s\n" % json.dumps(so(name))
            if opts:
                out += "    options: %s\n" % json.dumps({k: str(v) for k, v in opts.items()})
    return out


def wait_log(broker, text, timeout=5.0, count=1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker.log.count(text) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("%r (x%d) not in the broker log:\n%s" % (text, count, broker.log[-4000:]))


def connack_rc(port, version, username=None, password=None):
    c = PahoClient(port, version=version, username=username, password=password)
    try:
        return c.connect(expect_ok=False).rc
    finally:
        c.close()


# ------------------------------------------------------------ token_auth + chain order

TOKENS = "sensor-1:tok-1:%d,sensor-2:tok-2:0,old:tok-old:%d,alice:tok-alice:0" % (FUTURE, PAST)


def test_token_auth_allows_denies_and_expires(broker_factory, msub):
    b = broker_factory(extra_yaml=plugins_yaml(("token_auth", {"tokens": TOKENS})),
                       listener_extra="allow_anonymous: false")
    for version in (V311, V5):
        assert connack_rc(b.port, version, "sensor-1", "tok-1") == 0
        assert connack_rc(b.port, version, "sensor-2", "tok-2") == 0
        bad = 0x86 if version == V5 else 5
        assert connack_rc(b.port, version, "sensor-1", "tok-2") == bad   # wrong token
        assert connack_rc(b.port, version, "old", "tok-old") == bad      # expired
        assert connack_rc(b.port, version, "nobody", "x") == bad         # every member deferred
    assert "its token expired" in b.log
    # mosquitto_pub/sub with tokens
    s = msub(b.port, ["t/#"], qos=1, extra=["-u", "sensor-2", "-P", "tok-2"])
    r = subprocess.run(["mosquitto_pub", "-p", str(b.port), "-u", "sensor-1", "-P", "tok-1", "-t", "t/a", "-m", "x",
                        "-q", "1"], capture_output=True, timeout=10)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["mosquitto_pub", "-p", str(b.port), "-u", "sensor-1", "-P", "nope", "-t", "t/a", "-m", "x"],
                       capture_output=True, timeout=10)
    assert r.returncode != 0 and b"not authorised" in r.stderr.lower().replace(b"authorized", b"authorised")
    assert s.get().payload == "x"
    assert "tok-1" not in b.log and "tok-2" not in b.log  # secrets are never logged


def test_token_auth_for_stomp_logins(broker_factory, stomps):
    b = broker_factory(stomp=True, extra_yaml=plugins_yaml(("token_auth", {"tokens": TOKENS})),
                       listener_extra="allow_anonymous: false")
    good = stomps(b.stomp_port, "1.2", login="sensor-1", passcode="tok-1")
    assert good.connected_frame is not None
    for login, passcode in (("sensor-1", "tok-2"), ("old", "tok-old"), ("nobody", "x")):
        c = Stomp(b.stomp_port, "1.2", connect=False)
        try:
            c.conn.connect(login, passcode, wait=False)
            e = c.listener.errors.get(timeout=5)
            assert e.headers["message"] == "access refused", e.headers
        finally:
            c.close()
    wait_log(b, "plugin token_auth: user 'old' refused")


@pytest.mark.parametrize("order", ["plugin-first", "file-first"])
def test_chain_order_with_the_builtin_password_file(broker_factory, tmp_path, order):
    pw = mosquitto_password_file(tmp_path / "passwd", {"alice": "from-file", "bob": "bob-file"})
    members = [("token_auth", {"tokens": TOKENS}), ("builtin", "password_file")]
    if order == "file-first":
        members.reverse()
    b = broker_factory(extra_yaml="auth: {password_file: %s}\n" % pw + plugins_yaml(*members),
                       listener_extra="allow_anonymous: false")
    chain = "token_auth, password_file" if order == "plugin-first" else "password_file, token_auth"
    assert "auth: chain " + chain in b.log
    assert connack_rc(b.port, V5, "bob", "bob-file") == 0          # token_auth defers: the file decides
    assert connack_rc(b.port, V5, "sensor-1", "tok-1") == 0        # not in the file: token_auth decides
    # alice is in both: the first member that knows her decides.
    if order == "plugin-first":
        assert connack_rc(b.port, V5, "alice", "tok-alice") == 0
        assert connack_rc(b.port, V5, "alice", "from-file") == 0x86
    else:
        assert connack_rc(b.port, V5, "alice", "from-file") == 0
        assert connack_rc(b.port, V5, "alice", "tok-alice") == 0x86


@pytest.mark.parametrize("denied", [True, False])
def test_certificate_identities_reach_the_authentication_chain(broker_factory, tmp_path, denied):
    import certs
    pki = certs.make_pki(tmp_path / "pki")
    tls = {"cert_file": pki["server.crt"], "key_file": pki["server.key"], "ca_file": pki["ca.crt"],
           "require_certificate": True, "use_identity_as_username": True}
    b = broker_factory(listeners=[{"protocol": "mqtt", "transport": "tls", "tls": tls}],
                       extra_yaml=plugins_yaml(("test_plugin", {"deny_user": "device-1" if denied else "someone",
                                                                "log_events": "true"})))
    port = b.listener_ports[0]
    r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", "dev/1", "-m", "x", "-q", "1",
                        "--cafile", pki["ca.crt"], "--cert", pki["client.crt"], "--key", pki["client.key"]],
                       capture_output=True, timeout=15)
    if denied:
        assert r.returncode != 0 and b"not authorised" in r.stderr.lower().replace(b"authorized", b"authorised")
        wait_log(b, "refused by an authentication plugin")
    else:
        assert r.returncode == 0, r.stderr
    wait_log(b, "test_plugin: auth")
    assert "user=device-1" in b.log


# ------------------------------------------------------------ message_enrich


def test_message_enrich_adds_a_property_and_drops_large_payloads(broker_factory, paho, stomps):
    b = broker_factory(stomp=True, extra_yaml=plugins_yaml(("message_enrich", {"max_payload_bytes": 64})))
    sub = paho(b.port, version=V5)
    sub.connect()
    sub.subscribe("enrich/#", qos=1)
    pub = paho(b.port, version=V5)
    pub.connect()
    before = int(time.time() * 1000)
    mid = pub.publish("enrich/a", b"small", qos=1)
    assert pub.puback_reason(mid) == 0
    m = sub.get()
    props = dict(m.props.get("UserProperty", []))
    assert before - 1000 <= int(props["received-at"]) <= int(time.time() * 1000) + 1000, props
    # Too large: MQTT 5 gets the plugin's reason code and reason string; nothing is delivered.
    mid = pub.publish("enrich/a", b"x" * 65, qos=1)
    assert pub.puback_reason(mid) == 0x97
    # STOMP: an ERROR frame with the plugin's reason.
    s = stomps(b.stomp_port)
    s.conn.send("/topic/enrich/b", b"y" * 100, headers={"receipt": "r1"})
    e = s.listener.errors.get(timeout=5)
    assert "payload over 64 bytes" in (e.headers.get("message", "") + e.body.decode()), e
    # A small STOMP message is enriched too (MQTT subscriber sees the property).
    s2 = stomps(b.stomp_port)
    s2.send("/topic/enrich/c", b"ok", receipt="r2")
    m = sub.get()
    assert m.topic == "enrich/c" and "received-at" in dict(m.props.get("UserProperty", []))
    sub.drain(quiet=0.3)
    assert sub.messages.empty()


# ------------------------------------------------------------ event_counter


def test_event_counter_publishes_totals_every_tick(broker_factory, paho):
    b = broker_factory(extra_yaml=plugins_yaml(("event_counter", {"interval_ms": 200, "topic": "stats/events"})))
    c = paho(b.port, version=V5)
    c.connect()
    c.subscribe("stats/events", qos=0)
    c.subscribe("other/#", qos=0)
    c.unsubscribe("other/#")
    c.publish("other/x", b"1")
    deadline = time.monotonic() + 5
    last = None
    while time.monotonic() < deadline:
        m = c.get(timeout=2)
        last = json.loads(m.payload)
        if last["subscribes"] >= 2 and last["unsubscribes"] >= 1 and last["messages"] >= 1:
            break
    assert last["connects"] >= 1 and last["subscribes"] >= 2 and last["unsubscribes"] >= 1, last
    assert last["messages"] >= 1, last


# ------------------------------------------------------------ the test plugin: every event


@pytest.fixture
def tp_broker(broker_factory, tmp_path):
    opts = {
        "log_events": "true",
        "allow_user": "trusted", "allow_password": "letmein", "deny_user": "mallory",
        "deny_prefix": "secret/",
        "drop_topic": "drop/me", "drop_code": "0x99",
        "rewrite_from": "old/topic", "rewrite_to": "new/topic",
        "uppercase_topic": "shout", "set_qos_topic": "downgrade", "set_qos": "0",
        "out_deny_client": "muted",
        "tick_ms": "100",
        "timer_publish_topic": "tp/timer", "thread_publish_topic": "tp/thread",
        "kick_on_publish_topic": "kick/me", "find_client_topic": "tp/find",
    }
    # The plugin decides secret/...; what it defers goes to the ACL file after
    # it, which opens everything else (a chain that ends undecided refuses).
    acl = write_acl(tmp_path / "acl", "topic readwrite #\npattern readwrite #\n")
    return broker_factory(stomp=True, extra_yaml="auth: {acl_file: %s}\n" % acl +
                          plugins_yaml(("test_plugin", opts), ("builtin", "acl_file")))


def test_auth_events_allow_and_deny(tp_broker):
    b = tp_broker
    assert connack_rc(b.port, V5, "trusted", "letmein") == 0
    assert connack_rc(b.port, V5, "mallory", "x") == 0x86
    assert connack_rc(b.port, V311, "mallory", "x") == 5
    # Not decided by the plugin: the chain has a member, so refused.
    assert connack_rc(b.port, V5, "someone", "x") == 0x86
    # Anonymous: admitted by the listener, the plugin defers.
    assert connack_rc(b.port, V5) == 0
    wait_log(b, "test_plugin: auth")


def test_acl_publish_subscribe_and_read(tp_broker, paho, stomps):
    b = tp_broker
    c = paho(b.port, version=V5)
    c.connect()
    assert "auth: chain test_plugin, acl_file" in b.log
    assert c.subscribe("secret/#", qos=1) == [0x87]
    assert c.subscribe("open/#", qos=1) == [1]
    mid = c.publish("secret/x", b"no", qos=1)
    assert c.puback_reason(mid) == 0x87
    mid = c.publish("open/x", b"yes", qos=1)
    assert c.puback_reason(mid) in (0, 0x10)
    assert c.get().payload == b"yes"
    s = stomps(b.stomp_port)
    s.conn.send("/topic/secret/y", b"no", headers={})
    e = s.listener.errors.get(timeout=5)
    assert e.headers["message"] == "access refused"


def test_message_in_changes_and_drops(tp_broker, paho, stomps, msub):
    b = tp_broker
    sub = paho(b.port, version=V5, client_id="listener")
    sub.connect()
    sub.subscribe([("new/topic", 1), ("shout", 1), ("downgrade", 1), ("drop/me", 1), ("old/topic", 1)])
    ms = msub(b.port, ["shout"])
    pub = paho(b.port, version=V5)
    pub.connect()
    pub.publish("old/topic", b"moved", qos=1)
    m = sub.get()
    assert m.topic == "new/topic" and m.payload == b"moved"
    assert ("x-test-plugin", "seen") in m.props.get("UserProperty", [])
    pub.publish("shout", b"hello", qos=1)
    assert sub.get().payload == b"HELLO"
    assert ms.get().payload == "HELLO"
    pub.publish("downgrade", b"q", qos=1)
    m = sub.get()
    assert m.topic == "downgrade" and m.qos == 0
    mid = pub.publish("drop/me", b"gone", qos=1)
    assert pub.puback_reason(mid) == 0x99
    # STOMP publisher of a dropped message: ERROR with the plugin's reason.
    s = stomps(b.stomp_port)
    s.conn.send("/topic/drop/me", b"gone", headers={"receipt": "r"})
    e = s.listener.errors.get(timeout=5)
    assert "dropped by test_plugin" in e.headers.get("message", "") + e.body.decode()
    sub.drain(quiet=0.3)
    assert sub.messages.empty()


def test_message_out_skips_one_subscriber(tp_broker, paho):
    b = tp_broker
    muted = paho(b.port, version=V5, client_id="muted")
    muted.connect()
    muted.subscribe("news", qos=1)
    other = paho(b.port, version=V5)
    other.connect()
    other.subscribe("news", qos=1)
    pub = paho(b.port, version=V5)
    pub.connect()
    pub.publish("news", b"n1", qos=1)
    assert other.get().payload == b"n1"
    muted.drain(quiet=0.5)
    assert muted.messages.empty()


def test_lifecycle_events_are_logged(tp_broker, paho):
    b = tp_broker
    c = paho(b.port, version=V5, client_id="life", clean=False, session_expiry=1)
    c.connect()
    c.subscribe("a/#", qos=1)
    c.unsubscribe("a/#")
    c.close()
    wait_log(b, "test_plugin: connect client=life")
    wait_log(b, "test_plugin: subscribe client=life filter=a/# qos=1")
    wait_log(b, "test_plugin: unsubscribe client=life filter=a/#")
    wait_log(b, "test_plugin: disconnect client=life reason=")
    wait_log(b, "test_plugin: session_expiry client=life", timeout=6)
    wait_log(b, "test_plugin: tick", count=3)
    # Taken over: reason 2.
    a = paho(b.port, version=V5, client_id="twice")
    a.connect()
    a2 = paho(b.port, version=V5, client_id="twice")
    a2.connect()
    wait_log(b, "test_plugin: disconnect client=twice reason=2")


def test_broker_functions_timer_thread_kick_find(tp_broker, paho):
    b = tp_broker
    c = paho(b.port, version=V5)
    c.connect()
    # Published by a timer and from a plugin thread through jn_cb_run_on_loop, both retained.
    c.subscribe([("tp/timer", 0), ("tp/thread", 0), ("tp/find/result", 0)])
    got = {m.topic: m.payload for m in c.get_n(2)}
    assert got == {"tp/timer": b"timer", "tp/thread": b"from-thread"}
    c.publish("tp/find", c.client_id.encode(), qos=1)
    m = c.get()
    assert m.payload.startswith(b"found") and b"proto=mqtt" in m.payload and b"transport=tcp" in m.payload
    c.publish("tp/find", b"nobody-here", qos=1)
    assert c.get().payload == b"not found"
    # jn_cb_disconnect: MQTT 5 gets DISCONNECT 0x98 Administrative action.
    victim = raw_mqtt.RawClient(b.port, version=raw_mqtt.V5)
    try:
        assert victim.connect(client_id="victim").reason == 0
        victim.publish("kick/me", b"bye", qos=0)
        d = victim.expect(raw_mqtt.DISCONNECT)
        assert d.reason == 0x98
    finally:
        victim.close()
    wait_log(b, "test_plugin: disconnect client=victim reason=3")


def test_reload_and_cleanup(tp_broker):
    b = tp_broker
    b.signal(signal.SIGHUP)
    wait_log(b, "test_plugin: reload")
    b.stop()
    assert "test_plugin: cleanup" in b.log


def test_mqtt5_enhanced_authentication(tp_broker_ext):
    b = tp_broker_ext
    c = raw_mqtt.RawClient(b.port, version=raw_mqtt.V5)
    try:
        c.send(raw_mqtt.connect("ext-1", version=raw_mqtt.V5, props=[(0x15, "TEST-CHALLENGE")]))
        a = c.expect(raw_mqtt.AUTH)
        assert a.reason == 0x18 and a.prop(0x16) == b"challenge"
        c.send(raw_mqtt.packet(raw_mqtt.AUTH, 0, bytes([0x18]) +
                               raw_mqtt.properties([(0x15, "TEST-CHALLENGE"), (0x16, b"response")])))
        ack = c.expect(raw_mqtt.CONNACK)
        assert ack.reason == 0 and ack.prop(0x15) == "TEST-CHALLENGE" and ack.prop(0x16) == b"welcome"
    finally:
        c.close()
    c = raw_mqtt.RawClient(b.port, version=raw_mqtt.V5)
    try:
        c.send(raw_mqtt.connect("ext-2", version=raw_mqtt.V5, props=[(0x15, "TEST-CHALLENGE")]))
        c.expect(raw_mqtt.AUTH)
        c.send(raw_mqtt.packet(raw_mqtt.AUTH, 0, bytes([0x18]) +
                               raw_mqtt.properties([(0x15, "TEST-CHALLENGE"), (0x16, b"wrong")])))
        ack = c.expect(raw_mqtt.CONNACK)
        assert ack.reason == 0x87
    finally:
        c.close()
    c = raw_mqtt.RawClient(b.port, version=raw_mqtt.V5)
    try:
        c.send(raw_mqtt.connect("ext-3", version=raw_mqtt.V5, props=[(0x15, "SCRAM-SHA-1")]))
        assert c.expect(raw_mqtt.CONNACK).reason == 0x8C
    finally:
        c.close()


@pytest.fixture
def tp_broker_ext(broker_factory):
    return broker_factory(extra_yaml=plugins_yaml(("test_plugin", {"ext_auth_method": "TEST-CHALLENGE"})))


# ------------------------------------------------------------ refused plugins


@pytest.mark.parametrize("name,expect", [
    ("bad_version", "asks for plugin ABI version 999, this broker offers 1"),
    ("missing_symbol", "does not export jn_plugin_cleanup"),
    ("failing_init", "its jn_plugin_init failed"),
    ("does_not_exist", "cannot load it"),
])
def test_bad_plugins_stop_start_up_with_a_clear_message(tmp_path, name, expect):
    path = so(name) if name != "does_not_exist" else str(tmp_path / "nothing.so")
    cfg = tmp_path / "junction.yaml"
    cfg.write_text("listeners:\n  - {protocol: mqtt, bind: 127.0.0.1, port: 0}\n"
                   "store: {durability: memory}\n"
                   "plugins:\n  - path: %s\n" % json.dumps(path))
    r = subprocess.run([broker_mod.junction_bin(), "-c", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert expect in out, out
    assert "%s:5: plugin %s" % (cfg, path) in out, out
    if name == "failing_init":
        assert "failing_init: refusing to start" in out
