"""Starts and stops real zhub processes and stand-in peers for integration
tests. Every process listens on 127.0.0.1 only, logs to a file under the
test's temporary folder, and is stopped by the test (SIGTERM, then SIGKILL).

Binaries are found under $ZHUB_BUILD_DIR (meson sets it for `meson test`).
Each zhub process logs one `event=ready` line once it serves; start() waits
for it.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD_DIR = os.environ.get("ZHUB_BUILD_DIR", os.path.join(SOURCE_ROOT, "build"))
PEERS_DIR = os.path.join(SOURCE_ROOT, "tests", "peers")
# Providers' vectors and samples, copied into the checkout (see its README).
FIXTURES_DIR = os.path.join(SOURCE_ROOT, "tests", "fixtures")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

class _Binaries(dict):
    """Program paths by short name: broker, gateway, zhub, and any actor
    (actors/<name>/zhub-<name>) without listing it here."""

    def __missing__(self, name):
        fixed = {"broker": ("broker", "zhub-broker"), "gateway": ("gateway", "zhub-gateway"),
                 "zhub": ("cli", "zhub")}
        parts = fixed.get(name, ("actors", name, "zhub-" + name))
        return os.path.join(BUILD_DIR, *parts)


BINARIES = _Binaries()


_handed_out = set()


def free_port():
    """A port that is free now, chosen below the kernel's ephemeral range
    (net.ipv4.ip_local_port_range starts at 32768): a port the kernel hands
    out for port 0 can be taken a moment later by any outgoing connection
    of a parallel test before our process binds it. Ports already handed
    out in this test process are never reused, nor, for a while, ports
    that a parallel test process chose (see reserve_port): a port merely free
    now may be one that test is about to bind."""
    low, high = 20000, 32767
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral_low = int(f.read().split()[0])
        high = min(high, ephemeral_low - 1)
    except (OSError, ValueError, IndexError):
        pass
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randint(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if not reserve_port(port):
            continue
        _handed_out.add(port)
        return port
    raise AssertionError("no free port below the ephemeral range")


_RESERVATIONS = os.path.join(tempfile.gettempdir(), "zhub-test-ports")
_RESERVATION_TTL_S = 15 * 60   # longer than any one test


def reserve_port(port):
    """Claims port among the test processes of this machine (meson runs
    several at once): a file per port, made with O_EXCL; a claim older than
    the TTL is stale and taken over. Claims are not released: they age out."""
    os.makedirs(_RESERVATIONS, exist_ok=True)
    path = os.path.join(_RESERVATIONS, str(port))
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return True
    except FileExistsError:
        pass
    try:
        if time.time() - os.stat(path).st_mtime < _RESERVATION_TTL_S:
            return False
        os.utime(path)     # stale: ours now (a race here costs one retry at worst)
        return True
    except OSError:
        return False


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a truthy value; raises on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Proc:
    """One child process with its log file."""

    def __init__(self, name, argv, env, log_path, ready_text=None, ready_timeout=15.0):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.ready_text = ready_text
        self.ready_timeout = ready_timeout
        self.popen = None

    def start(self):
        log = open(self.log_path, "ab")
        self._log_start = log.tell()
        self.popen = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=log,
                                      stdin=subprocess.DEVNULL)
        log.close()
        if self.ready_text:
            wait_until(self._ready, self.ready_timeout, what="%s to log %r" % (self.name, self.ready_text))
        return self

    def _ready(self):
        if self.popen.poll() is not None:
            raise AssertionError("%s exited with %s before it was ready:\n%s"
                                 % (self.name, self.popen.returncode, self.log_tail()))
        with open(self.log_path, "rb") as f:
            f.seek(self._log_start)
            return self.ready_text.encode() in f.read()

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM and wait; SIGKILL if it does not exit. Returns exit code."""
        if not self.popen or self.popen.poll() is not None:
            return self.popen.returncode if self.popen else None
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(5)

    def kill9(self):
        if self.popen and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(5)


class Hub:
    """The processes of one test: ports, data dir, environment, children."""

    HUBSPOT_SECRET = "test-hubspot-app-secret"
    BIRD_KEY = "test-bird-signing-key"
    WORKSPACE = "a1405560-c8d3-4b1a-877d-3f449ad95352"  # Bird ids are UUIDs

    def __init__(self, tmp_path):
        self.tmp = str(tmp_path)
        self.data_dir = os.path.join(self.tmp, "data")
        self.broker_port = free_port()
        self.tap_port = free_port()
        self.gateway_port = free_port()
        self.admin_port = free_port()
        self.procs = []
        self.peers = {}
        self.env = dict(os.environ)
        self.env.update({
            "ZHUB_DATA_DIR": self.data_dir,
            "ZHUB_BROKER": "tcp://127.0.0.1:%d" % self.broker_port,
            # the tap's default (broker port + 1) could collide with a port
            # another test reserved: give it its own
            "ZHUB_BROKER_TAP": "tcp://127.0.0.1:%d" % self.tap_port,
            "ZHUB_GATEWAY_LISTEN": "127.0.0.1:%d" % self.gateway_port,
            "ZHUB_ADMIN_LISTEN": "127.0.0.1:%d" % self.admin_port,
            "ZHUB_PUBLIC_URL": "http://127.0.0.1:%d" % self.gateway_port,
            "ZHUB_HUBSPOT_APP_SECRET": self.HUBSPOT_SECRET,
            "ZHUB_BIRD_SIGNING_KEY": self.BIRD_KEY,
            "ZHUB_HUBSPOT_TOKEN": "test-hubspot-token",
            "ZHUB_BIRD_API_KEY": "test-bird-key",
            "ZHUB_BIRD_WORKSPACE_ID": self.WORKSPACE,
            "ZHUB_LOG_LEVEL": "debug",
            # every endpoint of a test is on loopback: plain, said explicitly
            # (CURVE is the default; tests/integration/test_bus_access.py)
            "ZHUB_BUS_SECURITY": "plain",
        })

    @property
    def gateway_url(self):
        return "http://127.0.0.1:%d" % self.gateway_port

    @property
    def admin_url(self):
        return "http://127.0.0.1:%d" % self.admin_port

    def _start(self, name, argv, ready_text="event=ready", extra_env=None):
        env = dict(self.env)
        env.update(extra_env or {})
        proc = Proc(name, argv, env, os.path.join(self.tmp, name + ".log"), ready_text)
        self.procs.append(proc)
        return proc.start()

    def start(self, name, extra_env=None):
        """Starts a zhub process by name: broker, gateway, or an actor's
        folder name (contact-sync, deal-sync, ...)."""
        return self._start(name, [BINARIES[name]], extra_env=extra_env)

    def start_peer(self, kind, *args):
        """Starts tests/peers/<kind>_peer.py on a free port; sets the base URL."""
        port = free_port()
        argv = [PYTHON, os.path.join(PEERS_DIR, "%s_peer.py" % kind), "--port", str(port),
                "--max-seconds", "600", "--request-journal", self.request_journal(kind)] + list(args)
        self._start(kind + "-peer", argv, ready_text="READY")
        url = "http://127.0.0.1:%d" % port
        self.peers[kind] = url
        self.env["ZHUB_%s_BASE_URL" % kind.upper()] = url
        return url

    def request_journal(self, kind):
        """The file where the stand-in of kind appends every request it
        answered (tests/peers/peerlib.py, --request-journal)."""
        return os.path.join(self.tmp, "%s-peer.requests.jsonl" % kind)

    def recorded_requests(self):
        """{kind: [request entries]} of every stand-in this test started,
        read once they are stopped."""
        found = {}
        for kind in self.peers:
            path = self.request_journal(kind)
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    found[kind] = [json.loads(line) for line in f if line.strip()]
        return found

    def stop_all(self):
        for proc in reversed(self.procs):
            proc.stop()

    def logs(self):
        return "\n".join("==== %s ====\n%s" % (p.name, p.log_tail(60)) for p in self.procs)
