import pytest

from harness import Hub


@pytest.fixture
def hub(tmp_path, request):
    """A fresh set of ports and data dir; every process started through it
    is stopped at the end, and its logs are printed when the test failed."""
    h = Hub(tmp_path)
    yield h
    h.stop_all()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(h.logs())


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
