"""`junction passwd` writes files Mosquitto accepts (checked with Debian's own
broker) and reads files mosquitto_passwd writes; modes and options like
mosquitto_passwd's."""

import os
import socket
import stat
import subprocess
import time

import pytest

import broker as broker_mod
from auth_files import auth_yaml, mosquitto_password_file
from clients import MOSQUITTO_PUB, PahoClient, V5

pytestmark = pytest.mark.junction_only("junction passwd is Junction's command")


def passwd(*args, input=None):
    return subprocess.run([broker_mod.junction_bin(), "passwd"] + list(args), capture_output=True, text=True,
                          input=input, timeout=30)


def test_create_update_delete(tmp_path):
    f = str(tmp_path / "pw")
    assert passwd("-c", "-b", f, "alice", "one").returncode == 0
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert passwd("-b", f, "bob", "two").returncode == 0
    assert passwd("-b", f, "alice", "three").returncode == 0  # update
    lines = open(f).read().splitlines()
    assert [l.split(":")[0] for l in lines] == ["alice", "bob"]
    assert all(l.split(":", 1)[1].startswith("$7$101$") for l in lines)
    assert passwd("-D", f, "bob").returncode == 0
    assert [l.split(":")[0] for l in open(f).read().splitlines()] == ["alice"]
    # Without -c the file must exist; -c with -D makes no sense.
    r = passwd("-b", str(tmp_path / "missing"), "x", "y")
    assert r.returncode == 1 and "cannot open" in r.stderr
    assert passwd("-c", "-D", f, "alice").returncode == 1
    assert passwd("-b", f, "a:b", "x").returncode == 1
    # Password from standard input when it is not a terminal.
    assert passwd(f, "carol", input="from-stdin\n").returncode == 0
    assert "carol:$7$" in open(f).read()


def free_port():
    return broker_mod.free_port()


def wait_port(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "mosquitto exited early"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("mosquitto not listening on %d" % port)


@pytest.mark.skipif(not os.path.exists(broker_mod.MOSQUITTO_BIN), reason="Debian mosquitto not installed")
def test_mosquitto_accepts_a_file_made_by_junction_passwd(tmp_path):
    f = str(tmp_path / "pw")
    assert passwd("-c", "-b", f, "alice", "s3cret pass").returncode == 0
    assert passwd("-b", f, "bob", "other").returncode == 0
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    # `user`: mosquitto started as root would switch to a user that cannot read our 0600 file.
    conf.write_text("user %s\nper_listener_settings false\nallow_anonymous false\npassword_file %s\n"
                    "listener %d 127.0.0.1\nlog_dest stderr\n" % (broker_mod._current_user(), f, port))
    proc = subprocess.Popen([broker_mod.MOSQUITTO_BIN, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        base = [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-t", "t", "-m", "m"]
        ok = subprocess.run(base + ["-u", "alice", "-P", "s3cret pass"], capture_output=True, text=True, timeout=10)
        assert ok.returncode == 0, ok.stderr
        ok = subprocess.run(base + ["-u", "bob", "-P", "other"], capture_output=True, text=True, timeout=10)
        assert ok.returncode == 0, ok.stderr
        bad = subprocess.run(base + ["-u", "alice", "-P", "wrong"], capture_output=True, text=True, timeout=10)
        assert bad.returncode != 0
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_junction_reads_both_tools_files(broker_factory, tmp_path):
    f = mosquitto_password_file(tmp_path / "pw", {"m-user": "m-pass"})
    assert passwd("-b", f, "j-user", "j-pass").returncode == 0
    b = broker_factory(extra_yaml=auth_yaml(password_file=f))
    for user, pw in (("m-user", "m-pass"), ("j-user", "j-pass")):
        c = PahoClient(b.port, version=V5, username=user, password=pw)
        try:
            assert c.connect().rc == 0
        finally:
            c.close()


def test_bad_files_stop_start_up_with_file_and_line(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("# users\nalice:$7$101$notbase64!!$AAAA\n")
    conf = tmp_path / "j.yaml"
    conf.write_text("listeners:\n  - {protocol: mqtt, port: 0}\nstore: {durability: memory}\n" + auth_yaml(str(pw)))
    r = subprocess.run([broker_mod.junction_bin(), "--check-config", "--config", str(conf)], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 1
    assert "%s:2: user 'alice': salt is not valid base64" % pw in r.stderr
    acl = tmp_path / "acl"
    acl.write_text("topic read a/#\nuser\n")
    conf.write_text("listeners:\n  - {protocol: mqtt, port: 0}\nstore: {durability: memory}\n" +
                    auth_yaml(acl_file=str(acl)))
    r = subprocess.run([broker_mod.junction_bin(), "--config", str(conf)], capture_output=True, text=True, timeout=20)
    assert r.returncode == 1
    assert "%s:2: 'user' needs a user name" % acl in r.stderr


def _read_until(fd, text, timeout=10):
    import select
    buf = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in buf:
        left = deadline - time.monotonic()
        assert left > 0, "no %r in %r" % (text, buf)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 1024)
            assert chunk, "EOF before %r (got %r)" % (text, buf)
            buf += chunk
    return buf


@pytest.mark.parametrize("second,ok", [("tty-pass", True), ("typo", False)])
def test_password_asked_twice_on_a_terminal(tmp_path, second, ok):
    import pty
    f = str(tmp_path / "pw")
    master, slave = pty.openpty()
    proc = subprocess.Popen([broker_mod.junction_bin(), "passwd", "-c", f, "tty-user"], stdin=slave,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(slave)
    try:
        err = proc.stderr.fileno()
        _read_until(err, "Password: ")
        os.write(master, b"tty-pass\n")
        _read_until(err, "Reenter password: ")
        os.write(master, second.encode() + b"\n")
        rc = proc.wait(15)
        rest = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        os.close(master)
    if ok:
        assert rc == 0, rest
        pw = open(f).read()
        assert pw.startswith("tty-user:$7$101$") and "tty-pass" not in pw
    else:
        assert rc == 1 and "do not match" in rest
        assert not os.path.exists(f)
