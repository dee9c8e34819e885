"""Start and stop the broker under test: Junction (default) or Mosquitto.

JUNCTION_TEST_TARGET=mosquitto selects Debian's /usr/sbin/mosquitto, which the
suite uses to validate itself: every test not marked junction_only must pass
against a real, independent broker.

Each Broker owns one free loopback port and one data directory for its whole
life, so restart() (after stop() or kill9()) comes back on the same port with
the same persistent state. Its stderr/stdout go to a log file that survives
restarts (appended, with a marker line per start).
"""

import json
import os
import re
import signal
import socket
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                     "ERROR: ThreadSanitizer", "WARNING: ThreadSanitizer")

KILL9_REASON = ("kill -9 durability: Mosquitto writes its database only on autosave "
                "(not a spec rule), so it may lose what it acknowledged")

DEFAULT_LIMITS = {
    "max_queued_messages": 100000,
    "max_queued_bytes": 0,
    "max_packet_size": 1048576,
    "max_keepalive": 600,
    "max_inflight": 100,
    "receive_maximum": 1024,
    "topic_alias_maximum": 64,
}


def target():
    t = os.environ.get("JUNCTION_TEST_TARGET", "junction").strip().lower()
    if t not in ("junction", "mosquitto"):
        raise RuntimeError("JUNCTION_TEST_TARGET must be junction or mosquitto, not %r" % t)
    return t


def is_junction():
    return target() == "junction"


def junction_bin():
    return os.environ.get("JUNCTION_BIN", os.path.join(REPO, "build", "gateway", "junction"))


MOSQUITTO_BIN = os.environ.get("MOSQUITTO_BIN", "/usr/sbin/mosquitto")


def _current_user():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def port_open(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


class BrokerError(Exception):
    pass


class Broker:
    """One broker process (possibly restarted several times).

    Options: durability ("sync" | "batch" | "memory", Junction only),
    listeners: extra Junction listeners, a list of dicts with the config
    keys (protocol, transport, path, tls, websocket...); a missing port gets
    a free one; the chosen ports are in `listener_ports` (same order),
    limits (dict overriding DEFAULT_LIMITS), log_level, stomp (True: also a
    STOMP listener on its own free port, `stomp_port`; Junction only), and
    mosquitto_autosave: None (default: save on every change, which makes
    Mosquitto as durable as it can be) or a number of seconds between saves.
    listener_extra: extra keys for every listener entry (Junction only), e.g.
    "allow_anonymous: false". junction_limits: extra `limits` keys Mosquitto
    has no equivalent for (Junction only), e.g. {"max_publish_rate": 500}.
    mosquitto_conf: extra mosquitto.conf lines (Mosquitto only; the
    counterpart of extra_yaml), e.g. "sys_interval 1\n".
    store_extra: extra keys of the `store` section (Junction only), e.g.
    "max_disk_bytes: 2000000"; data_dir: the store's directory instead of
    WORKDIR/data (e.g. on a small filesystem the test made).
    """

    def __init__(self, workdir, kind=None, durability="batch", limits=None,
                 log_level="info", mosquitto_autosave=None, extra_yaml="", stomp=False, listeners=None,
                 listener_extra="", junction_limits=None, mosquitto_conf="", store_extra="", data_dir=None):
        self.kind = kind or target()
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.store_extra = (", " + store_extra) if store_extra else ""
        self.durability = durability
        self.limits = dict(DEFAULT_LIMITS)
        if limits:
            unknown = set(limits) - set(DEFAULT_LIMITS)
            if unknown:
                raise ValueError("unknown limits %s" % sorted(unknown))
            self.limits.update(limits)
        self.junction_limits = dict(junction_limits or {})
        self.log_level = log_level
        self.mosquitto_autosave = mosquitto_autosave
        self.extra_yaml = extra_yaml
        self.mosquitto_conf = mosquitto_conf
        self.listener_extra = (", " + listener_extra) if listener_extra else ""
        self.port = free_port()
        self.stomp_port = free_port() if stomp and self.kind == "junction" else None
        self.extra_listeners = []
        for spec in listeners or []:
            spec = dict(spec)
            spec.setdefault("bind", "127.0.0.1")
            if "port" not in spec:
                spec["port"] = free_port()
            self.extra_listeners.append(spec)
        self.listener_ports = [spec["port"] for spec in self.extra_listeners]
        self.log_path = os.path.join(self.workdir, "broker.log")
        self.proc = None
        self.starts = 0
        self.exit_codes = []
        self.config_path = self._write_config()

    # ------------------------------------------------------------ config

    def _write_config(self):
        if self.kind == "junction":
            path = os.path.join(self.workdir, "junction.yaml")
            lim = ", ".join("%s: %d" % (k, v) for k, v in list(self.limits.items()) + list(self.junction_limits.items()))
            text = (
                "listeners:\n"
                "  - {protocol: mqtt, transport: tcp, bind: 127.0.0.1, port: %d%s}\n"
                "%s%s"
                "store: {path: %s, durability: %s%s}\n"
                "limits: {%s}\n"
                "log: {level: %s}\n" % (self.port, self.listener_extra,
                                         "  - {protocol: stomp, transport: tcp, bind: 127.0.0.1, port: %d%s}\n"
                                         % (self.stomp_port, self.listener_extra) if self.stomp_port else "",
                                         "".join("  - %s\n" % json.dumps(l) for l in self.extra_listeners),
                                         self.data_dir, self.durability, self.store_extra, lim, self.log_level)
            ) + self.extra_yaml
        else:
            path = os.path.join(self.workdir, "mosquitto.conf")
            if self.mosquitto_autosave is None:
                autosave = "autosave_interval 1\nautosave_on_changes true\n"
            else:
                autosave = "autosave_interval %d\nautosave_on_changes false\n" % self.mosquitto_autosave
            lim = self.limits
            text = (
                "per_listener_settings false\n"
                "user %s\n"
                "allow_anonymous true\n"
                "persistence true\n"
                "persistence_location %s/\n"
                "%s"
                "max_queued_messages %d\n"
                "max_queued_bytes %d\n"
                "max_packet_size %d\n"
                "max_keepalive %d\n"
                "max_inflight_messages %d\n"
                "log_dest stderr\n"
                "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
                "connection_messages true\n"
                "listener %d 127.0.0.1\n"
                "max_topic_alias %d\n"
                % (_current_user(), self.data_dir, autosave, lim["max_queued_messages"], lim["max_queued_bytes"],
                   lim["max_packet_size"], lim["max_keepalive"], lim["max_inflight"], self.port,
                   lim["topic_alias_maximum"])
            ) + self.mosquitto_conf
        with open(path, "w") as f:
            f.write(text)
        return path

    # ------------------------------------------------------------ lifecycle

    @property
    def receive_maximum(self):
        """The Receive Maximum this broker is configured to announce in CONNACK.
        Mosquitto has no separate setting: it announces max_inflight_messages."""
        if self.kind == "junction":
            return self.limits["receive_maximum"]
        return self.limits["max_inflight"]

    def command(self):
        if self.kind == "junction":
            return [junction_bin(), "--config", self.config_path]
        return [MOSQUITTO_BIN, "-c", self.config_path]

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self, timeout=15.0):
        if self.running:
            raise BrokerError("broker already running")
        cmd = self.command()
        if not os.path.exists(cmd[0]):
            raise BrokerError("broker binary not found: %s (set JUNCTION_BIN, or build it)" % cmd[0])
        self.starts += 1
        with open(self.log_path, "a") as f:
            f.write("\n===== start #%d: %s =====\n" % (self.starts, " ".join(cmd)))
            offset = f.tell()
        logf = open(self.log_path, "a")
        env = dict(os.environ)
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir, env=env)
        logf.close()
        want = "listening: mqtt/tcp 127.0.0.1:%d" % self.port
        deadline = time.monotonic() + timeout
        announced = self.kind != "junction"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.exit_codes.append(rc)
                self.proc = None
                raise BrokerError("broker exited with %s during start-up; log:\n%s" % (rc, self.log[-4000:]))
            if not announced:
                with open(self.log_path, "r", errors="replace") as f:
                    f.seek(offset)
                    announced = want in f.read()
            if announced and port_open(self.port) and (self.stomp_port is None or port_open(self.stomp_port)):
                return self
            time.sleep(0.02)
        self.kill9()
        raise BrokerError("broker not ready within %.0fs (waiting for %r and port %d); log:\n%s"
                          % (timeout, want if self.kind == "junction" else "port", self.port, self.log[-4000:]))

    def stop(self, timeout=15.0, check=True):
        """SIGTERM and wait. For Junction the exit code must be 0.
        Returns the exit code (None if it was not running)."""
        if self.proc is None:
            return None
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
                self.proc = None
                self.exit_codes.append("hung")
                raise BrokerError("broker did not exit within %.0fs of SIGTERM (killed)" % timeout)
        rc = proc.returncode
        self.proc = None
        self.exit_codes.append(rc)
        if check:
            self.check_sanitizers()
            if self.kind == "junction" and rc != 0:
                raise BrokerError("junction exited with %s after SIGTERM (expected 0); log tail:\n%s"
                                  % (rc, self.log[-4000:]))
        return rc

    def kill9(self):
        """SIGKILL, as in a crash. Nothing is checked."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.exit_codes.append(self.proc.returncode)
        self.proc = None

    def restart(self, kill=False):
        """Stop (SIGTERM, or SIGKILL if kill=True) if running, then start again
        on the same port with the same data directory."""
        if kill:
            self.kill9()
        else:
            self.stop()
        return self.start()

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def sanitizer_reports(self):
        text = self.log
        return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKERS)]

    def check_sanitizers(self):
        found = self.sanitizer_reports()
        if found:
            raise BrokerError("sanitizer report in broker output:\n%s\n--- log tail:\n%s"
                              % ("\n".join(found[:20]), self.log[-8000:]))

    def close(self):
        """Teardown: stop if running; then fail on an unexpected exit or sanitizer report."""
        errors = []
        if self.proc is not None:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.exit_codes.append(rc)
                self.proc = None
                errors.append("broker died during the test (exit %s)" % rc)
            else:
                try:
                    self.stop()
                except BrokerError as e:
                    errors.append(str(e))
        try:
            self.check_sanitizers()
        except BrokerError as e:
            errors.append(str(e))
        if errors:
            raise BrokerError("\n".join(errors))

    def __repr__(self):
        return "<Broker %s port=%d pid=%s>" % (self.kind, self.port, self.pid)


def listening_re(port):
    return re.compile(r"listening: mqtt/tcp 127\.0\.0\.1:%d\b" % port)
