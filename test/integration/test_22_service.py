"""22: running as a systemd service. The readiness protocol as systemd's
Type=notify sees it (a datagram socket named by $NOTIFY_SOCKET, path or
abstract): READY=1 once every listener accepts, STOPPING=1 at the end, a
broken socket only logged. And `meson install` lays out the binary, the
unit (with this build's paths), the man page and a configuration that a
reinstall does not overwrite; `systemd-analyze verify` accepts the unit
when it is available.
"""

import json
import os
import shutil
import socket
import subprocess

import pytest

import broker as broker_mod

pytestmark = pytest.mark.junction_only("Junction's systemd integration")


class NotifySocket:
    """A bound AF_UNIX datagram socket, as systemd makes for Type=notify."""

    def __init__(self, name):
        self.name = name
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind("\0" + name[1:] if name.startswith("@") else name)

    def receive(self, timeout=10.0):
        self.s.settimeout(timeout)
        try:
            return self.s.recv(4096).decode()
        except socket.timeout:
            return None

    def close(self):
        self.s.close()


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_ready_after_listeners_and_stopping_at_the_end(broker_factory, tmp_path, monkeypatch, kind):
    name = str(tmp_path / "notify") if kind == "path" else "@junction-test-notify-%d" % os.getpid()
    n = NotifySocket(name)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", name)
        b = broker_factory(listeners=[{"protocol": "http"}], stomp=True)
        assert n.receive() == "READY=1"
        # READY=1 comes after start() bound every listener: all accept now.
        for port in (b.port, b.stomp_port, b.listener_ports[0]):
            assert broker_mod.port_open(port), port
        assert b.stop() == 0
        assert n.receive() == "STOPPING=1"
        assert n.receive(timeout=0.3) is None  # nothing else
    finally:
        n.close()


def test_broken_notify_socket_is_logged_not_fatal(broker_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    b = broker_factory()
    assert "sd_notify:" in b.log
    assert b.stop() == 0


def _build_dir():
    """The meson build directory the binary under test came from, if any."""
    d = os.path.dirname(os.path.dirname(os.path.abspath(broker_mod.junction_bin())))
    return d if os.path.isdir(os.path.join(d, "meson-info")) else None


def test_meson_install_layout(tmp_path):
    build = _build_dir()
    meson = shutil.which("meson")
    if build is None or meson is None:
        pytest.skip("needs meson and the binary's meson build directory")
    info = subprocess.run([meson, "introspect", "--buildoptions", build], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    opts = {o["name"]: o["value"] for o in json.loads(info)}
    prefix = opts["prefix"]
    bindir = os.path.join(prefix, opts["bindir"])
    sysconfdir = os.path.join(prefix, opts["sysconfdir"])
    mandir = os.path.join(prefix, opts["mandir"])
    dest = str(tmp_path / "root")

    def install():
        r = subprocess.run([meson, "install", "--no-rebuild", "--destdir", dest, "-C", build],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr

    def at(path):
        return dest + path

    install()
    assert os.access(at(os.path.join(bindir, "junction")), os.X_OK)
    assert os.path.isfile(at(os.path.join(mandir, "man8", "junction.8")))
    conf = at(os.path.join(sysconfdir, "junction", "junction.yaml"))
    repo_conf = os.path.join(broker_mod.REPO, "conf", "junction.yaml")
    assert open(conf).read() == open(repo_conf).read()
    unit_path = at(os.path.join(prefix, "lib", "systemd", "system", "junction.service"))
    unit = open(unit_path).read()
    exe = os.path.join(bindir, "junction")
    cfg = os.path.join(sysconfdir, "junction", "junction.yaml")
    assert "ExecStart=%s --config %s\n" % (exe, cfg) in unit
    for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "LimitNOFILE=20000", "StateDirectory=junction",
                 "WorkingDirectory=/var/lib/junction", "DynamicUser=yes", "ProtectSystem=strict",
                 "ProtectHome=true", "PrivateTmp=true", "NoNewPrivileges=true", "ProtectKernelTunables=true",
                 "ProtectKernelModules=true", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"):
        assert line + "\n" in unit, line
    assert "@" not in unit.replace("@system-service", ""), "an unreplaced @VARIABLE@"

    # A reinstall keeps the operator's configuration.
    with open(conf, "a") as f:
        f.write("# edited by the operator\n")
    install()
    assert open(conf).read().endswith("# edited by the operator\n")

    # The installed configuration is one the installed binary accepts.
    r = subprocess.run([at(exe), "--config", conf, "--check-config"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr

    analyze = shutil.which("systemd-analyze")
    if analyze:
        # verify wants the unit's programs where it says they are: point it
        # at the staged binary, and man(1) at the staged page.
        staged = str(tmp_path / "junction.service")
        with open(staged, "w") as f:
            f.write(unit.replace(exe, at(exe)))
        env = dict(os.environ, MANPATH=at(mandir) + ":")
        r = subprocess.run([analyze, "verify", staged], capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
