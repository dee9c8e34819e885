"""SIGHUP re-reads the password and ACL files without dropping connections:
a client that stays connected loses access that was taken away, a removed
user is disconnected, and a bad file is logged while the old rules stay."""

import signal
import subprocess
import time

import pytest

import raw_mqtt
from auth_files import MOSQUITTO_PASSWD, auth_yaml, mosquitto_password_file, write_acl
from clients import V5, V311, unique
from stomp_client import stomps  # noqa: F401 (fixture)

pytestmark = pytest.mark.junction_only("Junction configuration (auth section) and SIGHUP")

USERS = {"alice": "wonderland", "bob": "b0b-s3cret"}

ACL_OPEN = """user alice
topic readwrite #
topic readwrite $queue/#

user bob
topic readwrite sensors/#
topic read $queue/jobs
"""

ACL_CLOSED = """user alice
topic readwrite #
topic readwrite $queue/#

user bob
topic read sensors/public/#
"""


def wait_log(broker, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in broker.log:
            return
        time.sleep(0.05)
    raise AssertionError("%r not in the broker log:\n%s" % (text, broker.log[-3000:]))


@pytest.fixture
def setup(broker_factory, tmp_path):
    pw = mosquitto_password_file(tmp_path / "passwd", USERS)
    acl = write_acl(tmp_path / "acl", ACL_OPEN)
    b = broker_factory(stomp=True, extra_yaml=auth_yaml(pw, acl))
    return b, tmp_path / "passwd", tmp_path / "acl"


def reload(b, count):
    b.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while b.log.count("SIGHUP: reloaded auth") < count:
        assert time.monotonic() < deadline, b.log[-3000:]
        time.sleep(0.05)


def test_acl_change_takes_access_from_a_connected_client(setup, paho, stomps):
    b, _, acl = setup
    alice = paho(b.port, version=V5, username="alice", password="wonderland")
    alice.connect()
    bob = paho(b.port, version=V5, username="bob", password="b0b-s3cret")
    bob.connect()
    assert bob.subscribe("sensors/#", qos=1) == [1]
    sbob = stomps(b.stomp_port, login="bob", passcode="b0b-s3cret")
    sbob.subscribe("/topic/sensors/#", sub_id="s")
    alice.publish("sensors/room1", b"before", qos=1)
    assert bob.get().payload == b"before"
    assert sbob.get().body == b"before"
    raw = raw_mqtt.RawClient(b.port, version=raw_mqtt.V5)
    try:
        assert raw.connect(unique("rb"), username="bob", password=b"b0b-s3cret").reason == 0
        raw.publish("sensors/room1", b"ok", qos=1, packet_id=1)
        assert raw.expect(raw_mqtt.PUBACK, skip=(raw_mqtt.PUBLISH,)).reason in (0, 0x10)
        assert bob.get().payload == b"ok"
        assert sbob.get().body == b"ok"

        write_acl(acl, ACL_CLOSED)
        reload(b, 1)

        # Still connected, but the next publish is denied ...
        raw.publish("sensors/room1", b"denied", qos=1, packet_id=2)
        assert raw.expect(raw_mqtt.PUBACK, skip=(raw_mqtt.PUBLISH,)).reason == 0x87
        # ... and the next delivery withheld, except what is still readable.
        alice.publish("sensors/room1", b"after", qos=1)
        alice.publish("sensors/public/lobby", b"still-readable", qos=1)
        m = bob.get()
        assert (m.topic, m.payload) == ("sensors/public/lobby", b"still-readable")
        bob.expect_nothing()
        assert sbob.get().body == b"still-readable"
        sbob.expect_nothing()
        assert bob.connected.is_set() and raw.is_open()
    finally:
        raw.close()


def test_bad_acl_on_reload_keeps_the_old_rules(setup, paho):
    b, _, acl = setup
    bob = paho(b.port, version=V5, username="bob", password="b0b-s3cret")
    bob.connect()
    write_acl(acl, "user bob\ntopic sometimes sensors/#\n")
    b.signal(signal.SIGHUP)
    wait_log(b, "acl:2: unknown access 'sometimes'")
    wait_log(b, "keeping the running password and ACL files")
    assert bob.subscribe("sensors/#", qos=1) == [1]  # old rules still in force
    assert b.running


def test_removed_user_is_disconnected(setup, paho, stomps):
    b, pwfile, _ = setup
    bob = paho(b.port, version=V5, username="bob", password="b0b-s3cret")
    bob.connect()
    bob3 = paho(b.port, version=V311, username="bob", password="b0b-s3cret")
    bob3.connect()
    sbob = stomps(b.stomp_port, login="bob", passcode="b0b-s3cret")
    alice = paho(b.port, version=V5, username="alice", password="wonderland")
    alice.connect()
    r = subprocess.run([MOSQUITTO_PASSWD, "-D", str(pwfile), "bob"], capture_output=True, timeout=20)
    assert r.returncode == 0, r.stderr
    reload(b, 1)
    assert bob.gone.wait(5) and bob.disconnect_rc == 0x87
    assert bob3.gone.wait(5)
    deadline = time.monotonic() + 5
    while sbob.conn.is_connected() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sbob.conn.is_connected()
    assert "user 'bob' was removed from the password file" in b.log
    assert alice.connected.is_set()  # the others stay
    again = paho(b.port, version=V5, username="bob", password="b0b-s3cret")
    assert again.connect(expect_ok=False).rc == 0x86


def test_changed_password_disconnects(setup, paho):
    b, pwfile, _ = setup
    bob = paho(b.port, version=V5, username="bob", password="b0b-s3cret")
    bob.connect()
    alice = paho(b.port, version=V5, username="alice", password="wonderland")
    alice.connect()
    r = subprocess.run([MOSQUITTO_PASSWD, "-b", str(pwfile), "bob", "new-one"], capture_output=True, timeout=20)
    assert r.returncode == 0, r.stderr
    reload(b, 1)
    assert bob.gone.wait(5) and bob.disconnect_rc == 0x87
    assert alice.connected.is_set()
    again = paho(b.port, version=V5, username="bob", password="new-one")
    assert again.connect().rc == 0


def test_queue_consumer_loses_read_access(setup, paho):
    b, _, acl = setup
    alice = paho(b.port, version=V5, username="alice", password="wonderland")
    alice.connect()
    bob = paho(b.port, version=V5, username="bob", password="b0b-s3cret")
    bob.connect()
    assert bob.subscribe("$queue/jobs", qos=1) == [1]
    alice.publish("$queue/jobs", b"job-1", qos=1)
    assert bob.get().payload == b"job-1"
    write_acl(acl, ACL_CLOSED)
    reload(b, 1)
    wait_log(b, "may no longer read $queue/jobs")
    alice.publish("$queue/jobs", b"job-2", qos=1)
    bob.expect_nothing()
    assert bob.connected.is_set()
