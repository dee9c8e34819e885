"""Helpers for the STOMP integration tests: the real stomp.py client (Debian
python3-stomp, run with /usr/bin/python3) plus a raw-socket client for what
stomp.py cannot do on purpose (malformed frames, silence, exact bytes).

Every wait has a timeout, so a hung broker fails a test instead of hanging it.
"""

import queue
import socket
import time

import stomp

DEFAULT_TIMEOUT = 5.0

CONNECTIONS = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}


class Collector(stomp.ConnectionListener):
    """Puts every frame stomp.py hands us into one queue per kind."""

    def __init__(self):
        self.messages = queue.Queue()
        self.receipts = queue.Queue()
        self.errors = queue.Queue()
        self.connected = queue.Queue()
        self.heartbeats = 0
        self.disconnected = False

    def on_connected(self, frame):
        self.connected.put(frame)

    def on_message(self, frame):
        self.messages.put(frame)

    def on_receipt(self, frame):
        self.receipts.put(frame)

    def on_error(self, frame):
        self.errors.put(frame)

    def on_heartbeat(self):
        self.heartbeats += 1

    def on_disconnected(self):
        self.disconnected = True


class Stomp:
    """One stomp.py connection of the given version with a Collector."""

    def __init__(self, port, version="1.2", heartbeats=(0, 0), login=None, passcode=None, headers=None,
                 connect=True):
        cls = CONNECTIONS[version]
        kw = {"auto_decode": False}
        if version != "1.0":
            kw["heartbeats"] = heartbeats
        self.version = version
        self.conn = cls([("127.0.0.1", port)], reconnect_attempts_max=1, **kw)
        self.listener = Collector()
        self.conn.set_listener("collector", self.listener)
        self.connected_frame = None
        if connect:
            self.conn.connect(login, passcode, wait=True, headers=headers or {})
            self.connected_frame = self.listener.connected.get(timeout=DEFAULT_TIMEOUT)

    # ---- frames
    def subscribe(self, destination, sub_id=None, ack="auto", receipt=True, **headers):
        """Subscribes and (by default) waits for the RECEIPT, so that what is
        sent afterwards is certain to match."""
        h = dict(headers)
        rid = None
        if receipt:
            rid = "sub-%s-%d" % (sub_id, time.monotonic_ns())
            h["receipt"] = rid
        if self.version == "1.0":
            self.conn.subscribe(destination, id=sub_id, ack=ack, headers=h)
        else:
            self.conn.subscribe(destination, sub_id, ack=ack, headers=h)
        if rid:
            self.wait_receipt(rid)

    def unsubscribe(self, sub_id, receipt=True):
        h = {}
        rid = None
        if receipt:
            rid = "unsub-%s-%d" % (sub_id, time.monotonic_ns())
            h["receipt"] = rid
        self.conn.unsubscribe(id=sub_id, headers=h)
        if rid:
            self.wait_receipt(rid)

    def send(self, destination, body, receipt=None, **headers):
        h = dict(headers)
        if receipt:
            h["receipt"] = receipt
        self.conn.send(destination, body, headers=h)
        if receipt:
            self.wait_receipt(receipt)

    def ack(self, frame, transaction=None, receipt=None):
        h = frame.headers
        if self.version == "1.2":
            self.conn.ack(h["ack"], transaction=transaction, receipt=receipt)
        elif self.version == "1.1":
            self.conn.ack(h["message-id"], h["subscription"], transaction=transaction, receipt=receipt)
        else:
            self.conn.ack(h["message-id"], transaction=transaction, receipt=receipt)
        if receipt:
            self.wait_receipt(receipt)

    def nack(self, frame, transaction=None, receipt=None, **headers):
        h = frame.headers
        if self.version == "1.2":
            self.conn.nack(h["ack"], transaction=transaction, receipt=receipt, **headers)
        else:
            self.conn.nack(h["message-id"], h["subscription"], transaction=transaction, receipt=receipt, **headers)
        if receipt:
            self.wait_receipt(receipt)

    # ---- waiting
    def wait_receipt(self, rid, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                f = self.listener.receipts.get(timeout=max(0.0, left))
            except queue.Empty:
                raise AssertionError("no RECEIPT %r within %.1fs (errors: %r)" % (rid, timeout, self.errors()))
            if f.headers.get("receipt-id") == rid:
                return f

    def get(self, timeout=DEFAULT_TIMEOUT):
        try:
            return self.listener.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no MESSAGE within %.1fs (errors: %r)" % (timeout, self.errors()))

    def get_n(self, n, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            try:
                out.append(self.listener.messages.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError("got %d of %d messages within %.1fs" % (len(out), n, timeout))
        return out

    def drain(self, quiet=0.5, limit=20.0):
        out = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                out.append(self.listener.messages.get(timeout=quiet))
            except queue.Empty:
                break
        return out

    def expect_nothing(self, wait=0.5):
        try:
            f = self.listener.messages.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError("unexpected MESSAGE %r %r" % (f.headers, f.body))

    def wait_errors(self, timeout=5.0):
        """The ERROR frames received, after waiting up to `timeout` for the first."""
        deadline = time.monotonic() + timeout
        while self.listener.errors.empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.errors()

    def errors(self):
        out = []
        while True:
            try:
                out.append(self.listener.errors.get_nowait())
            except queue.Empty:
                return [(f.headers, f.body) for f in out]

    def disconnect(self, timeout=DEFAULT_TIMEOUT):
        """DISCONNECT with a receipt; returns the RECEIPT frame."""
        if not self.conn.is_connected():
            return None
        rid = "bye-%d" % time.monotonic_ns()
        self.conn.disconnect(receipt=rid)
        return self.wait_receipt(rid, timeout)

    def close(self):
        try:
            if self.conn.is_connected():
                self.conn.disconnect(receipt=None)
        except Exception:  # noqa: BLE001 - teardown
            pass


# ---------------------------------------------------------------- raw frames

def frame_bytes(cmd, headers=(), body=b""):
    """headers: list of (name, value); written as given (no escaping)."""
    if isinstance(body, str):
        body = body.encode()
    out = cmd.encode() + b"\n"
    for k, v in headers:
        out += ("%s:%s\n" % (k, v)).encode()
    return out + b"\n" + body + b"\0"


class RawFrame:
    def __init__(self, cmd, headers, body):
        self.cmd = cmd
        self.header_list = headers
        self.headers = {}
        for k, v in headers:  # the first occurrence counts
            self.headers.setdefault(k, v)
        self.body = body

    def __repr__(self):
        return "<%s %r %r>" % (self.cmd, self.header_list, self.body[:60])


def _unescape(s, version):
    if version == "1.0":
        return s
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append({"n": "\n", "c": ":", "\\": "\\", "r": "\r"}[s[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class RawStomp:
    """A socket speaking STOMP bytes directly. read() returns RawFrame,
    "HEARTBEAT" for a bare EOL, or None once the broker closed."""

    def __init__(self, port, timeout=DEFAULT_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.version = "1.0"
        self.closed = False

    def send(self, data):
        self.sock.sendall(data)

    def frame(self, cmd, headers=(), body=b""):
        self.send(frame_bytes(cmd, headers, body))

    def connect(self, version="1.2", heart_beat="0,0", extra=()):
        headers = [("accept-version", version), ("host", "localhost"), ("heart-beat", heart_beat)] + list(extra)
        self.frame("CONNECT", headers)
        f = self.read()
        assert f is not None and f != "HEARTBEAT" and f.cmd == "CONNECTED", f
        self.version = f.headers.get("version", "1.0")
        return f

    def _fill(self, deadline):
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            d = b""
        if not d:
            self.closed = True
            return False
        self.buf += d
        return True

    def read(self, timeout=DEFAULT_TIMEOUT, skip_heartbeats=True):
        deadline = time.monotonic() + timeout
        while True:
            while self.buf[:1] in (b"\n", b"\r"):
                if self.buf[:2] == b"\r\n":
                    self.buf = self.buf[2:]
                else:
                    self.buf = self.buf[1:]
                if not skip_heartbeats:
                    return "HEARTBEAT"
            f = self._parse()
            if f is not None:
                return f
            if self.closed:
                return None
            if time.monotonic() >= deadline:
                raise AssertionError("no frame within %.1fs (buffer %r)" % (timeout, self.buf[:200]))
            self._fill(deadline)

    def _parse(self):
        end = self.buf.find(b"\n\n")
        if end < 0:
            return None
        head = self.buf[:end].decode("utf-8", "replace")
        lines = [line[:-1] if line.endswith("\r") else line for line in head.split("\n")]
        cmd, headers = lines[0], []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            esc = self.version if cmd not in ("CONNECTED",) else "1.0"
            headers.append((_unescape(k, esc), _unescape(v, esc)))
        start = end + 2
        length = None
        for k, v in headers:
            if k == "content-length":
                length = int(v)
                break
        if length is not None:
            if len(self.buf) < start + length + 1:
                return None
            body = self.buf[start:start + length]
            assert self.buf[start + length:start + length + 1] == b"\0"
            self.buf = self.buf[start + length + 1:]
        else:
            nul = self.buf.find(b"\0", start)
            if nul < 0:
                return None
            body = self.buf[start:nul]
            self.buf = self.buf[nul + 1:]
        return RawFrame(cmd, headers, body)

    def expect_error(self, timeout=DEFAULT_TIMEOUT):
        """The next frame is an ERROR and then the broker closes the socket."""
        f = self.read(timeout)
        assert f is not None and f.cmd == "ERROR", f
        self.expect_closed(timeout)
        return f

    def expect_closed(self, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.closed:
            if time.monotonic() >= deadline:
                raise AssertionError("connection still open after %.1fs" % timeout)
            self._fill(deadline)
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- fixtures
# Imported by the STOMP test modules (`from stomp_client import stomps, raw_stomp`).

import pytest  # noqa: E402


@pytest.fixture
def stomps():
    """make(port, version="1.2", **kw) -> connected Stomp, closed at teardown."""
    made = []

    def make(port, version="1.2", **kw):
        c = Stomp(port, version, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def raw_stomp():
    """make(port) -> RawStomp (not yet connected), closed at teardown."""
    made = []

    def make(port):
        c = RawStomp(port)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
