"""deploy/systemd: one unit per process, each with its own state directory
under a dynamic user, hardened; `systemd-analyze verify` against the
programs `meson install` installs (an offline root: this build's DESTDIR,
systemd's own units and the few commands the units run), any output a
failure; `systemd-analyze security --offline` scores each unit."""
import glob
import os
import re
import shutil
import subprocess

import pytest

from installed import ROOT, install, processes

UNITS = os.path.join(ROOT, "deploy", "systemd")
ANALYZE = shutil.which("systemd-analyze")


def unit(proc):
    path = os.path.join(UNITS, "zhub-%s.service" % proc)
    assert os.path.exists(path), "no unit for %s" % proc
    return open(path).read()


def settings(text):
    found = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#") and not line.startswith("["):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_one_unit_per_process_each_with_its_own_state_directory():
    seen = set()
    units = sorted(glob.glob(os.path.join(UNITS, "zhub-*.service")))
    for proc in processes():
        s = settings(unit(proc))
        assert s["ExecStart"] == ["/usr/local/bin/zhub-%s" % proc]
        assert s["DynamicUser"] == ["yes"]
        assert s["StateDirectory"] == ["zhub/%s" % proc], proc
        assert s["Environment"][0] == "ZHUB_DATA_DIR=/var/lib/zhub"
        seen.add(s["StateDirectory"][0])
        # each admin listener on a port of its own
        ports = [e.split(":")[-1] for e in s["Environment"] if "ADMIN_LISTEN" in e]
        assert len(ports) == 1, proc
        seen.add("port " + ports[0])
        # the bus: CURVE, its own key from /etc/zhub/keys as a credential
        env = dict(e.split("=", 1) for e in s["Environment"])
        assert env["ZHUB_BUS_SECURITY"] == "curve", proc
        creds = dict(c.split(":", 1) for c in s.get("LoadCredential", []))
        if proc == "broker":
            assert creds == {"bus.key_secret": "/etc/zhub/keys/broker.key_secret"}
            assert env["ZHUB_BROKER_CERT"] == "%d/bus.key_secret"
            assert env["ZHUB_BUS_KEYS"] == "/etc/zhub/keys/allow"
        else:
            assert creds == {"bus.key_secret": "/etc/zhub/keys/%s.key_secret" % proc,
                             "broker.key": "/etc/zhub/keys/broker.key"}, proc
            assert env["ZHUB_BUS_CERT"] == "%d/bus.key_secret"
            assert env["ZHUB_BROKER_PUBLIC_KEY"] == "%d/broker.key"
    assert len(seen) == 2 * len(processes())
    assert len(units) == len(processes()) + 1  # and zhub-backup.service


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """An offline root: the installed programs, systemd's units, our units
    in /etc/systemd/system, and the commands the backup unit runs."""
    if not ANALYZE:
        pytest.skip("systemd-analyze is not installed (package systemd)")
    path = str(tmp_path_factory.mktemp("root"))
    install(path)
    os.makedirs(os.path.join(path, "usr", "lib", "systemd"))
    shutil.copytree("/usr/lib/systemd/system", os.path.join(path, "usr", "lib", "systemd", "system"),
                    symlinks=True)
    os.makedirs(os.path.join(path, "etc", "systemd", "system"))
    for f in os.listdir(UNITS):
        if f.startswith("zhub-"):
            shutil.copy(os.path.join(UNITS, f), os.path.join(path, "etc", "systemd", "system"))
    for command in ("/bin/sh", "/usr/bin/find"):
        os.makedirs(os.path.dirname(path + command), exist_ok=True)
        shutil.copy(command, path + command)
    return path


def verify(root, *names):
    return subprocess.run([ANALYZE, "verify", "--root=" + root] + list(names),
                          capture_output=True, text=True, timeout=120,
                          cwd=os.path.join(root, "etc", "systemd", "system"))


def test_every_unit_verifies_against_the_installed_programs(root):
    names = sorted(f for f in os.listdir(UNITS) if f.startswith("zhub-"))
    out = verify(root, *names)
    assert out.returncode == 0 and out.stdout.strip() == "" and out.stderr.strip() == "", \
        out.stdout + out.stderr
    # the check does look at the programs: without one, it fails
    os.rename(os.path.join(root, "usr/local/bin/zhub-broker"), os.path.join(root, "moved"))
    try:
        out = verify(root, "zhub-broker.service")
        assert "zhub-broker is not executable" in out.stdout + out.stderr
    finally:
        os.rename(os.path.join(root, "moved"), os.path.join(root, "usr/local/bin/zhub-broker"))


def exposure(root, name):
    out = subprocess.run([ANALYZE, "security", "--offline=true", "--root=" + root, name],
                         capture_output=True, text=True, timeout=120,
                         cwd=os.path.join(root, "etc", "systemd", "system"))
    match = re.search(r"Overall exposure level for %s: ([0-9.]+)" % re.escape(name),
                      out.stdout + out.stderr)
    assert match, out.stdout + out.stderr
    return float(match.group(1))


def test_units_are_hardened(root):
    scores = {proc: exposure(root, "zhub-%s.service" % proc) for proc in processes()}
    scores["backup"] = exposure(root, "zhub-backup.service")
    print("systemd-analyze security: " + ", ".join("%s %.1f" % kv for kv in sorted(scores.items())))
    for proc, score in scores.items():
        # 0 is the best, 10 the worst; "OK" is below 4.5 on systemd's scale
        assert score <= (4.0 if proc == "backup" else 2.0), (proc, score)
