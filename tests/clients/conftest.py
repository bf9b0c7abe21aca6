"""The clients suite: the client libraries of clients/ against a real
zhub-broker, started by tests/integration/harness.py on a free port. The
Python client is imported from the checkout (clients/python), as it is,
with Debian's python3-zmq and python3-msgpack; test_python_package.py
checks that it also installs with pip."""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
CLIENT_DIR = os.path.join(SOURCE_ROOT, "clients", "python")
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))
sys.path.insert(0, CLIENT_DIR)

from harness import BUILD_DIR, Hub  # noqa: E402

import zhub  # noqa: E402

# The clients made in this process talk to brokers on loopback: plain, said
# explicitly (CURVE, the default, has its own test in test_python_client.py).
os.environ["ZHUB_BUS_SECURITY"] = "plain"

CATALOGUE_TOOL = os.path.join(BUILD_DIR, "tests", "clients", "zhub_catalogue_tool")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

# Short deadlines and backoff, so that retries happen within a second.
FAST = {
    "ZHUB_BROKER_ACK_DEADLINE": "2s",
    "ZHUB_BROKER_BACKOFF": "200ms,400ms",
    "ZHUB_BROKER_MAX_DELIVERIES": "5",
}


@pytest.fixture
def hub(tmp_path, request):
    """Ports, data dir and the processes of one test; every process is
    stopped at the end and its log printed when the test failed. A
    sanitizer report in a zhub process's log fails the test."""
    h = Hub(tmp_path)
    yield h
    h.stop_all()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(h.logs())
    reports = [p.name for p in h.procs
               if any(m in p.log_text() for m in SANITIZER_MARKS)]
    if reports:
        print(h.logs())
        pytest.fail("sanitizer report in the log of: %s" % ", ".join(reports))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def broker(hub):
    return hub.start("broker", extra_env=FAST)


@pytest.fixture
def client(hub, broker):
    """Makes zhub.Client instances on the test's broker; closes them all."""
    made = []

    def make(name="pytest", **options):
        c = zhub.Client(hub.env["ZHUB_BROKER"], name, **options)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def catalogue_check(tmp_path, bodies):
    """zhub_event_check_msg (the C catalogue) on each envelope's bytes: a
    list of {"ok", "rc", "reason"}."""
    paths = []
    for i, body in enumerate(bodies):
        path = os.path.join(str(tmp_path), "envelope-%d.msgpack" % i)
        with open(path, "wb") as f:
            f.write(body)
        paths.append(path)
    out = subprocess.run([CATALOGUE_TOOL, "--check"] + paths, check=True, capture_output=True,
                         text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def pytest_sessionfinish(session, exitstatus):
    """meson counts exit status 77 as a skip, and 0 as a pass: a test that
    could not run (pytest.skip, with its reason) must not read as passed."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter else {}
    if exitstatus == 0 and stats.get("skipped") and not stats.get("passed"):
        session.exitstatus = 77
