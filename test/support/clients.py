"""Helpers around clients other people wrote: paho-mqtt and mosquitto_pub/sub.

PahoClient runs paho's network loop in its own thread *without* automatic
reconnection (paho's loop_forever would reconnect, which would turn a session
takeover into ping-pong), collects messages into a queue and turns every wait
into a timeout, so a hung broker fails a test instead of hanging the suite.
"""

import contextlib
import queue
import socket
import struct
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

V31, V311, V5 = mqtt.MQTTv31, mqtt.MQTTv311, mqtt.MQTTv5
VERSION_NAMES = {V31: "v31", V311: "v311", V5: "v5"}

DEFAULT_TIMEOUT = 5.0

_counter = [0]
_counter_lock = threading.Lock()


def unique(prefix="c"):
    with _counter_lock:
        _counter[0] += 1
        return "%s-%d-%d" % (prefix, int(time.time() * 1000) % 100000, _counter[0])


def props(packet_type, **values):
    """props(PacketTypes.PUBLISH, UserProperty=[("a","1")], ContentType="x")"""
    p = Properties(packet_type)
    for k, v in values.items():
        setattr(p, k, v)
    return p


def props_dict(p):
    """paho Properties -> {CompressedName: value} (only the ones present)."""
    if p is None:
        return {}
    out = {}
    for name in p.names:
        key = name.replace(" ", "")
        if hasattr(p, key):
            out[key] = getattr(p, key)
    return out


def rc_value(rc):
    """paho gives ints (v3) or ReasonCodes objects (v5)."""
    if rc is None:
        return None
    if hasattr(rc, "value"):
        return rc.value
    return int(rc)


class Msg:
    def __init__(self, m):
        self.topic_bytes = bytes(m._topic)
        self.topic = self.topic_bytes.decode("utf-8", "replace")
        self.payload = bytes(m.payload)
        self.qos = m.qos
        self.retain = bool(m.retain)
        self.dup = bool(m.dup)
        self.mid = m.mid
        self.props = props_dict(getattr(m, "properties", None))
        self.time = time.monotonic()

    def __repr__(self):
        return "<Msg %s %r q%d r%d %r>" % (self.topic, self.payload[:40], self.qos, self.retain, self.props)


class Connack:
    def __init__(self, rc, session_present, properties):
        self.rc = rc
        self.session_present = bool(session_present)
        self.props = props_dict(properties)

    def __repr__(self):
        return "<Connack rc=%s sp=%s %r>" % (self.rc, self.session_present, self.props)


class ConnectFailed(AssertionError):
    pass


class PahoClient:
    def __init__(self, port, client_id=None, version=V311, clean=True,
                 session_expiry=None, keepalive=30, will=None, connect_props=None,
                 host="127.0.0.1", max_inflight=20, transport="tcp", ws_path="/mqtt", tls=None,
                 username=None, password=None):
        """will: dict(topic=, payload=, qos=, retain=, props=) (props: Properties)
        connect_props: dict of extra CONNECT properties (v5), e.g. ReceiveMaximum=10.
        transport: tcp, tls, ws or wss (ws_path: the WebSocket path);
        tls: keyword arguments of paho's tls_set (ca_certs=, certfile=, keyfile=)."""
        self.port = port
        self.host = host
        self.version = version
        self.client_id = unique("paho") if client_id is None else client_id
        self.clean = clean
        self.keepalive = keepalive
        paho_transport = "websockets" if transport in ("ws", "wss") else "tcp"
        if version == V5:
            self.c = mqtt.Client(client_id=self.client_id, protocol=V5, transport=paho_transport)
        else:
            self.c = mqtt.Client(client_id=self.client_id, clean_session=clean, protocol=version,
                                 transport=paho_transport)
        if paho_transport == "websockets":
            self.c.ws_set_options(path=ws_path)
        if transport in ("tls", "wss"):
            self.c.tls_set(**(tls or {}))
        # An ssl socket must not be read by the network thread while the
        # test thread writes to it (OpenSSL objects are not thread-safe and
        # Python does not lock them): TLS clients take turns.
        self._tls = transport in ("tls", "wss")
        self._io = threading.Lock() if self._tls else contextlib.nullcontext()
        if username is not None:
            self.c.username_pw_set(username, password)
        self.c.max_inflight_messages_set(max_inflight)
        self.c.max_queued_messages_set(0)
        self.connect_props = None
        if version == V5:
            cp = dict(connect_props or {})
            if session_expiry is not None:
                cp["SessionExpiryInterval"] = session_expiry
            if cp:
                self.connect_props = props(PacketTypes.CONNECT, **cp)
        if will:
            self.c.will_set(will["topic"], will.get("payload", b""), will.get("qos", 0),
                            will.get("retain", False), will.get("props"))
        self.messages = queue.Queue()
        self.connack = None
        self.disconnect_rc = None
        self.disconnect_props = {}
        self.connected = threading.Event()
        self.connack_event = threading.Event()
        self.gone = threading.Event()
        self.published = set()        # mids with PUBACK/PUBCOMP
        self.puback_reasons = {}      # mid -> PUBACK reason code (v5; 0 when omitted)
        self.pub_lock = threading.Condition()
        self.subacks = {}
        self.unsubacks = {}
        self.ack_cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = None
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = self._on_message
        self.c.on_publish = self._on_publish
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        if version == V5:
            self._capture_puback_reasons()

    def _capture_puback_reasons(self):
        # paho 1.6 (Debian's) parses a v5 PUBACK's reason code but does not
        # pass it to on_publish (2.x does): read it off the packet before
        # paho handles it. Set before on_publish runs, so wait_published()
        # followed by puback_reason() sees it.
        handle = getattr(self.c, "_handle_pubackcomp", None)
        if handle is None:
            return

        def handle_and_record(cmd):
            pkt = self.c._in_packet
            if cmd == "PUBACK" and pkt["remaining_length"] >= 2:
                mid, = struct.unpack("!H", pkt["packet"][:2])
                reason = pkt["packet"][2] if pkt["remaining_length"] > 2 else 0
                with self.pub_lock:
                    self.puback_reasons[mid] = reason
            return handle(cmd)

        self.c._handle_pubackcomp = handle_and_record

    def puback_reason(self, mid):
        """The reason code of the PUBACK for `mid` (v5, after wait_published)."""
        with self.pub_lock:
            if mid not in self.puback_reasons:
                raise AssertionError("no PUBACK reason recorded for mid %d (paho without _handle_pubackcomp?)" % mid)
            return self.puback_reasons[mid]

    # callbacks (network thread)
    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack = Connack(rc_value(rc), flags.get("session present", 0), properties)
        if self.connack.rc == 0:
            self.connected.set()
        self.connack_event.set()

    def _on_disconnect(self, client, userdata, rc, properties=None):
        self.disconnect_rc = rc_value(rc)
        self.disconnect_props = props_dict(properties)
        self.connected.clear()
        self.gone.set()

    def _on_message(self, client, userdata, m):
        self.messages.put(Msg(m))

    def _on_publish(self, client, userdata, mid):
        with self.pub_lock:
            self.published.add(mid)
            self.pub_lock.notify_all()

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        with self.ack_cond:
            self.subacks[mid] = [rc_value(g) for g in granted]
            self.ack_cond.notify_all()

    def _on_unsubscribe(self, client, userdata, mid, *rest):
        with self.ack_cond:
            self.unsubacks[mid] = rest
            self.ack_cond.notify_all()

    def _run(self):
        while not self._stop.is_set():
            try:
                if self._tls:
                    with self._io:
                        rc = self.c.loop(timeout=0.01)
                    time.sleep(0.002)  # let a waiting writer in
                else:
                    rc = self.c.loop(timeout=0.05)
            except Exception:  # socket closed under us
                rc = 1
            if rc != mqtt.MQTT_ERR_SUCCESS:
                if not self.gone.is_set():
                    self.gone.set()
                    self.connected.clear()
                break

    # API
    def connect(self, timeout=DEFAULT_TIMEOUT, expect_ok=True):
        kw = {}
        if self.version == V5:
            kw["clean_start"] = bool(self.clean)
            kw["properties"] = self.connect_props
        self.c.connect(self.host, self.port, keepalive=self.keepalive, **kw)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="paho-%s" % self.client_id)
        self._thread.start()
        if not self.connack_event.wait(timeout):
            self.close()
            raise ConnectFailed("no CONNACK within %.1fs for %s" % (timeout, self.client_id))
        if expect_ok and self.connack.rc != 0:
            self.close()
            raise ConnectFailed("CONNACK refused: %r" % self.connack)
        return self.connack

    def subscribe(self, topic, qos=0, timeout=DEFAULT_TIMEOUT, options=None, sub_id=None,
                  user_props=None):
        """topic: str or list of (str, qos|SubscribeOptions). Returns the SUBACK codes."""
        p = None
        if sub_id is not None or user_props:
            p = Properties(PacketTypes.SUBSCRIBE)
            if sub_id is not None:
                p.SubscriptionIdentifier = sub_id
            if user_props:
                p.UserProperty = user_props
        if options is not None:
            with self._io:
                rc, mid = self.c.subscribe(topic, options=options, properties=p)
        else:
            with self._io:
                rc, mid = self.c.subscribe(topic, qos, properties=p)
        assert rc == mqtt.MQTT_ERR_SUCCESS, "subscribe failed locally: %s" % rc
        with self.ack_cond:
            if not self.ack_cond.wait_for(lambda: mid in self.subacks, timeout):
                raise AssertionError("no SUBACK within %.1fs for %r" % (timeout, topic))
            return self.subacks[mid]

    def unsubscribe(self, topic, timeout=DEFAULT_TIMEOUT):
        with self._io:
            rc, mid = self.c.unsubscribe(topic)
        assert rc == mqtt.MQTT_ERR_SUCCESS
        with self.ack_cond:
            if not self.ack_cond.wait_for(lambda: mid in self.unsubacks, timeout):
                raise AssertionError("no UNSUBACK within %.1fs" % timeout)

    def publish(self, topic, payload=b"", qos=0, retain=False, properties=None, wait=True,
                timeout=DEFAULT_TIMEOUT, **prop_values):
        """Publish; for QoS>0 wait for the PUBACK/PUBCOMP unless wait=False.
        Extra keyword arguments become PUBLISH properties (v5)."""
        if prop_values:
            properties = properties or Properties(PacketTypes.PUBLISH)
            for k, v in prop_values.items():
                setattr(properties, k, v)
        with self._io:
            info = self.c.publish(topic, payload, qos, retain, properties)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, "publish failed locally: rc=%s" % info.rc
        if wait and qos > 0:
            self.wait_published(info.mid, timeout)
        elif wait:
            # QoS 0: nothing comes back; make sure it left our buffers.
            info.wait_for_publish(timeout)
        return info.mid

    def wait_published(self, mid, timeout=DEFAULT_TIMEOUT):
        with self.pub_lock:
            if not self.pub_lock.wait_for(lambda: mid in self.published, timeout):
                raise AssertionError("no PUBACK/PUBCOMP for mid %d within %.1fs" % (mid, timeout))

    def get(self, timeout=DEFAULT_TIMEOUT):
        """Next message; AssertionError on timeout."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no message within %.1fs (client %s)" % (timeout, self.client_id))

    def get_n(self, n, timeout=DEFAULT_TIMEOUT):
        """n messages within timeout (total)."""
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            remaining = deadline - time.monotonic()
            try:
                out.append(self.messages.get(timeout=max(0.0, remaining)))
            except queue.Empty:
                raise AssertionError("got %d of %d messages within %.1fs: %r"
                                     % (len(out), n, timeout, out[-5:]))
        return out

    def drain(self, quiet=0.5, limit=30.0):
        """Every message until none arrives for `quiet` seconds."""
        out = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                out.append(self.messages.get(timeout=quiet))
            except queue.Empty:
                break
        return out

    def expect_nothing(self, wait=0.7):
        try:
            m = self.messages.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError("unexpected message %r" % m)

    def disconnect(self, timeout=DEFAULT_TIMEOUT, reasoncode=None, properties=None):
        """Clean DISCONNECT, then wait for the socket to close."""
        if self.gone.is_set():
            self.close()
            return
        with self._io:
            self.c.disconnect(reasoncode=reasoncode, properties=properties)
        self.gone.wait(timeout)
        self.close()

    def drop(self):
        """Unclean loss of the connection: stop the network thread and close the
        socket without DISCONNECT (the broker sees EOF)."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        sock = self.c.socket()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
        self.gone.set()

    def wait_gone(self, timeout=DEFAULT_TIMEOUT):
        """Wait until the broker closes our connection."""
        if not self.gone.wait(timeout):
            raise AssertionError("connection of %s still open after %.1fs" % (self.client_id, timeout))

    def close(self):
        self._stop.set()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(5)
        try:
            sock = self.c.socket()
            if sock is not None:
                sock.close()
        except OSError:
            pass


def v5_sub_options(qos, no_local=False, retain_as_published=False, retain_handling=0):
    return SubscribeOptions(qos=qos, noLocal=no_local, retainAsPublished=retain_as_published,
                            retainHandling=retain_handling)


# ---------------------------------------------------------------- mosquitto clients

MOSQUITTO_PUB = "/usr/bin/mosquitto_pub"
MOSQUITTO_SUB = "/usr/bin/mosquitto_sub"

FIELD_SEP = "\x1f"


def mosquitto_pub(port, topic, message, qos=0, version="mqttv311", retain=False,
                  extra=(), client_id=None, timeout=10):
    """Run mosquitto_pub once; returns CompletedProcess (asserts exit 0)."""
    cmd = [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-V", version,
           "-t", topic, "-q", str(qos)]
    if message is None:
        cmd += ["-n"]
    elif isinstance(message, bytes):
        cmd += ["-s"]
    else:
        cmd += ["-m", message]
    if retain:
        cmd.append("-r")
    if client_id:
        cmd += ["-i", client_id]
    cmd += list(extra)
    r = subprocess.run(cmd, input=message if isinstance(message, bytes) else None,
                       capture_output=True, timeout=timeout)
    assert r.returncode == 0, "mosquitto_pub failed (%d): %s" % (r.returncode, r.stderr)
    return r


class SubMsg:
    def __init__(self, line):
        f = line.split(FIELD_SEP)
        self.topic, self.qos, self.retain, self.payload = f[0], int(f[1]), f[2] == "1", f[3]
        self.props = {"content_type": f[4], "user": f[5], "response_topic": f[6],
                      "correlation": f[7], "expiry": f[8], "sub_id": f[9]}

    def __repr__(self):
        return "<SubMsg %s %r q%d r%d>" % (self.topic, self.payload, self.qos, self.retain)


class MosquittoSub:
    """A running mosquitto_sub. Start it, wait until subscribed (-d output shows
    the SUBACK), then read parsed messages."""

    FORMAT = FIELD_SEP.join(["MSG" + FIELD_SEP + "%t", "%q", "%r", "%p", "%C", "%P", "%R", "%D", "%E", "%S"])

    def __init__(self, port, topics, qos=0, version="mqttv311", extra=(), client_id=None,
                 count=None, wait_suback=True, timeout=DEFAULT_TIMEOUT):
        if isinstance(topics, str):
            topics = [topics]
        cmd = ["stdbuf", "-oL", MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(port), "-V", version, "-q", str(qos),
               "-d", "-F", self.FORMAT]
        for t in topics:
            cmd += ["-t", t]
        if client_id:
            cmd += ["-i", client_id]
        if count:
            cmd += ["-C", str(count)]
        cmd += list(extra)
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, bufsize=0)
        self.lines = queue.Queue()
        self.debug = []
        self.subscribed = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait_suback and not self.subscribed.wait(timeout):
            self.kill()
            raise AssertionError("mosquitto_sub not subscribed within %.1fs: %s" % (timeout, self.debug[-10:]))

    def _read(self):
        buf = b""
        for chunk in iter(lambda: self.proc.stdout.read(4096), b""):
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                s = line.decode("utf-8", "replace")
                if s.startswith("MSG" + FIELD_SEP):
                    self.lines.put(SubMsg(s[4:]))
                else:
                    self.debug.append(s)
                    if "received SUBACK" in s:
                        self.subscribed.set()
        self.lines.put(None)

    def get(self, timeout=DEFAULT_TIMEOUT):
        try:
            m = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("mosquitto_sub: no message within %.1fs; debug: %s"
                                 % (timeout, self.debug[-10:]))
        if m is None:
            raise AssertionError("mosquitto_sub exited (%s) before a message arrived; debug: %s"
                                 % (self.proc.poll(), self.debug[-10:]))
        return m

    def get_n(self, n, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        return [self.get(max(0.0, deadline - time.monotonic())) for _ in range(n)]

    def wait(self, timeout=DEFAULT_TIMEOUT):
        return self.proc.wait(timeout)

    def kill(self, sig=9):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(2)


def roundtrip(port, version=V311, qos=1, timeout=DEFAULT_TIMEOUT):
    """Prove the broker still serves: a fresh client subscribes to a fresh
    topic, publishes to it and receives its own message."""
    c = PahoClient(port, version=version)
    try:
        c.connect(timeout)
        topic = "roundtrip/" + unique("t")
        c.subscribe(topic, qos, timeout=timeout)
        c.publish(topic, b"ping", qos, timeout=timeout)
        m = c.get(timeout)
        assert (m.topic, m.payload) == (topic, b"ping")
        c.disconnect()
    finally:
        c.close()
