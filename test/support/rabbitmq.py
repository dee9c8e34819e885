"""A private RabbitMQ node for the AMQP bridge tests (Debian rabbitmq-server).

Everything is its own: AMQP port, Erlang distribution port, an epmd started
by us on its own port (ERL_EPMD_PORT), node name, cookie (HOME), data and log
directories in a temp dir, all on loopback. The Debian package's system
service (port 5672), if any, is never used or touched. stop() ends the node
by its process group and our epmd by its PID. restart() keeps the data dir,
so durable queues and persistent messages survive (chaos tests).

The node also has a TLS (amqps) listener on tls_port, with certificates
made at start-up by certs.make_pki (server.crt: DNS:localhost, signed by
pki["ca.crt"]), for the bridge's amqps:// tests; verify_none: the node
does not ask for client certificates.
"""

import os
import signal
import socket
import subprocess
import time

RABBITMQ_SERVER = os.environ.get("RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server")
EPMD = os.environ.get("EPMD_BIN", "/usr/bin/epmd")


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def available():
    return os.path.exists(RABBITMQ_SERVER) and os.path.exists(EPMD)


class RabbitMQ:
    def __init__(self, base):
        self.base = str(base)
        os.makedirs(self.base, exist_ok=True)
        self.port = _free_port()
        self.tls_port = _free_port()
        import certs
        self.pki = certs.make_pki(os.path.join(self.base, "pki"))
        self.dist_port = _free_port()
        self.epmd_port = _free_port()
        self.nodename = "jtest%d@localhost" % self.port
        self.log_path = os.path.join(self.base, "server.out")
        self.proc = None
        self.epmd = None
        conf = os.path.join(self.base, "rabbitmq.conf")
        with open(conf, "w") as f:
            f.write("listeners.tcp.1 = 127.0.0.1:%d\n"
                    "listeners.ssl.1 = 127.0.0.1:%d\n"
                    "ssl_options.cacertfile = %s\n"
                    "ssl_options.certfile = %s\n"
                    "ssl_options.keyfile = %s\n"
                    "ssl_options.verify = verify_none\n"
                    "ssl_options.fail_if_no_peer_cert = false\n"
                    "loopback_users.guest = true\n"
                    "disk_free_limit.absolute = 1MB\n"
                    "vm_memory_high_watermark.relative = 0.8\n"
                    "log.console = true\nlog.console.level = warning\nlog.file = false\n"
                    % (self.port, self.tls_port, self.pki["ca.crt"], self.pki["server.crt"], self.pki["server.key"]))
        with open(os.path.join(self.base, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        open(os.path.join(self.base, "rabbitmq-env.conf"), "w").close()
        home = os.path.join(self.base, "home")
        os.makedirs(home, exist_ok=True)
        cookie = os.path.join(home, ".erlang.cookie")
        if not os.path.exists(cookie):
            with open(cookie, "w") as f:
                f.write("JUNCTIONTEST%d" % self.port)
            os.chmod(cookie, 0o400)
        self.env = dict(os.environ)
        self.env.update({
            "HOME": home,
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_CONFIG_FILE": os.path.join(self.base, "rabbitmq"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(self.base, "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.base, "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": os.path.join(self.base, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.base, "log"),
            "RABBITMQ_PID_FILE": os.path.join(self.base, "rabbit.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        })

    def _port_open(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def start(self, timeout=300.0):
        if self.epmd is None or self.epmd.poll() is not None:
            self.epmd = subprocess.Popen([EPMD, "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                                         env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log = open(self.log_path, "ab")
        log.write(b"---- start\n")
        log.flush()
        self.proc = subprocess.Popen([RABBITMQ_SERVER], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("rabbitmq-server exited with %s:\n%s" % (self.proc.returncode, self.log_tail()))
            if self._port_open() and self._amqp_ready():
                return self
            time.sleep(0.3)
        raise RuntimeError("rabbitmq-server did not come up in %.0f s:\n%s" % (timeout, self.log_tail()))

    def _amqp_ready(self):
        import pika
        try:
            c = pika.BlockingConnection(self.params(connection_attempts=1, socket_timeout=2))
            c.close()
            return True
        except Exception:  # noqa: BLE001 - still booting
            return False

    def params(self, **kw):
        import pika
        return pika.ConnectionParameters(host="127.0.0.1", port=self.port,
                                         credentials=pika.PlainCredentials("guest", "guest"), **kw)

    def uri(self):
        return "amqp://guest:guest@127.0.0.1:%d/" % self.port

    def tls_uri(self):
        return "amqps://guest:guest@127.0.0.1:%d/" % self.tls_port

    def stop(self, timeout=30.0, kill=False):
        """Stops the node (its process group, by our PID); epmd stays for a
        restart. kill=True: SIGKILL at once, as a crash (nothing flushed, no
        connection closed cleanly)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        # beam's helpers (erl_child_setup, inet_gethost) share the group.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None
        deadline = time.monotonic() + 10
        while self._port_open() and time.monotonic() < deadline:
            time.sleep(0.1)

    def close(self):
        self.stop()
        if self.epmd is not None and self.epmd.poll() is None:
            self.epmd.terminate()
            try:
                self.epmd.wait(10)
            except subprocess.TimeoutExpired:
                self.epmd.kill()
                self.epmd.wait(5)
        self.epmd = None

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""
