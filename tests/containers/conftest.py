import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import podman  # noqa: E402


def pytest_sessionstart(session):
    """A machine where podman cannot run skips the suite (exit 77, which
    meson counts as skipped) and says why; it never passes silently."""
    reason = podman.unavailable()
    if reason:
        print("SKIP: " + reason)
        pytest.exit("SKIP: " + reason, returncode=77)


@pytest.fixture
def containers(request):
    box = podman.Containers(request.node.name[5:25].replace("_", "-"))
    yield box
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for name in box.names:
            print("==== %s ====\n%s" % (name, box.logs(name)[-6000:]))
    box.remove_all()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def pytest_terminal_summary(terminalreporter):
    for line in podman.FIGURES:
        terminalreporter.write_line("figure: " + line)
