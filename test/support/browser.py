"""Headless Chromium through chromedriver (Debian's chromium + chromium-driver,
python3-selenium) for the browser tests: one driver per module, quit (and its
chromedriver killed if need be) at the end. Anything missing is a test
failure, not a skip."""

import contextlib
import os
import signal

import pytest

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
INSTALL_HINT = "run scripts/install-deps --test (as root)"


def fail(msg):
    pytest.fail(msg, pytrace=False)


@contextlib.contextmanager
def chromium(profile_dir, window=(1100, 900), console_log=False, extra_args=()):
    """Yields a selenium driver; `console_log` keeps the browser console
    (goog:loggingPrefs) for driver.get_log("browser")."""
    for path, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            fail("%s not found (Debian package %s); %s" % (path, pkg, INSTALL_HINT))
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        fail("python3-selenium missing (%s); %s" % (e, INSTALL_HINT))
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--window-size=%d,%d" % window,
                "--user-data-dir=%s" % profile_dir) + tuple(extra_args):
        opts.add_argument(arg)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")   # Chromium's sandbox refuses to run as root
    if console_log:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, log_path=os.devnull)
    try:
        driver = webdriver.Chrome(service=service, options=opts)
    except Exception as e:  # noqa: BLE001 - any start-up failure is the same failure here
        fail("could not start %s through %s: %s" % (CHROMIUM, CHROMEDRIVER, e))
    driver.set_page_load_timeout(15)
    driver.set_script_timeout(5)
    driver_pid = service.process.pid if service.process else None
    try:
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            # quit() stops chromedriver, which stops Chromium; make sure of the first.
            if driver_pid is not None and service.process is not None and service.process.poll() is None:
                os.kill(driver_pid, signal.SIGKILL)
                service.process.wait(5)
