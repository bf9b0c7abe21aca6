"""The console suite runs real zhub processes with the integration suite's
harness (tests/integration/harness.py); its hub fixture is the same, less
the stand-in contract check (no stand-in peers run here)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
from harness import Hub  # noqa: E402

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


@pytest.fixture
def hub(tmp_path, request):
    """Fresh ports and data dir; every process is stopped at the end and its
    log printed when the test failed; a sanitizer report fails the test."""
    h = Hub(tmp_path)
    yield h
    h.stop_all()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(h.logs())
    reports = [p.name for p in h.procs if any(m in p.log_text() for m in SANITIZER_MARKS)]
    if reports:
        print(h.logs())
        pytest.fail("sanitizer report in the log of: %s" % ", ".join(reports))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
