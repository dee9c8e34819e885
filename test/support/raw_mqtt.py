"""A tiny raw-socket MQTT client for the cases paho cannot express.

Used only where the test needs byte-level control: malformed packets, a
client that never acknowledges (receive maximum), a client that goes silent
(keep-alive), reading the exact reason code of a CONNACK/PUBACK/DISCONNECT.
Everything else in the integration suite uses paho-mqtt and the mosquitto
command line clients.

Packet builders return bytes; RawClient sends them and reads whole packets
back as Packet objects with the common fields decoded.
"""

import socket
import struct
import time

# Packet types (upper nibble of the fixed header).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP = 8, 9, 10, 11, 12, 13
DISCONNECT, AUTH = 14, 15

NAMES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC",
         6: "PUBREL", 7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK",
         10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP",
         14: "DISCONNECT", 15: "AUTH"}

V31, V311, V5 = 3, 4, 5

# MQTT 5 property identifiers and their value types.
P_PAYLOAD_FORMAT = 0x01
P_MESSAGE_EXPIRY = 0x02
P_CONTENT_TYPE = 0x03
P_RESPONSE_TOPIC = 0x08
P_CORRELATION_DATA = 0x09
P_SUBSCRIPTION_ID = 0x0B
P_SESSION_EXPIRY = 0x11
P_ASSIGNED_CLIENT_ID = 0x12
P_SERVER_KEEP_ALIVE = 0x13
P_AUTH_METHOD = 0x15
P_AUTH_DATA = 0x16
P_REQUEST_PROBLEM_INFO = 0x17
P_WILL_DELAY = 0x18
P_REQUEST_RESPONSE_INFO = 0x19
P_RESPONSE_INFO = 0x1A
P_SERVER_REFERENCE = 0x1C
P_REASON_STRING = 0x1F
P_RECEIVE_MAXIMUM = 0x21
P_TOPIC_ALIAS_MAXIMUM = 0x22
P_TOPIC_ALIAS = 0x23
P_MAXIMUM_QOS = 0x24
P_RETAIN_AVAILABLE = 0x25
P_USER_PROPERTY = 0x26
P_MAXIMUM_PACKET_SIZE = 0x27
P_WILDCARD_SUB_AVAILABLE = 0x28
P_SUB_ID_AVAILABLE = 0x29
P_SHARED_SUB_AVAILABLE = 0x2A

_BYTE, _U16, _U32, _VARINT, _BIN, _STR, _PAIR = range(7)
PROPERTY_TYPES = {
    0x01: _BYTE, 0x02: _U32, 0x03: _STR, 0x08: _STR, 0x09: _BIN, 0x0B: _VARINT,
    0x11: _U32, 0x12: _STR, 0x13: _U16, 0x15: _STR, 0x16: _BIN, 0x17: _BYTE,
    0x18: _U32, 0x19: _BYTE, 0x1A: _STR, 0x1C: _STR, 0x1F: _STR, 0x21: _U16,
    0x22: _U16, 0x23: _U16, 0x24: _BYTE, 0x25: _BYTE, 0x26: _PAIR, 0x27: _U32,
    0x28: _BYTE, 0x29: _BYTE, 0x2A: _BYTE,
}


class ProtocolError(Exception):
    pass


# ---------------------------------------------------------------- encoding

def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def u16(n):
    return struct.pack("!H", n)


def u32(n):
    return struct.pack("!I", n)


def bin_(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return u16(len(data)) + bytes(data)


# Strings are binary-length-prefixed too; raw bytes may be passed to build
# deliberately invalid UTF-8.
string = bin_


def properties(props):
    """props: None, a dict {id: value}, or a list of (id, value) (repeats allowed).
    A user property value is a (name, value) pair."""
    if props is None:
        return b"\x00"
    items = props.items() if isinstance(props, dict) else props
    body = bytearray()
    for pid, value in items:
        body += varint(pid)
        t = PROPERTY_TYPES[pid]
        if t == _BYTE:
            body.append(value)
        elif t == _U16:
            body += u16(value)
        elif t == _U32:
            body += u32(value)
        elif t == _VARINT:
            body += varint(value)
        elif t in (_BIN, _STR):
            body += bin_(value)
        elif t == _PAIR:
            body += bin_(value[0]) + bin_(value[1])
    return varint(len(body)) + bytes(body)


def packet(ptype, flags, body):
    return bytes([(ptype << 4) | flags]) + varint(len(body)) + bytes(body)


def connect(client_id="", version=V311, keepalive=60, clean=True, props=None,
            will_topic=None, will_payload=b"", will_qos=0, will_retain=False,
            will_props=None, username=None, password=None,
            protocol_name=None, reserved_flag=False):
    if protocol_name is None:
        protocol_name = "MQIsdp" if version == V31 else "MQTT"
    flags = 0
    if clean:
        flags |= 0x02
    if will_topic is not None:
        flags |= 0x04 | (will_qos << 3) | (0x20 if will_retain else 0)
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    if reserved_flag:
        flags |= 0x01
    body = bytearray(string(protocol_name))
    body.append(version)
    body.append(flags)
    body += u16(keepalive)
    if version == V5:
        body += properties(props)
    body += string(client_id)
    if will_topic is not None:
        if version == V5:
            body += properties(will_props)
        body += string(will_topic) + bin_(will_payload)
    if username is not None:
        body += string(username)
    if password is not None:
        body += bin_(password)
    return packet(CONNECT, 0, body)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, packet_id=None,
            version=V311, props=None):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    flags = (qos << 1) | (0x01 if retain else 0) | (0x08 if dup else 0)
    body = bytearray(string(topic))
    if qos > 0:
        body += u16(packet_id if packet_id is not None else 1)
    if version == V5:
        body += properties(props)
    body += payload
    return packet(PUBLISH, flags, body)


def _ack(ptype, flags, packet_id, version, reason, props):
    body = bytearray(u16(packet_id))
    if version == V5 and (reason != 0 or props):
        body.append(reason)
        if props:
            body += properties(props)
    return packet(ptype, flags, body)


def puback(packet_id, version=V311, reason=0, props=None):
    return _ack(PUBACK, 0, packet_id, version, reason, props)


def pubrec(packet_id, version=V311, reason=0, props=None):
    return _ack(PUBREC, 0, packet_id, version, reason, props)


def pubrel(packet_id, version=V311, reason=0, props=None):
    return _ack(PUBREL, 2, packet_id, version, reason, props)


def pubcomp(packet_id, version=V311, reason=0, props=None):
    return _ack(PUBCOMP, 0, packet_id, version, reason, props)


def subscribe(packet_id, filters, version=V311, props=None, flags=0x02):
    """filters: list of (filter, options_byte) — for v3 options is the QoS."""
    body = bytearray(u16(packet_id))
    if version == V5:
        body += properties(props)
    for topic_filter, opts in filters:
        body += string(topic_filter)
        body.append(opts)
    return packet(SUBSCRIBE, flags, body)


def sub_options(qos, no_local=False, retain_as_published=False, retain_handling=0):
    return qos | (0x04 if no_local else 0) | (0x08 if retain_as_published else 0) | (retain_handling << 4)


def unsubscribe(packet_id, filters, version=V311, props=None):
    body = bytearray(u16(packet_id))
    if version == V5:
        body += properties(props)
    for topic_filter in filters:
        body += string(topic_filter)
    return packet(UNSUBSCRIBE, 2, body)


def pingreq():
    return b"\xc0\x00"


def disconnect(version=V311, reason=0, props=None):
    if version != V5 or (reason == 0 and not props):
        return b"\xe0\x00"
    body = bytearray([reason])
    if props:
        body += properties(props)
    return packet(DISCONNECT, 0, body)


# ---------------------------------------------------------------- decoding

def decode_varint(buf, pos):
    mult, value = 1, 0
    for i in range(4):
        if pos >= len(buf):
            raise ProtocolError("truncated varint")
        b = buf[pos]
        pos += 1
        value += (b & 0x7F) * mult
        if not b & 0x80:
            return value, pos
        mult *= 128
    raise ProtocolError("varint longer than 4 bytes")


def decode_properties(buf, pos):
    """Returns (list of (id, value), new_pos)."""
    length, pos = decode_varint(buf, pos)
    end = pos + length
    out = []
    while pos < end:
        pid, pos = decode_varint(buf, pos)
        t = PROPERTY_TYPES.get(pid)
        if t is None:
            raise ProtocolError("unknown property 0x%02x" % pid)
        if t == _BYTE:
            value = buf[pos]
            pos += 1
        elif t == _U16:
            value = struct.unpack_from("!H", buf, pos)[0]
            pos += 2
        elif t == _U32:
            value = struct.unpack_from("!I", buf, pos)[0]
            pos += 4
        elif t == _VARINT:
            value, pos = decode_varint(buf, pos)
        elif t in (_BIN, _STR):
            n = struct.unpack_from("!H", buf, pos)[0]
            value = bytes(buf[pos + 2:pos + 2 + n])
            pos += 2 + n
            if t == _STR:
                value = value.decode("utf-8")
        else:
            n = struct.unpack_from("!H", buf, pos)[0]
            k = bytes(buf[pos + 2:pos + 2 + n]).decode("utf-8")
            pos += 2 + n
            n = struct.unpack_from("!H", buf, pos)[0]
            v = bytes(buf[pos + 2:pos + 2 + n]).decode("utf-8")
            pos += 2 + n
            value = (k, v)
        out.append((pid, value))
    if pos != end:
        raise ProtocolError("property length mismatch")
    return out, end


class Packet:
    """A received packet. Fields set depend on the type:
    CONNACK: session_present, reason; PUBLISH: topic, payload, qos, retain,
    dup, packet_id; acks: packet_id, reason; SUBACK/UNSUBACK: packet_id,
    reasons; DISCONNECT/AUTH: reason. props: list of (id, value) for v5."""

    def __init__(self, ptype, flags, body, version):
        self.type = ptype
        self.flags = flags
        self.body = bytes(body)
        self.props = []
        self.reason = None
        self.packet_id = None
        self._decode(version)

    @property
    def name(self):
        return NAMES.get(self.type, "?%d" % self.type)

    def prop(self, pid, default=None):
        for k, v in self.props:
            if k == pid:
                return v
        return default

    def prop_all(self, pid):
        return [v for k, v in self.props if k == pid]

    def _decode(self, version):
        b = self.body
        v5 = version == V5
        if self.type == CONNACK:
            self.session_present = bool(b[0] & 1)
            self.reason = b[1]
            if v5 and len(b) > 2:
                self.props, _ = decode_properties(b, 2)
        elif self.type == PUBLISH:
            self.qos = (self.flags >> 1) & 3
            self.retain = bool(self.flags & 1)
            self.dup = bool(self.flags & 8)
            n = struct.unpack_from("!H", b, 0)[0]
            self.topic_bytes = b[2:2 + n]
            self.topic = self.topic_bytes.decode("utf-8", "replace")
            pos = 2 + n
            if self.qos:
                self.packet_id = struct.unpack_from("!H", b, pos)[0]
                pos += 2
            if v5:
                self.props, pos = decode_properties(b, pos)
            self.payload = b[pos:]
        elif self.type in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            self.packet_id = struct.unpack_from("!H", b, 0)[0]
            self.reason = b[2] if len(b) > 2 else 0
            if v5 and len(b) > 3:
                self.props, _ = decode_properties(b, 3)
        elif self.type in (SUBACK, UNSUBACK):
            self.packet_id = struct.unpack_from("!H", b, 0)[0]
            pos = 2
            if v5:
                self.props, pos = decode_properties(b, pos)
            self.reasons = list(b[pos:])
        elif self.type in (DISCONNECT, AUTH):
            self.reason = b[0] if len(b) > 0 else 0
            if v5 and len(b) > 1:
                self.props, _ = decode_properties(b, 1)

    def __repr__(self):
        extra = ""
        if self.type == PUBLISH:
            extra = " topic=%r q%d r%d d%d id=%s payload=%r" % (
                self.topic, self.qos, self.retain, self.dup, self.packet_id, self.payload[:40])
        elif self.reason is not None:
            extra = " reason=0x%02x id=%s" % (self.reason, self.packet_id)
        return "<%s%s props=%r>" % (self.name, extra, self.props)


class Closed(Exception):
    """The peer closed the connection."""


class RawClient:
    """One TCP connection speaking raw MQTT bytes."""

    def __init__(self, port, host="127.0.0.1", version=V311, timeout=5.0):
        self.version = version
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.closed = False

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no packet before deadline")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no packet before deadline")
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.closed = True
            raise Closed()
        self.buf += data

    def recv(self, timeout=5.0):
        """Next whole packet. Raises TimeoutError, or Closed on EOF/reset."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                try:
                    length, pos = decode_varint(self.buf, 1)
                except ProtocolError as e:
                    if "truncated" not in str(e):
                        raise
                    length = None
                if length is not None and len(self.buf) >= pos + length:
                    first = self.buf[0]
                    body = self.buf[pos:pos + length]
                    del self.buf[:pos + length]
                    return Packet(first >> 4, first & 0x0F, body, self.version)
            if self.closed:
                raise Closed()
            self._fill(deadline)

    def recv_until_closed(self, timeout=5.0):
        """Read packets until the server closes the connection.
        Returns the list of packets read; raises TimeoutError if still open."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            try:
                got.append(self.recv(max(0.0, deadline - time.monotonic())))
            except Closed:
                return got
            except TimeoutError:
                raise TimeoutError("connection still open after %.1fs; packets read: %r" % (timeout, got))

    def expect(self, ptype, timeout=5.0, skip=()):
        """Next packet, which must be of type ptype (types in skip are ignored)."""
        while True:
            p = self.recv(timeout)
            if p.type in skip:
                continue
            if p.type != ptype:
                raise AssertionError("expected %s, got %r" % (NAMES[ptype], p))
            return p

    def connect(self, client_id="", **kw):
        """Send CONNECT and return the CONNACK packet."""
        kw.setdefault("version", self.version)
        self.send(connect(client_id, **kw))
        return self.expect(CONNACK)

    def subscribe(self, packet_id, filters, props=None):
        self.send(subscribe(packet_id, filters, version=self.version, props=props))
        return self.expect(SUBACK)

    def publish(self, topic, payload=b"", qos=0, retain=False, packet_id=None, props=None):
        self.send(publish(topic, payload, qos, retain, packet_id=packet_id,
                          version=self.version, props=props))

    def is_open(self, wait=0.2):
        """True if the connection is still open after wait seconds with no EOF."""
        if self.closed:
            return False
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536, socket.MSG_PEEK)
        except socket.timeout:
            return True
        except (ConnectionResetError, BrokenPipeError, OSError):
            self.closed = True
            return False
        if not data:
            self.closed = True
            return False
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def abort(self):
        """Close with RST (no DISCONNECT, no FIN handshake)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
