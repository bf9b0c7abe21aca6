"""`zhub up` — what `./dev up` runs — brings up the whole hub with the
stand-ins, moves a WhatsApp message from Bird into HubSpot end to end, and
stops every process on SIGTERM. Its children never outlive it: killed
outright (SIGKILL), it takes them along; with its output pipe closed
(`./dev up | tee up.log`, then Ctrl-C) it still stops them cleanly."""
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request

from harness import BINARIES, free_port, reserve_port, wait_until


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, json.loads(r.read() or b"null")


def _post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read() or b"null")


def _free_port_range(count):
    """A base port whose next `count` ports are all free right now."""
    import random
    import socket
    for _ in range(200):
        base = random.randint(20000, 32700)  # below the ephemeral range
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            if all(reserve_port(p) for p in range(base, base + count)):
                return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port range")


def _children_of(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_up_runs_everything_and_stops_cleanly(tmp_path):
    _run_up(tmp_path, [])


def test_up_curve_runs_everything_with_a_key_per_program(tmp_path):
    """`zhub up --curve`: the bus with CURVE keys as in production. Every
    program gets its own key with only what it needs, and the same
    WhatsApp message still reaches HubSpot: none of them was refused."""
    text = _run_up(tmp_path, ["--curve"])
    assert "security=curve" in text
    keys = sorted(os.listdir(tmp_path / "data" / "broker" / "keys"))
    assert keys == ["activity-log.key", "contact-sync.key", "conversation.key", "dead-letter.key",
                    "deal-sync.key", "gateway.key", "intent.key", "scheduler.key", "zhub.key"], keys
    secrets = tmp_path / "data" / "secrets"
    assert oct(os.stat(secrets / "gateway.key_secret").st_mode & 0o777) == "0o600"
    assert "event=forbidden" not in text and "event=frame_refused" not in text, \
        [l for l in text.splitlines() if "forbidden" in l or "refused" in l][:5]


def _run_up(tmp_path, args):
    ports = {name: free_port() for name in ("broker", "gateway", "admin")}
    base = _free_port_range(6)
    ports["hubspot"], ports["bird"] = base, base + 2
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("ZHUB_") and key != "ZHUB_BUILD_DIR":
            del env[key]
    env.update({
        "ZHUB_DATA_DIR": str(tmp_path / "data"),
        "ZHUB_BROKER": "tcp://127.0.0.1:%d" % ports["broker"],
        "ZHUB_GATEWAY_LISTEN": "127.0.0.1:%d" % ports["gateway"],
        "ZHUB_ADMIN_LISTEN": "127.0.0.1:%d" % ports["admin"],
    })
    log = open(tmp_path / "up.log", "wb")
    up = subprocess.Popen([BINARIES["zhub"], "up", "--peer-port-base", str(base)] + args,
                          env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    hubspot = "http://127.0.0.1:%d" % ports["hubspot"]
    bird = "http://127.0.0.1:%d" % ports["bird"]
    admin = "http://127.0.0.1:%d" % ports["admin"]
    children = []
    try:
        def ready():
            try:
                return _get(admin + "/readyz")[0] == 200
            except Exception:
                return False
        wait_until(ready, 60, 0.2, "the gateway to be ready behind zhub up")
        text = (tmp_path / "up.log").read_text()
        assert "/v1/webhooks/hubspot" in text and "/v1/webhooks/bird" in text

        # a WhatsApp user writes in: the Bird stand-in sends its signed webhook
        def up_ok(url):
            try:
                return _get(url)[0] == 200
            except Exception:
                return False
        wait_until(lambda: up_ok(bird + "/__peer/state"), 15, 0.2, "the Bird stand-in")
        wait_until(lambda: up_ok(hubspot + "/__peer/state"), 15, 0.2, "the HubSpot stand-in")
        status, _ = _post(bird + "/__peer/inbound", {"from": "+5215512345678", "text": "Hola"})
        assert status in (200, 202)

        def contact_in_hubspot():
            contacts = _get(hubspot + "/__peer/state")[1].get("contacts", {})
            rows = contacts.values() if isinstance(contacts, dict) else contacts
            # the old Mexican mobile "1" is dropped on the way (E.164 today)
            return [c for c in rows if c.get("properties", {}).get("phone") == "+525512345678"]
        found = wait_until(contact_in_hubspot, 30, 0.2, "the contact to reach the HubSpot stand-in")
        assert found[0]["properties"].get("bird_contact_id")

        children = _children_of(up.pid)
        # two stand-ins, broker, gateway and every actor
        assert len(children) >= 5, children
        up.send_signal(signal.SIGTERM)
        assert up.wait(30) == 0
        text = (tmp_path / "up.log").read_text()
        time.sleep(0.2)
        for pid in children:
            assert not os.path.exists("/proc/%d" % pid) or \
                open("/proc/%d/stat" % pid).read().split()[2] == "Z", "child %d still running" % pid
    finally:
        # never leave the supervisor's children behind, even when failing
        if up.poll() is None:
            children = children or _children_of(up.pid)
            up.send_signal(signal.SIGTERM)
            try:
                up.wait(20)
            except subprocess.TimeoutExpired:
                up.kill()
                up.wait(5)
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        log.close()
        if os.path.exists(tmp_path / "up.log"):
            print((tmp_path / "up.log").read_text()[-6000:])
    return text


# ------------------------------------------------- children die with it

# five stand-ins, broker, gateway and five actors
CHILDREN = 12


def _start_up(tmp_path, stderr):
    """zhub up with its stdout on a pipe (as under `| tee`); returns the
    process and every port its tree listens on."""
    ports = {name: free_port() for name in ("broker", "tap", "gateway", "admin")}
    base = _free_port_range(6)
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("ZHUB_") and key != "ZHUB_BUILD_DIR":
            del env[key]
    env.update({
        "ZHUB_DATA_DIR": str(tmp_path / "data"),
        "ZHUB_BROKER": "tcp://127.0.0.1:%d" % ports["broker"],
        "ZHUB_BROKER_TAP": "tcp://127.0.0.1:%d" % ports["tap"],
        "ZHUB_GATEWAY_LISTEN": "127.0.0.1:%d" % ports["gateway"],
        "ZHUB_ADMIN_LISTEN": "127.0.0.1:%d" % ports["admin"],
    })
    up = subprocess.Popen([BINARIES["zhub"], "up", "--peer-port-base", str(base)],
                          env=env, stdout=subprocess.PIPE, stderr=stderr,
                          stdin=subprocess.DEVNULL)
    all_ports = list(ports.values()) + [base, base + 2, base + 3, base + 4, base + 5]
    return up, all_ports


def _wait_for_children(up, ports):
    """Every child started and every port listening; returns the children."""
    def all_started():
        children = _children_of(up.pid)
        return children if len(children) >= CHILDREN else None
    children = wait_until(all_started, 60, 0.2, "zhub up to start its %d children" % CHILDREN)
    wait_until(lambda: not any(_port_free(p) for p in ports), 60, 0.2,
               "the broker, its tap, the gateway and the stand-ins to listen")
    return children


def _alive(pid):
    """Running (a zombie waiting for its reaper is gone for our purpose)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _cleanup(up, children):
    if up.poll() is None:
        up.kill()
        up.wait(5)
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def test_children_die_when_up_is_killed(tmp_path):
    log = open(tmp_path / "up.err", "wb")
    up, ports = _start_up(tmp_path, log)
    children = []
    # keep reading its output, as tee would
    reader = threading.Thread(target=up.stdout.read, daemon=True)
    reader.start()
    try:
        children = _wait_for_children(up, ports)
        up.kill()
        assert up.wait(10) == -signal.SIGKILL
        wait_until(lambda: not any(_alive(pid) for pid in children), 30, 0.1,
                   "every child of the killed zhub up to exit")
        wait_until(lambda: all(_port_free(p) for p in ports), 30, 0.1, "the ports to be free")
    finally:
        _cleanup(up, children)
        log.close()
        print((tmp_path / "up.err").read_text(errors="replace")[-4000:])


def test_closed_output_pipe_and_ctrl_c_stop_everything_cleanly(tmp_path):
    """`./dev up | tee up.log`, then Ctrl-C: the terminal's SIGINT ends tee
    and zhub up together; zhub up's next write then finds no reader."""
    log = open(tmp_path / "up.err", "wb")
    up, ports = _start_up(tmp_path, log)
    children = []
    try:
        children = _wait_for_children(up, ports)
        banner = b""
        while b"Press Ctrl-C" not in banner:
            data = up.stdout.read1(65536)
            assert data, "zhub up closed its output before the banner"
            banner += data
        up.stdout.close()
        up.send_signal(signal.SIGINT)
        assert up.wait(60) == 0
        wait_until(lambda: not any(_alive(pid) for pid in children), 30, 0.1,
                   "every child to exit")
        wait_until(lambda: all(_port_free(p) for p in ports), 30, 0.1, "the ports to be free")
    finally:
        _cleanup(up, children)
        log.close()
        print((tmp_path / "up.err").read_text(errors="replace")[-4000:])
