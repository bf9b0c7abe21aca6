"""The image of deploy/Containerfile, run as a deployment runs it: one
container per process (broker, gateway, actors), each on its own volume,
talking over loopback (--network host, everything on 127.0.0.1) with CURVE,
the programs' default, each with its own key made by the image's
`zhub keys`; the stand-in HubSpot and Bird on the host as in the
integration tests.

Figures (image size, idle memory per process, the broker's recovery time)
are printed; none is asserted against a clock."""
import concurrent.futures
import json
import os
import re
import threading
import time

import pytest

import podman
from podman import ROOT, Containers, inspect, wait_until  # noqa: F401

from harness import BINARIES, Hub
from peer_http import bus_messages
from zhub_bus import Curve, read_cert
from test_contact_sync import (hubspot_contacts_with, inbound_message, post_bird_webhook,
                               seed_bird_contact)
from test_gateway import hubspot_headers, request

ACTORS_DIR = os.path.join(ROOT, "actors")


def actors():
    """Every actor the build has: a folder of actors/ with a main.c."""
    return sorted(d for d in os.listdir(ACTORS_DIR)
                  if os.path.exists(os.path.join(ACTORS_DIR, d, "main.c")))


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path)
    yield h
    h.stop_all()


@pytest.fixture
def keys(tmp_path):
    """Every program's bus key, made by the image's `zhub keys new --all`."""
    podman.ensure_image()
    return podman.make_keys(os.path.join(str(tmp_path), "keys"))


def assert_on_curve(containers, name, process, keys):
    """The container's process says it runs CURVE, with its own key."""
    text = containers.logs(name)
    if process == "broker":
        assert "security=curve" in text, text[-2000:]
    else:
        mine = read_cert(os.path.join(keys, "allow", process + ".key"))["public"]
        assert "curve key=" + mine in text, text[-2000:]


def test_image_holds_the_runtime_only_runs_as_uid_10001_and_is_small():
    tag = podman.ensure_image()
    info = inspect(tag)
    config = info["Config"]
    assert config["User"] == "10001:10001"
    assert "/var/lib/zhub" in config["Volumes"]
    assert config["StopSignal"] in ("SIGTERM", "15")
    assert config["Entrypoint"] == ["zhub"]
    assert "ZHUB_DATA_DIR=/var/lib/zhub" in config["Env"]
    size_mb = info["Size"] / 1e6
    podman.figure("image size: %.1f MB (%s)" % (size_mb, tag))
    assert size_mb < 150, "the image grew to %.1f MB" % size_mb

    def inside(script):
        out = podman.podman("run", "--rm", "--entrypoint", '["/bin/sh", "-c"]', tag, script)
        return out.stdout

    # every program meson installs, the client library with its header and
    # pkg-config file, and a folder per process owned by zhub
    listing = inside("ls /usr/local/bin; ls /usr/local/include/zhub; "
                     "ls /usr/local/lib/pkgconfig; ldconfig -p | grep -o 'libzhub-client.so.0 '; "
                     "stat -c '%u %n' /var/lib/zhub/*")
    for program in ["zhub", "zhub-broker", "zhub-gateway"] + ["zhub-" + a for a in actors()]:
        assert program + "\n" in listing, program
        if program != "zhub":
            assert "10001 /var/lib/zhub/%s\n" % program[5:] in listing, program
    for part in ("zhub_client.h\n", "zhub-client.pc\n", "libzhub-client.so.0 "):
        assert part in listing, part
    # runtime libraries only: no compiler, no headers of -dev packages, no test
    found = inside("command -v gcc cc meson ninja python3 || true; "
                   "dpkg-query -W -f '${Package}\\n' | grep -- '-dev$' || true; "
                   "ls /usr/local/bin | grep -i test || true")
    assert found.strip() == "", found
    # the per-process targets alias the same layers, their entrypoint the process
    broker_tag = podman.ensure_target("broker")
    assert inspect(broker_tag)["Config"]["Entrypoint"] == ["zhub-broker"]
    assert inspect(broker_tag)["RootFS"]["Layers"] == info["RootFS"]["Layers"]


def start_stack(hub, containers, keys):
    """Stand-ins on the host; broker (from its own target), gateway and
    contact-sync as containers, on CURVE."""
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    env = dict(hub.env, ZHUB_HUBSPOT_BATCH_WINDOW="0", ZHUB_LOG_LEVEL="info")
    broker = containers.run("broker", "broker", env, keys, image=podman.ensure_target("broker"),
                            entrypoint=False)
    gateway = containers.run("gateway", "gateway", env, keys)
    sync = containers.run("contact-sync", "contact-sync", env, keys)
    for name, process in ((broker, "broker"), (gateway, "gateway"), (sync, "contact-sync")):
        assert_on_curve(containers, name, process, keys)
    return broker, gateway, sync


def test_every_program_in_the_image_defaults_to_curve(hub):
    """ZHUB_BUS_SECURITY unset: every program of the image asks for its
    key and stops (one line, non-zero) rather than talk plain; plain on an
    endpoint that is not this machine's is refused too."""
    tag = podman.ensure_image()
    programs = ["zhub-broker", "zhub-gateway"] + ["zhub-" + a for a in actors()]
    env = {k: v for k, v in hub.env.items()
           if k.startswith("ZHUB_") and k not in podman.BUS_VARIABLES + ("ZHUB_DATA_DIR",)}
    script = "".join('timeout 30 %s >/dev/null 2>/tmp/err; echo "== %s $?"; '
                     'grep -m1 -E "BUS_CERT|BROKER_CERT|plain" /tmp/err; ' % (p, p)
                     for p in programs)
    argv = ["run", "--rm", "--network", "none", "--entrypoint", '["/bin/sh", "-c"]']
    for key, value in sorted(env.items()):
        argv += ["-e", "%s=%s" % (key, value)]
    out = podman.podman(*(argv + [tag, script]), timeout=600).stdout
    for p in programs:
        block = out.split("== %s " % p, 1)[1].split("\n== ", 1)[0]
        code = int(block.split("\n", 1)[0])
        assert code not in (0, 124), "%s: exit %d\n%s" % (p, code, out)
        wanted = "ZHUB_BROKER_CERT is not set" if p == "zhub-broker" else "ZHUB_BUS_CERT is not set"
        assert wanted in block and "CURVE" in block, "%s:\n%s" % (p, block)
    # and plain is for this machine only: the broker's service name is not
    plain = ["-e", "ZHUB_BUS_SECURITY=plain", "-e", "ZHUB_BROKER=tcp://broker:7450"]
    out = podman.podman(*(argv + plain + [tag, script]), timeout=600).stdout
    for p in programs:
        block = out.split("== %s " % p, 1)[1].split("\n== ", 1)[0]
        code = int(block.split("\n", 1)[0])
        assert code not in (0, 124) and "plain" in block, "%s:\n%s" % (p, block)


def test_webhook_through_broker_gateway_and_contact_sync_containers(hub, containers, keys):
    broker, gateway, sync = start_stack(hub, containers, keys)
    bird_id = seed_bird_contact(hub, "Rosario Castellanos", "+5215511112222")
    status, _ = post_bird_webhook(hub, inbound_message(bird_id, "+5215511112222"))
    assert 200 <= status < 300
    contacts = wait_until(lambda: hubspot_contacts_with(hub, bird_id), timeout=60,
                          what="the HubSpot contact made by the contact-sync container")
    assert contacts[0]["properties"]["firstname"] == "Rosario"
    # each process stops on SIGTERM by itself, within the grace period:
    # exit code 0, not 137 (killed when the grace ran out)
    for name in (sync, gateway, broker):
        assert containers.stop(name, grace=30) == 0, containers.logs(name)[-2000:]
    assert "event=stopping" in containers.logs(broker)


def test_every_actor_runs_idle_under_a_32_mib_memory_limit(hub, containers, keys):
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    env = dict(hub.env, ZHUB_LOG_LEVEL="info")
    figures = {}
    broker = containers.run("broker", "broker", env, keys)
    gateway = containers.run("gateway", "gateway", env, keys)
    figures["broker"], figures["gateway"] = broker, gateway
    limited = {}
    for actor in actors():
        limited[actor] = containers.run(actor, actor, env, keys,
                                        extra=["--memory", "32m", "--memory-swap", "32m"])
        assert_on_curve(containers, limited[actor], actor, keys)
    time.sleep(5)   # idle: ready, joined, nothing to do
    rss = {}
    for process, name in list(figures.items()) + list(limited.items()):
        state = inspect(name)["State"]
        assert state["Running"] and not state["OOMKilled"], "%s: %s" % (process, state)
        rss[process] = containers.rss_kib(name)
    for actor, name in limited.items():
        assert inspect(name)["HostConfig"]["Memory"] == 32 * 1024 * 1024
        assert rss[actor] < 32 * 1024, "%s uses %d KiB" % (actor, rss[actor])
    podman.figure("idle RSS (KiB): " + ", ".join("%s %d" % kv for kv in sorted(rss.items())))


def post_hubspot(hub, n):
    path = "/v1/webhooks/hubspot"
    body = json.dumps([{"eventId": n, "subscriptionId": 7, "portalId": 9, "occurredAt": 1000 + n,
                        "subscriptionType": "contact.propertyChange", "objectId": 5,
                        "propertyName": "firstname", "propertyValue": "v%d" % n}],
                      separators=(",", ":")).encode()
    return request(hub.gateway_url, "POST", path, body, hubspot_headers(hub, path, body),
                   timeout=30)


def event_id(n):
    return "hubspot:9:7:%d:5:%d" % (n, 1000 + n)


def test_broker_killed_and_replaced_on_its_volume_loses_nothing(hub, containers, keys):
    """The drill: webhooks flow, the broker's container is killed (SIGKILL)
    and a new one is started on the same volume. The gateway spools
    meanwhile and keeps answering 2xx; afterwards every event it answered
    2xx for is in the log once and reaches a consumer group."""
    image = podman.ensure_image()
    env = dict(hub.env, ZHUB_LOG_LEVEL="info", ZHUB_GATEWAY_PUBLISH_TIMEOUT="500ms")
    containers.run("broker-1", "broker", env, keys)
    containers.run("gateway", "gateway", env, keys)

    acked, refused, stop = [], [], threading.Event()

    def flow():
        n = 0
        while not stop.is_set():
            n += 1
            reply = post_hubspot(hub, n)
            (acked if 200 <= reply.status < 300 else refused).append((n, reply.status))

    sender = threading.Thread(target=flow, daemon=True)
    sender.start()
    try:
        wait_until(lambda: len(acked) >= 50, timeout=120, what="webhooks before the kill")
        before_kill = len(acked)
        killed_at = time.monotonic()
        podman.podman("kill", "-s", "KILL", containers.names[0])
        podman.podman("rm", "-f", "-v", containers.names[0])
        # accepted while no broker runs: spooled, answered 2xx
        wait_until(lambda: len(acked) >= before_kill + 20, timeout=120,
                   what="webhooks answered while the broker is gone")
        restarted_at = time.monotonic()
        down_s = restarted_at - killed_at
        containers.run("broker-2", "broker", env, keys, image=image)
        ready_s = time.monotonic() - restarted_at

        def spool_empty():
            text = request(hub.admin_url, "GET", "/metrics", timeout=5).body
            depth = re.search(r"^zhub_gateway_spool_depth (\d+)$", text, re.M)
            up = re.search(r"^zhub_gateway_broker_up (\d+)$", text, re.M)
            return depth and up and depth.group(1) == "0" and up.group(1) == "1"
        wait_until(spool_empty, timeout=120, interval=0.2, what="the spool to drain")
        drained_s = time.monotonic() - restarted_at
        after = len(acked)
        wait_until(lambda: len(acked) >= after + 20, timeout=120, what="webhooks after recovery")
    finally:
        stop.set()
        sender.join(60)
    assert not refused, "answers other than 2xx: %s" % refused[:5]
    podman.figure("broker recovery: the new container ready %.1f s after its start, the spool "
                  "drained %.1f s after its start (broker away %.1f s; %d webhooks answered 2xx, "
                  "%d of them while it was away)" % (ready_s, drained_s, down_s, len(acked),
                                                     after - before_kill))
    wait_until(spool_empty, timeout=60, interval=0.2, what="the spool to drain at the end")

    expected = {event_id(n) for n, _ in acked}
    ops = Curve.load(os.path.join(keys, "zhub.key_secret"), os.path.join(keys, "broker.key"))
    messages = bus_messages(hub, "webhook.hubspot.>", quiet=2.0, timeout=180, curve=ops)
    ids = [m["id"] for m in messages]
    assert len(ids) == len(set(ids)), "an event stored twice"
    assert expected <= set(ids), "lost: %s" % sorted(expected - set(ids))[:5]
