"""A raw WebSocket client for tests of the server's edges: it sends exactly
the bytes a test asks for (bad upgrades, unmasked frames, fragments) and
parses what comes back. Blocking sockets with timeouts; optional TLS."""

import base64
import os
import socket
import ssl
import struct

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def frame(opcode, payload=b"", fin=True, masked=True, rsv=0):
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack("!H", n)
    else:
        head += bytes([m | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class WsClient:
    def __init__(self, port, timeout=5.0, tls_context=None):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls_context is not None:
            s = tls_context.wrap_socket(s, server_hostname="127.0.0.1")
        self.sock = s
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def recv_some(self):
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        self.buf += data
        return data

    def http_response(self):
        """Reads an HTTP response head: (status, {header: value}, body-so-far)."""
        while b"\r\n\r\n" not in self.buf:
            if not self.recv_some():
                raise AssertionError("connection closed before an HTTP response: %r" % self.buf)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return status, headers

    def upgrade(self, path="/mqtt", protocols=("mqtt",), origin=None, extra=""):
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (path, key))
        if protocols:
            req += "Sec-WebSocket-Protocol: %s\r\n" % ", ".join(protocols)
        if origin:
            req += "Origin: %s\r\n" % origin
        req += extra + "\r\n"
        self.send(req.encode())
        return self.http_response()

    def read_frame(self):
        """(fin, opcode, payload), or None when the connection closed."""
        while True:
            b = self.buf
            if len(b) >= 2:
                n = b[1] & 0x7F
                at = 2
                if n == 126 and len(b) >= 4:
                    n = struct.unpack("!H", b[2:4])[0]
                    at = 4
                elif n == 127 and len(b) >= 10:
                    n = struct.unpack("!Q", b[2:10])[0]
                    at = 10
                if (b[1] & 0x7F) < 126 or at > 2:
                    assert not (b[1] & 0x80), "server frames must not be masked"
                    if len(b) >= at + n:
                        self.buf = b[at + n:]
                        return bool(b[0] & 0x80), b[0] & 0x0F, b[at:at + n]
            if not self.recv_some():
                return None

    def close_code(self):
        """Reads frames until a close frame; returns its code (None if the
        connection ended without one)."""
        while True:
            f = self.read_frame()
            if f is None:
                return None
            if f[1] == CLOSE:
                return struct.unpack("!H", f[2][:2])[0] if len(f[2]) >= 2 else 1005

    def closed(self):
        """True when the server closes the TCP connection (reads until EOF)."""
        try:
            while self.sock.recv(65536):
                pass
            return True
        except socket.timeout:
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
