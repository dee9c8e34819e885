"""Authentication and ACLs for MQTT, with a password file made by Debian's
mosquitto_passwd and an ACL in Mosquitto's syntax; driven by mosquitto_pub /
mosquitto_sub, paho-mqtt and raw packets where exact codes are checked."""

import subprocess

import pytest

import raw_mqtt
from auth_files import auth_yaml, mosquitto_password_file, write_acl
from clients import MOSQUITTO_PUB, MosquittoSub, PahoClient, V311, V5, unique

pytestmark = pytest.mark.junction_only("Junction configuration (auth section)")

USERS = {"alice": "wonderland", "bob": "b0b-s3cret"}

ACL = """# anonymous clients (none may connect here: allow_anonymous is false)
topic read public/#

user alice
topic readwrite #
topic read $queue/#

user bob
topic read news/#
topic deny news/private/#
topic write reports/bob
"""


@pytest.fixture
def auth_broker(broker_factory, tmp_path):
    pw = mosquitto_password_file(tmp_path / "passwd", USERS)
    acl = write_acl(tmp_path / "acl", ACL)
    return broker_factory(extra_yaml=auth_yaml(pw, acl), listener_extra="allow_anonymous: false")


@pytest.fixture
def rawc(auth_broker):
    """make(version) -> RawClient on auth_broker (the shared `raw` fixture would start its own broker)."""
    made = []

    def make(version=raw_mqtt.V311):
        c = raw_mqtt.RawClient(auth_broker.port, version=version)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def pub(port, *args, topic="reports/x", message="hi", timeout=10):
    cmd = [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m", message] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------- authentication

def test_mosquitto_pub_with_right_and_wrong_credentials(auth_broker):
    port = auth_broker.port
    assert pub(port, "-u", "alice", "-P", "wonderland").returncode == 0
    assert pub(port, "-u", "alice", "-P", "wonderland", "-V", "mqttv5").returncode == 0
    for args in (["-u", "alice", "-P", "wrong"], ["-u", "mallory", "-P", "wonderland"], ["-u", "alice"], []):
        for version in ("mqttv311", "mqttv5"):
            r = pub(port, "-V", version, *args)
            assert r.returncode != 0, (args, version, r.stdout, r.stderr)
            assert "not authori" in r.stderr.lower() or "bad user name or password" in r.stderr.lower(), r.stderr


@pytest.mark.parametrize("version", [raw_mqtt.V31, raw_mqtt.V311])
def test_v3_refusals_are_return_code_5(auth_broker, rawc, version):
    for kw in ({"username": "alice", "password": b"nope"}, {"username": "zed", "password": b"x"}, {}):
        c = rawc(version=version)
        ack = c.connect(unique("v3"), **kw)
        assert ack.reason == 5, kw
        c.recv_until_closed()
    c = rawc(version=version)
    assert c.connect(unique("v3"), username="bob", password=b"b0b-s3cret").reason == 0


def test_v5_reason_codes_with_paho(auth_broker, paho):
    port = auth_broker.port
    wrong = paho(port, version=V5, username="alice", password="wrong")
    assert wrong.connect(expect_ok=False).rc == 0x86
    unknown = paho(port, version=V5, username="nobody", password="wonderland")
    assert unknown.connect(expect_ok=False).rc == 0x86
    anonymous = paho(port, version=V5)
    assert anonymous.connect(expect_ok=False).rc == 0x87
    good = paho(port, version=V5, username="alice", password="wonderland")
    assert good.connect().rc == 0
    v3 = paho(port, version=V311, username="bob", password="wrong")
    assert v3.connect(expect_ok=False).rc == 5


def test_refusal_is_logged_without_the_password(auth_broker, rawc):
    c = rawc(version=raw_mqtt.V5)
    assert c.connect("logcheck-client", username="alice", password=b"Sup3rSecretGuess").reason == 0x86
    c.recv_until_closed()
    log = auth_broker.log
    line = [l for l in log.splitlines() if "logcheck-client" in l]
    assert line, log[-2000:]
    assert "alice" in line[0] and "127.0.0.1" in line[0] and "wrong password" in line[0]
    assert "Sup3rSecretGuess" not in log


def test_password_without_user_name_refused(auth_broker, rawc):
    c = rawc(version=raw_mqtt.V5)
    assert c.connect(unique("p"), password=b"wonderland").reason in (0x86, 0x87)


# ---------------------------------------------------------------- ACL

def test_subscribe_denied_codes(auth_broker, paho):
    port = auth_broker.port
    b5 = paho(port, version=V5, username="bob", password="b0b-s3cret")
    b5.connect()
    assert b5.subscribe([("news/#", 1), ("sport/#", 1), ("news/private/#", 0), ("#", 0)]) == [1, 0x87, 0x87, 0x87]
    b3 = paho(port, version=V311, username="bob", password="b0b-s3cret")
    b3.connect()
    assert b3.subscribe([("news/+", 0), ("reports/bob", 0)]) == [0, 0x80]


def test_publish_denied_v5_gets_0x87(auth_broker, rawc):
    c = rawc(version=raw_mqtt.V5)
    assert c.connect(unique("b"), username="bob", password=b"b0b-s3cret").reason == 0
    c.publish("news/x", b"no", qos=1, packet_id=1)
    assert c.expect(raw_mqtt.PUBACK).reason == 0x87
    c.publish("news/x", b"no", qos=2, packet_id=2)
    assert c.expect(raw_mqtt.PUBREC).reason == 0x87
    c.publish("reports/bob", b"yes", qos=1, packet_id=3)
    assert c.expect(raw_mqtt.PUBACK).reason in (0, 0x10)
    assert c.is_open()


def test_publish_denied_v3_is_dropped(auth_broker, paho, msub):
    port = auth_broker.port
    watcher = msub(port, "#", extra=["-u", "alice", "-P", "wonderland"])
    bob = paho(port, version=V311, username="bob", password="b0b-s3cret")
    bob.connect()
    bob.publish("news/forged", b"dropped", qos=1)  # acknowledged (as Mosquitto does) ...
    bob.publish("reports/bob", b"kept", qos=1)
    m = watcher.get()
    assert (m.topic, m.payload) == ("reports/bob", "kept")  # ... but not delivered
    assert bob.connected.is_set()


def test_publish_denied_v3_disconnect_option(broker_factory, tmp_path):
    pw = mosquitto_password_file(tmp_path / "passwd", USERS)
    acl = write_acl(tmp_path / "acl", ACL)
    b = broker_factory(extra_yaml=auth_yaml(pw, acl, deny_publish_v3="disconnect"))
    c = raw_mqtt.RawClient(b.port, version=raw_mqtt.V311)
    try:
        assert c.connect(unique("b"), username="bob", password=b"b0b-s3cret").reason == 0
        c.publish("news/forged", b"x", qos=1, packet_id=7)
        assert all(p.type != raw_mqtt.PUBACK for p in c.recv_until_closed())
    finally:
        c.close()


def test_deliveries_and_retained_filtered_by_read_access(auth_broker, paho):
    port = auth_broker.port
    alice = paho(port, version=V5, username="alice", password="wonderland")
    alice.connect()
    alice.publish("news/public", b"r-public", qos=1, retain=True)
    alice.publish("news/private/memo", b"r-private", qos=1, retain=True)
    bob = paho(port, version=V5, username="bob", password="b0b-s3cret")
    bob.connect()
    assert bob.subscribe("news/#", qos=1) == [1]  # granted: a deny inside makes it checked per message
    m = bob.get()
    assert (m.topic, m.payload, m.retain) == ("news/public", b"r-public", True)
    bob.expect_nothing()
    alice.publish("news/private/live", b"live-private", qos=1)
    alice.publish("news/live", b"live-public", qos=0)
    m = bob.get()
    assert (m.topic, m.payload) == ("news/live", b"live-public")
    bob.expect_nothing()


def test_mosquitto_sub_with_credentials_and_acl(auth_broker):
    port = auth_broker.port
    sub = MosquittoSub(port, "news/+", extra=["-u", "bob", "-P", "b0b-s3cret"])
    try:
        r = pub(port, "-u", "alice", "-P", "wonderland", "-q", "1", topic="news/today", message="headline")
        assert r.returncode == 0, r.stderr
        m = sub.get()
        assert (m.topic, m.payload) == ("news/today", "headline")
    finally:
        sub.close()
    bad = subprocess.run(["/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "news/#",
                          "-u", "bob", "-P", "wrong", "-C", "1", "-W", "5"],
                         capture_output=True, text=True, timeout=15)
    assert bad.returncode != 0 and "not authori" in bad.stderr.lower(), bad.stderr


def test_queue_topics_need_dollar_rules(auth_broker, rawc):
    c = rawc(version=raw_mqtt.V5)
    assert c.connect(unique("q"), username="alice", password=b"wonderland").reason == 0
    c.publish("$queue/jobs", b"x", qos=1, packet_id=1)  # '#' does not reach '$' topics
    assert c.expect(raw_mqtt.PUBACK).reason == 0x87
    assert c.subscribe(2, [("$queue/jobs", 1)]).reasons == [1]
