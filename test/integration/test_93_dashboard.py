"""The operator's dashboard in a real browser.

Junction serves gateway/admin/dashboard/index.html, embedded in the binary, at
GET / of an http listener; the page polls the admin API (/api/v1/...) once a
second. Headless Chromium (selenium + chromedriver, as in test_52_browser.py)
loads it from a broker with an MQTT and an http listener, then:

- the page counts its broker polls (window.junctionDashboard.samples) and says
  "live" in #status;
- MQTT traffic at some hundreds of messages a second (paho) shows as an
  in-rate of that order (window.junctionDashboard.lastRates) and redraws the
  rate chart (its canvas's pixels change);
- the clients, retained and queues tables list what the test made; the queue
  `dash-q` (20 QoS 1 messages through `$queue/dash-q`) shows 20, its Purge
  button (after the browser's confirm dialog) empties it, as the API says.

Screenshots go to build/test-results/dashboard/ (JUNCTION_TEST_RESULTS
overrides build/test-results); with-traffic.png is the README's picture.
Needs Debian's chromium + chromium-driver + python3-selenium (scripts/install-deps
--test): anything missing is a test failure, not a skip.
"""

import json
import os
import threading
import time
import urllib.request

import pytest

import broker as broker_mod
import browser

REPO = broker_mod.REPO
PAGE = os.path.join(REPO, "gateway", "admin", "dashboard", "index.html")
RESULTS_DIR = os.path.join(os.environ.get("JUNCTION_TEST_RESULTS", os.path.join(REPO, "build", "test-results")),
                           "dashboard")
INSTALL_HINT = browser.INSTALL_HINT
VIEWPORT = (1280, 800)
QUEUE = "dash-q"
QUEUE_MESSAGES = 20
# (messages per second, seconds): QoS 0 traffic in three steps, so the rate
# chart has a shape worth a screenshot.
TRAFFIC = ((200, 2.0), (500, 2.0), (300, 2.0))


def _fail(msg):
    pytest.fail(msg, pytrace=False)


# ------------------------------------------------------------------ Chromium

@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """Headless Chromium through chromedriver with a 1280x800 viewport, its
    console log kept (goog:loggingPrefs); quit after the module."""
    with browser.chromium(tmp_path_factory.mktemp("chromium-profile"), window=VIEWPORT, console_log=True,
                          extra_args=("--hide-scrollbars",)) as driver:
        set_viewport(driver, *VIEWPORT)
        yield driver


def set_viewport(driver, width, height):
    """Resizes the window so that the page itself gets width x height (the
    window size includes whatever the headless browser counts as its frame)."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(width + width - inner[0], height + height - inner[1])


def screenshot(driver, name, full_page=False):
    """Saves RESULTS_DIR/name.png; full_page: the whole page at 1280 wide
    (the viewport grows to the page's height for the shot, then shrinks back)."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, name + ".png")
    if full_page:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        set_viewport(driver, VIEWPORT[0], max(VIEWPORT[1], height))
        time.sleep(0.3)     # the charts redraw on resize
        driver.save_screenshot(path)
        set_viewport(driver, *VIEWPORT)
    else:
        driver.save_screenshot(path)
    print("dashboard screenshot: %s" % path)
    return path


def console_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def page_state(driver):
    return driver.execute_script("return JSON.stringify(window.junctionDashboard || null)")


def wait_for(what, predicate, timeout, describe=lambda: ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.0f s %s" % (what, timeout, describe()))
        time.sleep(0.1)


# ------------------------------------------------------------------ broker with an http listener

class Admin:
    """The broker's http listener: GET/DELETE/POST returning parsed JSON."""

    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port

    def request(self, method, path, body=None, timeout=5.0):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.headers.get("Content-Type", ""), res.read()

    def json(self, method, path, body=None):
        _, _, raw = self.request(method, path, body)
        return json.loads(raw)

    def queue(self, name):
        """The queue's item in GET /api/v1/queues, or None."""
        items = self.json("GET", "/api/v1/queues")["items"]
        return next((q for q in items if q["name"] == name), None)


@pytest.fixture
def dashboard(broker_factory):
    """Junction with its MQTT listener and an http listener on free loopback
    ports, the API answering. Returns (broker, Admin)."""
    http_port = broker_mod.free_port()
    b = broker_factory(listeners=[{"protocol": "http", "port": http_port}])
    admin = Admin(http_port)
    deadline = time.monotonic() + 10
    last = None
    while True:
        try:
            admin.json("GET", "/api/v1/broker")
            return b, admin
        except (OSError, ValueError) as e:   # refused, HTTP error, not JSON
            last = e
        if time.monotonic() > deadline:
            _fail("GET /api/v1/broker on the http listener (port %d) never answered: %s; log:\n%s"
                  % (http_port, last, b.log[-4000:]))
        time.sleep(0.05)


# ------------------------------------------------------------------ tests

@pytest.mark.junction_only("the admin HTTP listener and its dashboard")
@pytest.mark.timeout(30)
def test_dashboard_is_served_from_the_binary(dashboard):
    """GET / answers the page byte for byte as it is in the source tree
    (embedded at build time), as HTML."""
    _, admin = dashboard
    status, ctype, body = admin.request("GET", "/")
    assert status == 200
    assert ctype.startswith("text/html"), ctype
    with open(PAGE, "rb") as f:
        want = f.read()
    assert body == want, ("GET / is not %s (%d bytes served, %d in the tree): rebuild the binary?"
                          % (PAGE, len(body), len(want)))


def _traffic(pub, stop, sent, errors):
    """QoS 0 to dash/traffic/<n> at the rates of TRAFFIC, paced every 10 ms."""
    try:
        for rate, seconds in TRAFFIC:
            start, base = time.monotonic(), sent[0]
            while not stop.is_set() and time.monotonic() - start < seconds:
                due = base + int((time.monotonic() - start) * rate)
                while sent[0] < due:
                    pub.publish("dash/traffic/%d" % (sent[0] % 8), b"reading %d" % sent[0], qos=0, wait=False)
                    sent[0] += 1
                time.sleep(0.01)
    except Exception as e:  # noqa: BLE001 - reported by the test thread
        errors.append(e)


@pytest.mark.junction_only("the admin HTTP listener and its dashboard")
@pytest.mark.timeout(120)
def test_dashboard_live_in_browser(chromium, dashboard, paho, summary):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    b, admin = dashboard
    d = chromium
    js = d.execute_script

    def describe():
        return "(page state %s, #status %r)" % (page_state(d), d.find_element(By.ID, "status").text)

    d.get(admin.base + "/")
    # Polls succeed, and the page counts them.
    wait_for("two broker polls", lambda: js("return (window.junctionDashboard || {}).samples >= 2"), 15, describe)
    assert d.find_element(By.ID, "status").text == "live", describe()
    for cid in ("chart-rate", "chart-connections", "chart-queue-depth", "chart-commit-latency"):
        assert d.find_element(By.ID, cid).tag_name == "canvas", cid
    screenshot(d, "idle")
    rate_canvas = "return document.getElementById('chart-rate').toDataURL()"
    before = js(rate_canvas)

    # Clients (two subscribers to the traffic: out-rate twice the in-rate),
    # retained topics and a queue of 20.
    sub = paho(b.port, client_id="dash-subscriber")
    sub.connect()
    sub.subscribe("dash/#", qos=0)
    logger = paho(b.port, client_id="dash-logger")
    logger.connect()
    logger.subscribe("dash/traffic/#", qos=0)
    pub = paho(b.port, client_id="dash-publisher")
    pub.connect()
    for room in (1, 2, 3):
        pub.publish("dash/rooms/%d/temperature" % room, b"21.%d" % room, qos=1, retain=True)
    for i in range(QUEUE_MESSAGES):
        pub.publish("$queue/" + QUEUE, b'{"job": %d}' % i, qos=1)

    # Traffic; the page's in-rate follows it.
    stop, sent, errors = threading.Event(), [0], []
    worker = threading.Thread(target=_traffic, args=(pub, stop, sent, errors), name="dash-traffic", daemon=True)
    rates = []
    worker.start()
    try:
        shot_at = time.monotonic() + sum(s for _, s in TRAFFIC) - 1.5
        shot = None
        while worker.is_alive():
            rates.append(js("return window.junctionDashboard.lastRates"))
            if shot is None and time.monotonic() >= shot_at:
                shot = screenshot(d, "with-traffic", full_page=True)
            time.sleep(0.25)
    finally:
        stop.set()
        worker.join(10)
    assert not errors, "publishing the traffic failed: %r" % errors
    time.sleep(1.5)     # the poll after the last message
    rates.append(js("return window.junctionDashboard.lastRates"))
    max_in = max(r["in"] for r in rates)
    max_out = max(r["out"] for r in rates)
    top = max(r for r, _ in TRAFFIC)
    summary("dashboard: %d messages published, page in-rate up to %.0f/s (sent at up to %d/s), out-rate up to "
            "%.0f/s; screenshots in %s" % (sent[0], max_in, top, max_out, RESULTS_DIR))
    assert max_in > 0, "the page's in-rate never moved: %s %s" % (rates[-12:], describe())
    # Of the order of what was sent: not a unit slip (x1000) nor a trickle.
    assert top / 4 <= max_in <= top * 5, ("page in-rate %.1f/s for traffic of up to %d/s: %s"
                                          % (max_in, top, rates[-12:]))
    assert js(rate_canvas) != before, "the rate chart's canvas did not change with traffic"

    # The tables show what the test made.
    def column(table, n=0):
        return js("return Array.from(document.querySelectorAll('#%s tbody tr'), r => r.cells[%d].textContent)"
                  % (table, n))
    wait_for("the paho clients in #clients",
             lambda: {"dash-subscriber", "dash-logger", "dash-publisher"} <= set(column("clients")),
             5, lambda: str(column("clients")))
    wait_for("the retained topics in #retained",
             lambda: {"dash/rooms/%d/temperature" % r for r in (1, 2, 3)} <= set(column("retained")),
             5, lambda: str(column("retained")))

    # The queue's row shows 20; Purge (confirmed) empties it.
    row_css = '#queues tbody tr[data-queue="%s"]' % QUEUE
    count_js = "const r = document.querySelector('%s .messages'); return r ? r.textContent : null" % row_css
    assert admin.queue(QUEUE) and admin.queue(QUEUE)["messages"] == QUEUE_MESSAGES, admin.queue(QUEUE)
    wait_for("%s's row showing %d" % (QUEUE, QUEUE_MESSAGES), lambda: js(count_js) == str(QUEUE_MESSAGES), 5,
             lambda: "(row shows %r)" % js(count_js))
    for attempt in range(3):
        try:
            d.find_element(By.CSS_SELECTOR, row_css + " .purge").click()
            break
        except StaleElementReferenceException:
            if attempt == 2:
                raise
    alert = WebDriverWait(d, 5).until(expected_conditions.alert_is_present())
    assert QUEUE in alert.text, alert.text
    alert.accept()
    wait_for("the API reporting %s empty" % QUEUE, lambda: (admin.queue(QUEUE) or {}).get("messages") == 0, 10,
             lambda: "(API: %s)" % admin.queue(QUEUE))
    wait_for("%s's row showing 0" % QUEUE, lambda: js(count_js) == "0", 5, lambda: "(row shows %r)" % js(count_js))
    assert "Purged %d" % QUEUE_MESSAGES in d.find_element(By.ID, "notice").text, d.find_element(By.ID, "notice").text
    screenshot(d, "after-purge")

    assert d.find_element(By.ID, "status").text == "live", describe()
    errors = console_errors(d)
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)
