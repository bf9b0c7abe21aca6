"""`zhub up` — what `./dev up` runs — brings up the whole hub with the
stand-ins, moves a WhatsApp message from Bird into HubSpot end to end, and
stops every process on SIGTERM."""
import json
import os
import signal
import subprocess
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
    up = subprocess.Popen([BINARIES["zhub"], "up", "--peer-port-base", str(base)],
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
