"""Fixtures for the integration suite.

Target: JUNCTION_TEST_TARGET=junction (default; binary from JUNCTION_BIN or
build/gateway/junction) or mosquitto (/usr/sbin/mosquitto, to validate the
tests themselves). Tests marked junction_only are skipped against Mosquitto.

Fixtures:
  broker          a started broker (options via @pytest.mark.broker_options(...))
  broker_factory  make_broker(**options) -> started Broker, for tests needing
                  several brokers or special options
  paho            make(**kw) -> PahoClient (not yet connected), closed at teardown
  raw             make(version=4) -> RawClient connected to `broker`, closed at teardown
  msub            make(topics, ...) -> running MosquittoSub, killed at teardown
Every broker is stopped at teardown (SIGTERM, exit 0 checked for Junction,
sanitizer reports in its output fail the test) and its log is attached to
the report of a failing test.
"""

import os
import signal
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))

import broker as broker_mod  # noqa: E402
import clients  # noqa: E402
import raw_mqtt  # noqa: E402

TEST_TIMEOUT = float(os.environ.get("JUNCTION_TEST_TIMEOUT", "90"))


def pytest_configure(config):
    config.addinivalue_line("markers", "junction_only(reason): test of Junction-specific behaviour, "
                                       "or of a spec rule Mosquitto 2.0.11 breaks; skipped against mosquitto")
    config.addinivalue_line("markers", "broker_options(**kw): options for the broker fixture")
    config.addinivalue_line("markers", "timeout(seconds): per-test watchdog")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_report_header(config):
    t = broker_mod.target()
    b = broker_mod.junction_bin() if t == "junction" else broker_mod.MOSQUITTO_BIN
    return "broker under test: %s (%s)" % (t, b)


def pytest_collection_modifyitems(config, items):
    # JUNCTION_ONLY_TESTS_ON_MOSQUITTO=1 runs them anyway, to watch them fail there.
    if broker_mod.target() == "junction" or os.environ.get("JUNCTION_ONLY_TESTS_ON_MOSQUITTO") == "1":
        return
    for item in items:
        m = item.get_closest_marker("junction_only")
        if m is not None:
            why = m.args[0] if m.args else m.kwargs.get("reason", "Junction-specific")
            item.add_marker(pytest.mark.skip(reason="junction_only: %s" % why))


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout("test exceeded its watchdog timeout")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    m = item.get_closest_marker("timeout")
    limit = float(m.args[0]) if m else TEST_TIMEOUT
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for b in getattr(item, "_brokers", []):
            text = b.log
            if len(text) > 30000:
                text = "[... %d bytes cut ...]\n" % (len(text) - 30000) + text[-30000:]
            rep.sections.append(("broker %s port %d log (%s)" % (b.kind, b.port, b.log_path), text))


@pytest.fixture
def broker_factory(request, tmp_path):
    made = []
    request.node._brokers = made

    def make(**options):
        workdir = tmp_path / ("broker%d" % len(made))
        b = broker_mod.Broker(workdir, **options)
        made.append(b)
        b.start()
        return b

    yield make
    errors = []
    for b in made:
        try:
            b.close()
        except Exception as e:  # noqa: BLE001 - report all
            errors.append("%r: %s" % (b, e))
    if errors:
        pytest.fail("broker teardown:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def broker(request, broker_factory):
    m = request.node.get_closest_marker("broker_options")
    return broker_factory(**(m.kwargs if m else {}))


@pytest.fixture
def paho(request):
    made = []

    def make(port, **kw):
        c = clients.PahoClient(port, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        try:
            c.close()
        except Exception:  # noqa: BLE001
            pass


@pytest.fixture
def raw(broker):
    made = []

    def make(version=raw_mqtt.V311, port=None):
        c = raw_mqtt.RawClient(port or broker.port, version=version)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def msub():
    made = []

    def make(port, topics, **kw):
        s = clients.MosquittoSub(port, topics, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


_SUMMARY = []


@pytest.fixture
def summary():
    """summary(line): print `line` in the terminal summary at the end of the run."""
    return _SUMMARY.append


def pytest_terminal_summary(terminalreporter):
    if _SUMMARY:
        terminalreporter.section("junction summary")
        for line in _SUMMARY:
            terminalreporter.write_line(line)


@pytest.fixture
def junction():
    """True when the target is Junction (for assertions that only hold there)."""
    return broker_mod.is_junction()


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory):
    """One private RabbitMQ node for the whole run (AMQP bridge tests)."""
    import rabbitmq as rabbitmq_mod
    if not rabbitmq_mod.available():
        pytest.skip("rabbitmq-server is not installed (scripts/install-deps --test)")
    try:
        import pika  # noqa: F401
    except ImportError:
        pytest.skip("python3-pika is not installed (scripts/install-deps --test)")
    node = rabbitmq_mod.RabbitMQ(tmp_path_factory.mktemp("rabbitmq"))
    try:
        node.start()
    except Exception:
        node.close()
        raise
    yield node
    node.close()
