import pytest

from harness import Hub

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


@pytest.fixture
def hub(tmp_path, request):
    """A fresh set of ports and data dir; every process started through it
    is stopped at the end, and its logs are printed when the test failed.
    A sanitizer report in any zhub process's log fails the test: in the
    sanitizer build that is how a leak or undefined behaviour shows up."""
    h = Hub(tmp_path)
    yield h
    h.stop_all()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(h.logs())
    reports = [p.name for p in h.procs
               if not p.name.endswith("-peer") and any(m in p.log_text() for m in SANITIZER_MARKS)]
    if reports:
        print(h.logs())
        pytest.fail("sanitizer report in the log of: %s" % ", ".join(reports))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
