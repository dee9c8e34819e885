"""A real browser: headless Chromium loads test/browser/page.html, whose
MQTT.js (npm `mqtt`) and @stomp/stompjs (npm) clients talk to the broker over
ws://. The page publishes over MQTT and expects the message on its STOMP
subscription, and the reverse, for MQTT 3.1.1 and 5; it writes its verdict as
JSON into <pre id="result">. Each run saves a screenshot under
build/test-results/browser/ (JUNCTION_TEST_RESULTS overrides the directory).

Needs Debian's chromium + chromium-driver + python3-selenium and npm
(scripts/install-deps --test installs them); the npm packages pinned in
test/browser/package-lock.json are installed into test/browser/node_modules on
first use. Anything missing is a test failure, not a skip.

The same page, without its STOMP half, also runs against Debian's Mosquitto
with a websockets listener: that proves the harness against an independent
broker.
"""

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

import broker as broker_mod
import browser

REPO = broker_mod.REPO
PAGE_DIR = os.path.join(REPO, "test", "browser")
BUNDLES = (os.path.join(PAGE_DIR, "node_modules", "mqtt", "dist", "mqtt.min.js"),
           os.path.join(PAGE_DIR, "node_modules", "@stomp", "stompjs", "bundles", "stomp.umd.min.js"))
RESULTS_DIR = os.environ.get("JUNCTION_TEST_RESULTS", os.path.join(REPO, "build", "test-results"))
INSTALL_HINT = browser.INSTALL_HINT
PAGE_TIMEOUT = 20.0    # seconds for the whole page to reach a verdict


def _fail(msg):
    pytest.fail(msg, pytrace=False)


# ------------------------------------------------------------------ npm bundles

@pytest.fixture(scope="module")
def page_bundles():
    """The browser bundles of MQTT.js and stompjs, installed by `npm ci` if missing."""
    if all(os.path.isfile(b) for b in BUNDLES):
        return BUNDLES
    npm = shutil.which("npm")
    if npm is None:
        _fail("npm not found: it installs MQTT.js and @stomp/stompjs for the browser test; " + INSTALL_HINT)
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PAGE_DIR,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300, check=False)
    if proc.returncode != 0:
        _fail("npm ci in %s failed (exit %d):\n%s" % (PAGE_DIR, proc.returncode,
                                                       proc.stdout.decode(errors="replace")[-4000:]))
    missing = [b for b in BUNDLES if not os.path.isfile(b)]
    if missing:
        _fail("npm ci did not produce %s" % ", ".join(missing))
    return BUNDLES


# ------------------------------------------------------------------ HTTP server for the page

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=PAGE_DIR, **kwargs)

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def page_url(page_bundles):
    """Base URL of test/browser served on a free loopback port (a thread of this process)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _QuietHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="page-server", daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/page.html" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# ------------------------------------------------------------------ Chromium

@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """A headless Chromium driven through chromedriver (Selenium), quit after the module."""
    with browser.chromium(tmp_path_factory.mktemp("chromium-profile"), window=(1100, 900)) as driver:
        yield driver


def run_page(driver, page_url, name, **params):
    """Opens the page with `params` in its query string, waits for its verdict,
    saves a screenshot and returns the verdict (a dict)."""
    url = page_url + "?" + urllib.parse.urlencode(params)
    driver.get(url)
    deadline = time.monotonic() + PAGE_TIMEOUT
    text = ""
    while time.monotonic() < deadline:
        text = driver.execute_script("return document.getElementById('result').textContent")
        if text:
            break
        time.sleep(0.1)
    os.makedirs(os.path.join(RESULTS_DIR, "browser"), exist_ok=True)
    shot = os.path.join(RESULTS_DIR, "browser", name + ".png")
    driver.save_screenshot(shot)
    print("browser screenshot: %s" % shot)
    page_log = driver.execute_script("return document.getElementById('log').textContent")
    if not text:
        _fail("page gave no verdict within %.0f s (screenshot %s)\nURL %s\npage log:\n%s"
              % (PAGE_TIMEOUT, shot, url, page_log))
    result = json.loads(text)
    result["screenshot"] = shot
    result["log"] = page_log
    return result


def describe(result):
    lines = ["%s  %-34s %6s ms  %s" % ("PASS" if c["ok"] else "FAIL", c["name"], c["ms"], c["detail"])
             for c in result["checks"]]
    return "\n".join(lines) + "\nscreenshot: %s\npage log:\n%s" % (result["screenshot"], result["log"])


def assert_passed(result, expected_checks):
    names = [c["name"] for c in result["checks"]]
    assert result["status"] == "PASS", "page verdict %s:\n%s" % (result["status"], describe(result))
    missing = [n for n in expected_checks if n not in names]
    assert not missing, "checks missing from the page's result: %s\n%s" % (missing, describe(result))


# ------------------------------------------------------------------ Mosquitto with websockets

def _free_port():
    return broker_mod.free_port()


@pytest.fixture
def mosquitto_ws(tmp_path):
    """Debian's Mosquitto with a websockets listener on a free loopback port.
    Yields the ws port. Mosquitto 2.0.11 will not start with a websockets
    listener alone (its libwebsockets has no external poll), so it gets a plain
    listener too; its websockets listener takes an interface, not an address,
    hence `lo`."""
    tcp_port, ws_port = _free_port(), _free_port()
    conf = tmp_path / "mosquitto-ws.conf"
    conf.write_text("user %s\nallow_anonymous true\nlog_dest stderr\nconnection_messages true\n"
                    "listener %d 127.0.0.1\nlistener %d lo\nprotocol websockets\n"
                    % (broker_mod._current_user(), tcp_port, ws_port))
    log_path = tmp_path / "mosquitto-ws.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([broker_mod.MOSQUITTO_BIN, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=str(tmp_path))
    try:
        deadline = time.monotonic() + 10
        while not broker_mod.port_open(ws_port):
            if proc.poll() is not None or time.monotonic() > deadline:
                _fail("mosquitto with a websockets listener did not start (exit %s):\n%s"
                      % (proc.poll(), log_path.read_text()))
            time.sleep(0.05)
        yield ws_port
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.mark.timeout(60)
def test_browser_mqtt_over_websocket_on_mosquitto(chromium, page_url, mosquitto_ws, summary):
    """The harness against an independent broker: MQTT.js v4 and v5 in the page
    reach each other through Mosquitto's websockets listener."""
    result = run_page(chromium, page_url, "mosquitto-mqtt",
                      mqtt="ws://127.0.0.1:%d/mqtt" % mosquitto_ws, mqtt_versions="4,5")
    summary("browser (mosquitto, MQTT only): %s, screenshot %s" % (result["status"], result["screenshot"]))
    assert_passed(result, ["MQTT v4 CONNECT", "MQTT v5 CONNECT", "MQTT v4 -> MQTT v5", "MQTT v5 -> MQTT v4"])


@pytest.mark.timeout(60)
def test_browser_page_fails_when_nothing_arrives_on_mosquitto(chromium, page_url, mosquitto_ws):
    """misroute=1 subscribes where nothing is published: the page must say FAIL
    for every delivery and PASS for the rest."""
    result = run_page(chromium, page_url, "mosquitto-misroute",
                      mqtt="ws://127.0.0.1:%d/mqtt" % mosquitto_ws, mqtt_versions="4,5",
                      misroute="1", timeout_ms="1500")
    by_name = {c["name"]: c for c in result["checks"]}
    assert result["status"] == "FAIL", describe(result)
    for name in ("MQTT v4 -> MQTT v5", "MQTT v5 -> MQTT v4"):
        assert not by_name[name]["ok"] and "timed out" in by_name[name]["detail"], describe(result)
    for name in ("MQTT v4 CONNECT", "MQTT v5 CONNECT", "MQTT v4 SUBSCRIBE", "MQTT v5 SUBSCRIBE"):
        assert by_name[name]["ok"], describe(result)


# ------------------------------------------------------------------ Junction

@pytest.fixture
def junction_ws(broker_factory):
    """Junction with MQTT (/mqtt) and STOMP (/stomp) over WebSocket on one
    free loopback port. Yields (broker, ws_port)."""
    ws_port = broker_mod.free_port()
    b = broker_factory(listeners=[
        {"protocol": "mqtt", "transport": "ws", "port": ws_port, "path": "/mqtt"},
        {"protocol": "stomp", "transport": "ws", "port": ws_port, "path": "/stomp"},
    ])
    deadline = time.monotonic() + 10
    while not broker_mod.port_open(ws_port):
        if time.monotonic() > deadline:
            _fail("Junction's WebSocket port %d is not open; log:\n%s" % (ws_port, b.log[-4000:]))
        time.sleep(0.02)
    return ws_port


def junction_urls(ws_port):
    return {"mqtt": "ws://127.0.0.1:%d/mqtt" % ws_port, "stomp": "ws://127.0.0.1:%d/stomp" % ws_port}


@pytest.mark.junction_only("MQTT and STOMP over WebSocket on one port")
@pytest.mark.timeout(60)
def test_browser_mqtt_and_stomp_over_websocket(chromium, page_url, junction_ws, summary):
    """MQTT.js (v4 and v5) and stompjs in one page: MQTT -> STOMP and STOMP -> MQTT."""
    result = run_page(chromium, page_url, "junction-mqtt-stomp", mqtt_versions="4,5", **junction_urls(junction_ws))
    summary("browser (junction, MQTT.js + stompjs): %s, screenshot %s" % (result["status"], result["screenshot"]))
    assert_passed(result, ["MQTT v4 CONNECT", "MQTT v5 CONNECT", "STOMP CONNECT",
                           "MQTT v4 -> STOMP", "STOMP -> MQTT v4", "MQTT v5 -> STOMP", "STOMP -> MQTT v5"])
    stomp_connect = next(c for c in result["checks"] if c["name"] == "STOMP CONNECT")
    assert "version 1.2" in stomp_connect["detail"], describe(result)
    assert "subprotocol v12.stomp" in stomp_connect["detail"], describe(result)


@pytest.mark.junction_only("MQTT and STOMP over WebSocket on one port")
@pytest.mark.timeout(60)
def test_browser_page_fails_when_nothing_arrives(chromium, page_url, junction_ws):
    """misroute=1: both subscriptions listen where nothing is published, so every
    delivery check must FAIL (by timeout) while connects and subscribes PASS."""
    result = run_page(chromium, page_url, "junction-misroute", mqtt_versions="4,5", misroute="1",
                      timeout_ms="1500", **junction_urls(junction_ws))
    by_name = {c["name"]: c for c in result["checks"]}
    assert result["status"] == "FAIL", describe(result)
    for v in (4, 5):
        for name in ("MQTT v%d -> STOMP" % v, "STOMP -> MQTT v%d" % v):
            assert not by_name[name]["ok"] and "timed out" in by_name[name]["detail"], describe(result)
        for name in ("MQTT v%d CONNECT" % v, "MQTT v%d SUBSCRIBE" % v, "STOMP SUBSCRIBE for MQTT v%d" % v):
            assert by_name[name]["ok"], describe(result)
