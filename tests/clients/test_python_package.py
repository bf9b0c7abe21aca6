"""The Python client as a user gets it: installed with pip into a fresh
venv over Debian's python3-zmq and python3-msgpack, with no package index,
and its README's quick start run, as written, against a real broker."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import CLIENT_DIR

DEBIAN_PYTHON = "/usr/bin/python3"


def quick_start():
    with open(os.path.join(CLIENT_DIR, "README.md"), encoding="utf-8") as f:
        text = f.read()
    found = re.search(r"## Quick start\n.*?```python\n(.*?)```", text, re.S)
    assert found, "clients/python/README.md has no Quick start with a python block"
    return found.group(1)


@pytest.fixture
def venv(tmp_path):
    """A venv that sees Debian's packages, with the client installed by pip
    from a copy of clients/python (pip builds in the source folder)."""
    if not os.path.exists(DEBIAN_PYTHON):
        pytest.skip("no Debian python3 at %s" % DEBIAN_PYTHON)
    missing = ("import importlib.util as u, sys; sys.exit(' '.join(m for m in "
               "('venv', 'pip', 'setuptools', 'wheel', 'zmq', 'msgpack') "
               "if u.find_spec(m) is None) or None)")
    probe = subprocess.run([DEBIAN_PYTHON, "-c", missing], capture_output=True, text=True)
    if probe.returncode:
        pytest.skip("Debian's python3 lacks %s (packages python3-venv, python3-pip, "
                    "python3-setuptools, python3-wheel)" % probe.stderr.strip())
    source = tmp_path / "source"
    shutil.copytree(CLIENT_DIR, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))
    home = tmp_path / "venv"
    # Debian's pip (seen through the system site packages) installs into the
    # venv: quicker than a venv's own copy of pip, and the same pip
    subprocess.run([DEBIAN_PYTHON, "-m", "venv", "--without-pip", "--system-site-packages",
                    str(home)], check=True, capture_output=True)
    pip = subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install",
                          "--no-build-isolation",
                          "--no-index", "--disable-pip-version-check", str(source)],
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return home


def test_pip_installs_it_offline_into_a_venv_over_debians_packages(venv, tmp_path):
    shown = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "show", "zhub"],
                           capture_output=True, text=True, check=True).stdout
    assert "Name: zhub" in shown and "Requires: msgpack, pyzmq" in shown
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import zhub, zmq; print(zhub.__file__); print(zmq.__file__); print(zhub.__version__)"],
        cwd=str(tmp_path), capture_output=True, text=True, check=True).stdout.split()
    assert where[0].startswith(str(venv)) and "site-packages" in where[0]
    assert where[1].startswith("/usr/lib/python3/dist-packages/")     # Debian's pyzmq
    assert where[2] == "1.0.0"


def test_the_readme_quick_start_runs_as_written_with_the_installed_package(venv, hub, broker,
                                                                         tmp_path):
    env = dict(os.environ, ZHUB_BROKER=hub.env["ZHUB_BROKER"])
    env.pop("PYTHONPATH", None)
    run = subprocess.run([str(venv / "bin" / "python"), "-c", quick_start()], cwd=str(tmp_path),
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == [
        "stored at offset 1", "moved d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4 to qualified"]
