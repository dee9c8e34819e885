"""A real Prosody (Debian `prosody`) and slixmpp clients for the XMPP bridge
tests (see /work/shared/XMPP-TESTING.md for the facts behind the config).

Prosody runs as a direct child of the test, on free loopback ports, with its
own config and data directory; stop() sends SIGTERM to its PID and waits.
An XmppClient runs one slixmpp ClientXMPP on its own asyncio loop in a
thread; call() runs a coroutine function there and returns its result.
"""

import asyncio
import os
import queue
import signal
import subprocess
import threading
import time

from broker import free_port, port_open

COMPONENT = "gw.localhost"
SECRET = "s3cret-for-tests"

_CONFIG = """-- Throw-away Prosody config for Junction's integration tests (loopback only).
run_as_root = true
data_path = "{dir}/data"
pidfile = "{dir}/prosody.pid"
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
component_interfaces = {{ "127.0.0.1" }}
component_ports = {{ {comp} }}
modules_enabled = {{ "roster"; "saslauth"; "disco"; "ping"; }}
modules_disabled = {{ "s2s"; "s2s_auth_certs"; "offline" }}
authentication = "internal_plain"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
log = {{
  {{ levels = {{ min = "debug" }}, to = "file", filename = "{dir}/prosody.log" }};
  {{ levels = {{ min = "info" }}, to = "file", filename = "{dir}/prosody.info.log" }};
}}
VirtualHost "localhost"
Component "{component}"
  component_secret = "{secret}"
"""


class Prosody:
    def __init__(self, workdir, users=("alice", "bob")):
        self.dir = str(workdir)
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "certs"), exist_ok=True)
        self.c2s_port = free_port()
        self.component_port = free_port()
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        with open(self.config, "w") as f:
            f.write(_CONFIG.format(dir=self.dir, c2s=self.c2s_port, comp=self.component_port,
                                   component=COMPONENT, secret=SECRET))
        self.proc = None
        self.users = {}
        for u in users:
            self.register(u, u + "-pass")

    def register(self, user, password):
        subprocess.run(["prosodyctl", "--config", self.config, "register", user, "localhost", password],
                       check=True, capture_output=True, timeout=30)
        self.users[user] = password

    def start(self, timeout=15.0):
        out = open(os.path.join(self.dir, "prosody.out"), "ab")
        self.proc = subprocess.Popen(["prosody", "-F", "--config", self.config], stdout=out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prosody exited with %s:\n%s" % (self.proc.returncode, self.log()))
            if port_open(self.c2s_port) and port_open(self.component_port):
                return
            time.sleep(0.05)
        raise RuntimeError("prosody did not open its ports:\n" + self.log())

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.dir, "prosody.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def junction_yaml(prosody, secret=SECRET, scope=None, extra=""):
    """The `xmpp:` section for a broker that bridges to `prosody`."""
    text = ("xmpp:\n  enabled: true\n  host: 127.0.0.1\n  port: %d\n  component: %s\n  secret: \"%s\"\n"
            % (prosody.component_port, COMPONENT, secret))
    if scope:
        text += "  scope: [%s]\n" % ", ".join('"%s"' % s for s in scope)
    return text + extra


def wait_for(cond, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class XmppClient:
    """A slixmpp client on its own loop thread. Received PubSub events and
    chat messages go to the `events` and `chats` queues."""

    def __init__(self, prosody, user, resource="test"):
        import slixmpp  # noqa: F401 - fail early when python3-slixmpp is missing
        self.jid = "%s@localhost/%s" % (user, resource)
        self.bare = "%s@localhost" % user
        self.password = prosody.users[user]
        self.port = prosody.c2s_port
        self.events = queue.Queue()
        self.chats = queue.Queue()
        self.presences = queue.Queue()
        self._ready = threading.Event()
        self._failed = None
        self.loop = None
        self.client = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("XMPP client %s did not start a session: %s" % (self.jid, self._failed))
        if self._failed:
            raise RuntimeError("XMPP client %s failed: %s" % (self.jid, self._failed))

    def _run(self):
        import slixmpp
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        c = slixmpp.ClientXMPP(self.jid, self.password)
        for p in ("xep_0030", "xep_0060", "xep_0199"):
            c.register_plugin(p)
        self.client = c

        async def session_start(_):
            c.send_presence()
            await c.get_roster()
            self._ready.set()

        def failed(reason):
            self._failed = reason
            self._ready.set()

        c.add_event_handler("session_start", session_start)
        c.add_event_handler("failed_auth", lambda _: failed("authentication failed"))
        c.add_event_handler("connection_failed", lambda e: failed("connection failed: %s" % e))
        c.add_event_handler("pubsub_publish", lambda m: self.events.put(m))
        c.add_event_handler("message", lambda m: self.chats.put(m) if m["type"] in ("chat", "normal") else None)
        c.add_event_handler("presence", lambda p: self.presences.put(p))
        c.connect(("127.0.0.1", self.port), disable_starttls=True)
        self.loop.run_forever()
        # Let slixmpp's pending tasks end inside the loop (no "Task was
        # destroyed but it is pending" at exit).
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def call(self, fn, timeout=10.0):
        """Runs `await fn(client)` on the client's loop and returns the result."""
        async def wrapper():
            return await fn(self.client)
        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def run(self, fn):
        """Runs `fn(client)` (not a coroutine) on the client's loop."""
        done = threading.Event()
        box = {}

        def go():
            try:
                box["v"] = fn(self.client)
            finally:
                done.set()
        self.loop.call_soon_threadsafe(go)
        done.wait(10)
        return box.get("v")

    def close(self):
        if self.loop is None or self.loop.is_closed():
            return

        async def bye():
            self.client.disconnect()
            try:
                await asyncio.wait_for(self.client.disconnected, 5)
            except Exception:  # noqa: BLE001
                pass
            self.loop.stop()
        try:
            asyncio.run_coroutine_threadsafe(bye(), self.loop)
        except RuntimeError:
            pass
        self._thread.join(10)
