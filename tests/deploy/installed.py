"""`meson install` of this build into a folder of the test's own (DESTDIR),
for the tests that check what is installed: the systemd units against the
installed programs, and the client library from its pkg-config file."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("ZHUB_BUILD_DIR", os.path.join(ROOT, "build"))


def install(destdir):
    out = subprocess.run(["meson", "install", "-C", BUILD_DIR, "--destdir", destdir, "--quiet",
                          "--no-rebuild"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return destdir


def processes():
    """broker, gateway and every actor of the tree."""
    actors = sorted(d for d in os.listdir(os.path.join(ROOT, "actors"))
                    if os.path.exists(os.path.join(ROOT, "actors", d, "main.c")))
    return ["broker", "gateway"] + actors
