"""Authentication and ACLs for STOMP (stomp.py): login/passcode against a
password file made by Debian's mosquitto_passwd, and the same Mosquitto ACL
applied to /topic/ destinations (as their MQTT topics) and /queue/
destinations (as `$queue/<name>`)."""

import queue

import pytest

from auth_files import auth_yaml, mosquitto_password_file, write_acl
from clients import V5
from stomp_client import Stomp, raw_stomp, stomps  # noqa: F401 (fixtures)

pytestmark = pytest.mark.junction_only("STOMP front-end and Junction configuration")

USERS = {"alice": "wonderland", "bob": "b0b-s3cret"}

ACL = """user alice
topic readwrite #
topic readwrite $queue/#

user bob
topic read news/#
topic deny news/private/#
topic read $queue/jobs
topic write $queue/reports
"""


@pytest.fixture
def auth_broker(broker_factory, tmp_path):
    pw = mosquitto_password_file(tmp_path / "passwd", USERS)
    acl = write_acl(tmp_path / "acl", ACL)
    return broker_factory(stomp=True, extra_yaml=auth_yaml(pw, acl), listener_extra="allow_anonymous: false")


def error_frame(c, timeout=5.0):
    try:
        return c.listener.errors.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError("no ERROR frame within %.1fs" % timeout)


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_login_good_and_bad(auth_broker, stomps, version):
    good = stomps(auth_broker.stomp_port, version, login="alice", passcode="wonderland")
    assert good.connected_frame is not None
    for login, passcode in (("alice", "nope"), ("mallory", "wonderland"), (None, None), ("bob", None)):
        c = Stomp(auth_broker.stomp_port, version, connect=False)
        try:
            c.conn.connect(login, passcode, wait=False)
            e = error_frame(c)
            assert e.headers["message"] == "access refused", e.headers
        finally:
            c.close()
    assert "wonderland" not in auth_broker.log.replace("alice", "")  # passcodes are never logged


def test_raw_error_frame_then_close(auth_broker, raw_stomp):
    r = raw_stomp(auth_broker.stomp_port)
    r.frame("CONNECT", [("accept-version", "1.2"), ("host", "x"), ("login", "bob"), ("passcode", "bad")])
    e = r.expect_error()
    assert e.headers["message"] == "access refused"
    assert b"bad login or passcode" in e.body or "bad login or passcode" in str(e.headers)
    r.expect_closed()


def test_send_and_subscribe_denied(auth_broker, stomps):
    port = auth_broker.stomp_port
    bob = stomps(port, login="bob", passcode="b0b-s3cret")
    bob.conn.send("/topic/news/x", b"forged", headers={})
    e = error_frame(bob)
    assert e.headers["message"] == "access refused" and "/topic/news/x" in e.body.decode()
    bob2 = stomps(port, login="bob", passcode="b0b-s3cret")
    bob2.subscribe("/topic/sport/#", sub_id="s1", receipt=False)
    e = error_frame(bob2)
    assert e.headers["message"] == "access refused"
    bob3 = stomps(port, login="bob", passcode="b0b-s3cret")
    bob3.subscribe("/queue/orders", sub_id="q1", receipt=False)
    assert error_frame(bob3).headers["message"] == "access refused"


def test_topic_deliveries_and_retained_filtered(auth_broker, stomps, paho):
    alice = paho(auth_broker.port, version=V5, username="alice", password="wonderland")
    alice.connect()
    alice.publish("news/public", b"r-public", qos=1, retain=True)
    alice.publish("news/private/memo", b"r-private", qos=1, retain=True)
    bob = stomps(auth_broker.stomp_port, login="bob", passcode="b0b-s3cret")
    bob.subscribe("/topic/news/#", sub_id="n")
    f = bob.get()
    assert f.headers["destination"] == "/topic/news/public" and f.body == b"r-public"
    bob.expect_nothing()
    # A second subscription on the same filter gets its own retained copy, filtered too.
    bob.subscribe("/topic/news/#", sub_id="n2")
    f = bob.get()
    assert f.headers["subscription"] == "n2" and f.body == b"r-public"
    bob.expect_nothing()
    alice.publish("news/private/live", b"hidden", qos=1)
    alice.publish("news/live", b"shown", qos=1)
    got = bob.get_n(2)
    assert sorted(m.body for m in got) == [b"shown", b"shown"]
    bob.expect_nothing()


def test_queue_destinations(auth_broker, stomps):
    port = auth_broker.stomp_port
    alice = stomps(port, login="alice", passcode="wonderland")
    bob = stomps(port, login="bob", passcode="b0b-s3cret")
    alice.send("/queue/jobs", b"job-1", receipt="r1")
    bob.subscribe("/queue/jobs", sub_id="j")
    assert bob.get().body == b"job-1"
    bob.send("/queue/reports", b"report", receipt="r2")  # write-only queue
    alice.subscribe("/queue/reports", sub_id="r")
    assert alice.get().body == b"report"
    bob.conn.send("/queue/jobs", b"no write", headers={})
    assert error_frame(bob).headers["message"] == "access refused"


def test_temp_queues_are_not_governed_by_the_acl(auth_broker, stomps):
    bob = stomps(auth_broker.stomp_port, login="bob", passcode="b0b-s3cret")
    bob.subscribe("/temp-queue/replies", sub_id="t")
    bob.send("/temp-queue/replies", b"to myself", receipt="r")
    assert bob.get().body == b"to myself"
