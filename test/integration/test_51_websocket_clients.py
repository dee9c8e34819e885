"""WebSocket listeners (RFC 6455 via wslay): paho-mqtt over ws and wss, one
port serving /mqtt and /stomp, and a raw client (support/ws_raw.py) for the
edges: 400/426/403/404 answers, subprotocols, fragments, several MQTT packets
per frame, ping/pong, close codes 1002 and 1009, the handshake time limit."""

import socket
import ssl
import time

import pytest

import certs
import ws_raw
from ws_raw import BINARY, CLOSE, CONT, PING, PONG, TEXT, WsClient, frame

pytestmark = pytest.mark.junction_only("Junction's WebSocket listener configuration")

# MQTT 3.1.1 CONNECT (clean session, keep-alive 60, client id "raw-ws") and PINGREQ.
CONNECT = bytes([0x10, 18, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 6]) + b"raw-ws"
CONNACK = bytes([0x20, 2, 0, 0])
PINGREQ, PINGRESP = bytes([0xC0, 0]), bytes([0xD0, 0])


def ws_listeners(port, transport="ws", websocket=None, tls=None):
    out = []
    for protocol, path in (("mqtt", "/mqtt"), ("stomp", "/stomp")):
        l = {"protocol": protocol, "transport": transport, "port": port, "path": path}
        if websocket:
            l["websocket"] = websocket
        if tls:
            l["tls"] = tls
        out.append(l)
    return out


@pytest.fixture
def wsb(broker_factory):
    """A broker with ws /mqtt and /stomp on one port (plus its tcp listener)."""
    from broker import free_port
    port = free_port()
    # paho sends Origin https://<host>:<port>; browsers send their page's origin.
    origins = ["http://good.example", "https://127.0.0.1:%d" % port]
    b = broker_factory(listeners=ws_listeners(port, websocket={"allowed_origins": origins, "max_frame_size": 4096}),
                       log_level="debug")
    b.ws_port = port
    return b


@pytest.fixture
def ws(wsb):
    made = []

    def make():
        c = WsClient(wsb.ws_port)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def read_payload(c, n):
    """Concatenated data-frame payloads until n bytes arrived."""
    got = b""
    while len(got) < n:
        f = c.read_frame()
        assert f is not None, "closed after %r" % got
        if f[1] in (BINARY, TEXT, CONT):
            got += f[2]
    return got


def test_paho_over_websocket_meets_tcp_and_stomp_on_one_port(wsb, paho, ws):
    assert "listening: mqtt/ws 127.0.0.1:%d/mqtt" % wsb.ws_port in wsb.log
    assert "listening: stomp/ws 127.0.0.1:%d/stomp" % wsb.ws_port in wsb.log
    w = paho(wsb.ws_port, transport="ws", ws_path="/mqtt")
    w.connect()
    w.subscribe("web/#", 1)
    t = paho(wsb.port)
    t.connect()
    t.publish("web/1", b"from tcp", qos=1)
    assert w.get().payload == b"from tcp"
    big = bytes(range(256)) * 400  # 100 KiB: many frames on the wire
    t.publish("web/2", big, qos=1)
    assert w.get().payload == big

    # STOMP on the same port, other path; offers no subprotocol (allowed).
    s = ws()
    status, headers = s.upgrade("/stomp", protocols=())
    assert status == 101
    assert "sec-websocket-protocol" not in headers
    s.send(frame(TEXT, b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00"))
    assert read_payload(s, 9).startswith(b"CONNECTED")
    s.buf = b""
    s.send(frame(TEXT, b"SUBSCRIBE\nid:1\ndestination:/topic/web/3\n\n\x00"))
    time.sleep(0.3)
    w.publish("web/3", b"to stomp", qos=1)
    msg = b""
    while b"\x00" not in msg:
        f = s.read_frame()
        assert f is not None
        if f[1] == PING:
            continue
        assert f[1] == TEXT  # STOMP answers in the client's frame type
        msg += f[2]
    assert msg.startswith(b"MESSAGE\n") and msg.endswith(b"to stomp\x00"), msg


def test_paho_over_secure_websocket(broker_factory, paho, tmp_path):
    from broker import free_port
    pki = certs.make_pki(tmp_path / "pki")
    port = free_port()
    b = broker_factory(listeners=ws_listeners(port, "wss", tls={"cert_file": pki["server.crt"],
                                                                "key_file": pki["server.key"]}))
    assert "listening: mqtt/wss 127.0.0.1:%d/mqtt" % port in b.log
    c = paho(port, transport="wss", ws_path="/mqtt", tls={"ca_certs": pki["ca.crt"]})
    c.connect()
    c.subscribe("s", 1)
    c.publish("s", b"secure", qos=1)
    assert c.get().payload == b"secure"
    # Raw wss: the upgrade and frames ride inside TLS.
    ctx = ssl.create_default_context(cafile=pki["ca.crt"])
    r = WsClient(port, tls_context=ctx)
    try:
        assert r.upgrade("/mqtt")[0] == 101
        r.send(frame(BINARY, CONNECT))
        assert read_payload(r, 4) == CONNACK
    finally:
        r.close()


def test_mqtt_packets_across_frames_and_several_per_frame(ws):
    c = ws()
    status, headers = c.upgrade("/mqtt", protocols=("mqttv5", "mqtt"))
    assert status == 101
    assert headers["sec-websocket-protocol"] == "mqtt"
    # CONNECT split over a fragmented message, then over two messages.
    c.send(frame(BINARY, CONNECT[:5], fin=False) + frame(CONT, CONNECT[5:11], fin=False) +
           frame(PING, b"hi") + frame(CONT, CONNECT[11:]))
    got = b""
    pong = None
    while len(got) < 4:
        f = c.read_frame()
        assert f is not None
        if f[1] == PONG:
            pong = f[2]
        else:
            assert f[1] == BINARY  # MQTT is binary
            got += f[2]
    assert got == CONNACK
    if pong is None:
        f = c.read_frame()
        assert f[1] == PONG
        pong = f[2]
    assert pong == b"hi"
    # Two PINGREQs in one frame, then one split across two frames.
    c.send(frame(BINARY, PINGREQ + PINGREQ) + frame(BINARY, PINGREQ[:1]) + frame(BINARY, PINGREQ[1:]))
    assert read_payload(c, 6) == PINGRESP * 3
    # A normal close is answered with 1000 and the connection ends.
    c.send(frame(CLOSE, b"\x03\xe8"))
    assert c.close_code() == 1000
    assert c.closed()


def test_refused_upgrades(ws, wsb):
    def answer(request):
        c = ws()
        c.send(request)
        status, headers = c.http_response()
        assert headers.get("connection", "").lower() == "close"
        assert c.closed()
        return status

    assert answer(b"GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n") == 426
    assert answer(b"HELLO WORLD\r\n\r\n") == 400
    assert answer(b"GET /mqtt HTTP/1.1\r\nHost x\r\n\r\n") == 400
    assert answer(b"GET /mqtt HTTP/1.1\r\n" + b"X-Filler: aaaaaaaa\r\n" * 1000 + b"\r\n") == 431

    c = ws()
    assert c.upgrade("/mqtt", protocols=("v12.stomp",))[0] == 400  # wrong subprotocol
    c = ws()
    assert c.upgrade("/mqtt", protocols=())[0] == 400  # MQTT requires "mqtt"
    c = ws()
    assert c.upgrade("/amqp")[0] == 404
    c = ws()
    assert c.upgrade("/mqtt", origin="http://evil.example")[0] == 403
    c = ws()
    assert c.upgrade("/mqtt", origin="http://good.example")[0] == 101
    assert "Origin http://evil.example is not allowed" in wsb.log


def test_protocol_errors_close_with_1002_and_1009(ws, paho, wsb):
    c = ws()
    assert c.upgrade("/mqtt")[0] == 101
    c.send(frame(BINARY, CONNECT, masked=False))  # clients must mask
    assert c.close_code() == 1002
    assert c.closed()

    c = ws()
    assert c.upgrade("/mqtt")[0] == 101
    c.send(frame(BINARY, b"\x00" * 5000))  # max_frame_size is 4096 here
    assert c.close_code() == 1009
    assert c.closed()

    # The broker is unaffected.
    p = paho(wsb.ws_port, transport="ws", ws_path="/mqtt")
    p.connect()
    p.subscribe("ok", 1)
    p.publish("ok", b"fine", qos=1)
    assert p.get().payload == b"fine"


def test_mqtt_disconnect_sends_close_1000(ws):
    c = ws()
    assert c.upgrade("/mqtt")[0] == 101
    c.send(frame(BINARY, CONNECT))
    assert read_payload(c, 4) == CONNACK
    c.send(frame(BINARY, bytes([0xE0, 0])))  # DISCONNECT: the broker closes
    assert c.close_code() == 1000
    assert c.closed()


def test_upgrade_that_never_completes_is_cut(broker_factory, paho):
    from broker import free_port
    port = free_port()
    b = broker_factory(listeners=ws_listeners(port, websocket={"handshake_timeout_ms": 1000}))
    slow = socket.create_connection(("127.0.0.1", port), timeout=6)
    slow.sendall(b"GET /mqtt HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    p = paho(port, transport="ws", ws_path="/mqtt")
    p.connect()
    t0 = time.monotonic()
    assert slow.recv(100) == b""
    assert time.monotonic() - t0 < 4.0
    p.subscribe("t", 1)
    p.publish("t", b"alive", qos=1)
    assert p.get().payload == b"alive"
    assert "ws handshake not completed within 1000 ms" in b.log
    slow.close()
