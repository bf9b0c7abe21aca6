"""podman for the container tests: the settings (containers.conf beside
this file, through CONTAINERS_CONF), the base image made with debootstrap
(only Debian's archive is reachable on the test machines, so no registry
image can be pulled), the zhub image built from deploy/Containerfile on it,
and containers that the tests start and always remove.

Every zhub container runs with the host's network (--network host) and
listens on 127.0.0.1 only, like the integration tests' processes; the
stand-ins run on the host as there. Each process keeps its store on a named
volume mounted on its folder, as in compose and Kubernetes. The bus runs
with CURVE, the programs' default (ZHUB_BUS_SECURITY is never passed in):
the keys are made by the image's own `zhub keys new --all` (make_keys) and
each container gets only its own, as deploy/compose.yaml mounts them.

The base and the image are kept in podman's store between runs: the base is
made once per machine (or when ZHUB_CONTAINER_BASE names another image), and
the image build reuses podman's layer cache, so a run whose sources did not
change builds nothing. A lock file serialises builds between test runs.
"""
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from harness import BUILD_DIR, wait_until  # noqa: E402

CONF = os.path.join(HERE, "containers.conf")
BASE_IMAGE = os.environ.get("ZHUB_CONTAINER_BASE", "localhost/zhub-base:bookworm")
DEBIAN_MIRROR = os.environ.get("ZHUB_DEBIAN_MIRROR", "http://deb.debian.org/debian")
#  one tag per build dir, so that two checkouts on one machine do not share it
TAG = "localhost/zhub:t" + hashlib.sha256(os.path.abspath(BUILD_DIR).encode()).hexdigest()[:10]
LOCK = "/tmp/zhub-containers.lock"
ENV = dict(os.environ, CONTAINERS_CONF=CONF)
FIGURES = []


def figure(line):
    """A measured figure, printed at the end of the test's output
    (conftest.py) and kept in <build>/containers-figures.txt."""
    FIGURES.append(line)
    with open(os.path.join(BUILD_DIR, "containers-figures.txt"), "a") as f:
        f.write(line + "\n")


def unavailable():
    """Why these tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "podman needs root here (rootless podman needs subuid ranges this machine lacks)"
    missing = [tool for tool in ("podman", "runc", "debootstrap") if not shutil.which(tool)]
    if missing:
        return "not installed: %s (./dev test installs them)" % " ".join(missing)
    out = subprocess.run(["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"],
                         env=ENV, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        return "podman cannot run here: " + (out.stderr.strip().splitlines() or ["?"])[-1]
    return None


def podman(*args, check=True, timeout=600, **kw):
    out = subprocess.run(["podman"] + list(args), env=ENV, capture_output=True, text=True,
                         timeout=timeout, **kw)
    if check and out.returncode != 0:
        raise AssertionError("podman %s failed (%d):\n%s%s" % (
            " ".join(args), out.returncode, out.stdout[-3000:], out.stderr[-3000:]))
    return out


@contextlib.contextmanager
def _locked():
    with open(LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def image_exists(name):
    return podman("image", "exists", name, check=False).returncode == 0


def ensure_base():
    """A Debian 12 base image made with debootstrap (minbase, without the
    documentation, as debian:bookworm-slim is), imported into podman."""
    if image_exists(BASE_IMAGE):
        return BASE_IMAGE
    with _locked():
        if image_exists(BASE_IMAGE):
            return BASE_IMAGE
        rootfs = os.path.join(BUILD_DIR, "containers", "rootfs")
        shutil.rmtree(rootfs, ignore_errors=True)
        os.makedirs(os.path.dirname(rootfs), exist_ok=True)
        out = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", rootfs, DEBIAN_MIRROR],
                             capture_output=True, text=True, timeout=1500)
        assert out.returncode == 0, "debootstrap failed:\n" + out.stdout[-3000:] + out.stderr[-3000:]
        for junk in ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
                     "var/cache/apt/archives", "var/lib/apt/lists"):
            path = os.path.join(rootfs, junk)
            for entry in os.listdir(path) if os.path.isdir(path) else []:
                full = os.path.join(path, entry)
                if os.path.isdir(full) and not os.path.islink(full):
                    shutil.rmtree(full)
                elif entry != "lock":
                    os.unlink(full)
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        podman("import", "--change", 'CMD ["/bin/bash"]', "-", BASE_IMAGE, stdin=tar.stdout)
        tar.wait()
        shutil.rmtree(rootfs, ignore_errors=True)
    return BASE_IMAGE


_BUILT = set()   # what this test process built already (one checkout, one run)


def ensure_image():
    """The zhub image of this checkout (deploy/Containerfile on the base),
    and its per-process targets, tagged TAG and TAG-<process>. Built once
    per test process (the sources do not change during a test)."""
    if TAG in _BUILT:
        return TAG
    ensure_base()
    with _locked():
        started = time.monotonic()
        podman("build", "-f", os.path.join(ROOT, "deploy", "Containerfile"),
               "--build-arg", "BASE=" + BASE_IMAGE, "--layers", "-t", TAG, ROOT, timeout=1800)
        figure("image build: %.0f s (cached layers reused)" % (time.monotonic() - started))
    _BUILT.add(TAG)
    return TAG


def ensure_target(process):
    """The image of one process's target (zhub-broker, ...): the same
    layers as TAG, its entrypoint the process."""
    ensure_image()
    tag = "%s-%s" % (TAG, process)
    if tag in _BUILT:
        return tag
    with _locked():
        podman("build", "-f", os.path.join(ROOT, "deploy", "Containerfile"),
               "--build-arg", "BASE=" + BASE_IMAGE, "--layers", "--target", "zhub-" + process,
               "-t", tag, ROOT, timeout=1800)
    _BUILT.add(tag)
    return tag


#  the image's user: the keys it must read are its own
IMAGE_UID = 10001


def make_keys(path):
    """The broker's key and every program's, made in path by the image's
    `zhub keys new --all` (so as the image's user, who must read the secret
    certificates, mode 0600): path/<name>.key_secret, path/broker.key and
    the allow-list path/allow."""
    os.makedirs(path, exist_ok=True)
    os.chown(path, IMAGE_UID, IMAGE_UID)
    podman("run", "--rm", "--network", "none", "-v", "%s:/keys" % path, TAG,
           "keys", "new", "--all", "--keys", "/keys/allow", "--out", "/keys")
    return path


def key_mounts(keys, process):
    """The options and variables that give one process its bus key, as
    deploy/compose.yaml does: the broker its certificate and the allow-list,
    any other process only its own certificate and the broker's public key."""
    if process == "broker":
        return (["-v", "%s/broker.key_secret:/etc/zhub/bus.key_secret:ro" % keys,
                 "-v", "%s/allow:/etc/zhub/keys:ro" % keys],
                {"ZHUB_BROKER_CERT": "/etc/zhub/bus.key_secret", "ZHUB_BUS_KEYS": "/etc/zhub/keys"})
    return (["-v", "%s/%s.key_secret:/etc/zhub/bus.key_secret:ro" % (keys, process),
             "-v", "%s/broker.key:/etc/zhub/broker.key:ro" % keys],
            {"ZHUB_BUS_CERT": "/etc/zhub/bus.key_secret",
             "ZHUB_BROKER_PUBLIC_KEY": "/etc/zhub/broker.key"})


#  set per container by key_mounts, or left to the image's default (curve)
BUS_VARIABLES = ("ZHUB_BUS_SECURITY", "ZHUB_BUS_CERT", "ZHUB_BROKER_PUBLIC_KEY",
                 "ZHUB_BROKER_CERT", "ZHUB_BUS_KEYS")


def inspect(name):
    return json.loads(podman("inspect", name).stdout)[0]


class Containers:
    """The containers and volumes of one test; remove_all() removes them."""

    def __init__(self, prefix):
        self.prefix = "zhub-test-%s-%d" % (prefix, os.getpid())
        self.names = []
        self.volumes = []

    def volume(self, process):
        name = "%s-%s" % (self.prefix, process)
        if name not in self.volumes:
            podman("volume", "create", name)
            self.volumes.append(name)
        return name

    def run(self, name, process, env, keys, image=None, extra=(), entrypoint=True,
            ready="event=ready", ready_timeout=60):
        """Starts zhub-<process> in a container called <prefix>-<name>, its
        store on a named volume and its bus key from keys (make_keys);
        waits for its ready line."""
        full = "%s-%s" % (self.prefix, name)
        argv = ["run", "-d", "--name", full, "--network", "host",
                "-v", "%s:/var/lib/zhub/%s" % (self.volume(process), process)]
        mounts, bus = key_mounts(keys, process)
        env = dict({k: v for k, v in env.items() if k not in BUS_VARIABLES}, **bus)
        argv += mounts
        for key, value in sorted(env.items()):
            if key.startswith("ZHUB_") and key != "ZHUB_DATA_DIR" and key != "ZHUB_BUILD_DIR":
                argv += ["-e", "%s=%s" % (key, value)]
        argv += list(extra)
        if entrypoint:
            argv += ["--entrypoint", json.dumps(["zhub-" + process])]
        argv.append(image or TAG)
        podman(*argv)
        self.names.append(full)
        if ready:
            self.wait_log(full, ready, ready_timeout)
        return full

    def logs(self, full):
        out = podman("logs", full, check=False)
        return out.stdout + out.stderr

    def wait_log(self, full, text, timeout=60):
        def seen():
            state = inspect(full)["State"]
            if not state.get("Running") and state.get("Status") != "created":
                raise AssertionError("%s exited (%s) before %r:\n%s" % (
                    full, state.get("ExitCode"), text, self.logs(full)[-4000:]))
            return text in self.logs(full)
        wait_until(seen, timeout, 0.5, what="%s to log %r" % (full, text))

    def stop(self, full, grace=30):
        """podman stop (SIGTERM, then SIGKILL after grace); the exit code."""
        podman("stop", "-t", str(grace), full, timeout=grace + 60)
        return inspect(full)["State"]["ExitCode"]

    def rss_kib(self, full):
        """The resident memory of the container's process, from /proc."""
        pid = inspect(full)["State"]["Pid"]
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS for %s" % full)

    def remove_all(self):
        for full in reversed(self.names):
            podman("rm", "-f", "-v", "-t", "5", full, check=False, timeout=120)
        for volume in self.volumes:
            podman("volume", "rm", "-f", volume, check=False)
