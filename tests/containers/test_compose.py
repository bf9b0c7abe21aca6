"""deploy/compose.yaml brought up by Debian's docker-compose through
podman's Docker-compatible socket, as an operator would with the shipped
files and a filled-in .env: every service starts, answers its health check,
and a signed webhook sent to the published gateway port reaches the
stand-in HubSpot through the broker and contact-sync, all by service name
on compose's own network, the bus on CURVE with the keys the image's
`zhub keys new --all` made (ZHUB_KEYS_DIR) (the stand-ins run as two more services, from
tests/containers/compose.peers.yaml).

Health checks: podman runs them from systemd timers, and the test machines
have no systemd, so the test runs each container's check itself
(`podman healthcheck run`), which is what docker-compose's
`depends_on: condition: service_healthy` waits for."""
import os
import re
import shutil
import subprocess
import threading
import time

import pytest

import podman
from podman import ROOT, wait_until

from harness import Hub, free_port
from peer_http import http
from test_contact_sync import inbound_message, post_bird_webhook

DEPLOY = os.path.join(ROOT, "deploy")
HERE = os.path.dirname(os.path.abspath(__file__))
WORKSPACE = Hub.WORKSPACE


@pytest.fixture
def socket_service(tmp_path):
    """podman's API service on a socket of this test (Docker's API)."""
    path = os.path.join(str(tmp_path), "podman.sock")
    log = open(os.path.join(str(tmp_path), "podman-service.log"), "wb")
    proc = subprocess.Popen(["podman", "system", "service", "--time=0", "unix://" + path],
                            env=podman.ENV, stdout=log, stderr=log)
    try:
        wait_until(lambda: os.path.exists(path), 30, what="podman's socket")
        yield "unix://" + path
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def peers_image():
    tag = podman.TAG + "-peers"
    podman.podman("build", "-f", os.path.join(HERE, "peers.Containerfile"),
                  "--build-arg", "BASE=" + podman.ensure_base(), "--layers", "-t", tag,
                  os.path.join(ROOT, "tests", "peers"), timeout=900)
    return tag


class Gateway:
    """What post_bird_webhook needs of a hub: the URL and the key."""
    BIRD_KEY = "compose-bird-signing-key"

    def __init__(self, port):
        self.gateway_url = "http://127.0.0.1:%d" % port


def test_compose_brings_up_every_service_and_carries_a_webhook(tmp_path, socket_service):
    if not shutil.which("docker-compose"):
        pytest.fail("docker-compose is not installed (./dev test installs it)")
    image = podman.ensure_image()
    keys = podman.make_keys(os.path.join(str(tmp_path), "keys"))
    peers = peers_image()
    gateway_port, hubspot_port, bird_port = free_port(), free_port(), free_port()
    project = "zhubtest%d" % os.getpid()
    env_file = os.path.join(str(tmp_path), "compose.env")
    repo, tag = image.rsplit(":", 1)
    settings = {
        "ZHUB_IMAGE": repo, "ZHUB_TAG": tag, "ZHUB_PEERS_IMAGE": peers,
        "ZHUB_GATEWAY_BIND": "127.0.0.1", "ZHUB_GATEWAY_PORT": gateway_port,
        "ZHUB_TEST_HUBSPOT_PORT": hubspot_port, "ZHUB_TEST_BIRD_PORT": bird_port,
        "ZHUB_PUBLIC_URL": "http://127.0.0.1:%d" % gateway_port,
        "ZHUB_HUBSPOT_APP_SECRET": "compose-hubspot-secret",
        "ZHUB_BIRD_SIGNING_KEY": Gateway.BIRD_KEY,
        "ZHUB_EVENTS_TOKEN": "flows@compose-events-token",
        "ZHUB_ADMIN_TOKEN": "ops@compose-admin-token",
        "ZHUB_HUBSPOT_TOKEN": "compose-hubspot-token", "ZHUB_BIRD_API_KEY": "compose-bird-key",
        "ZHUB_BIRD_WORKSPACE_ID": WORKSPACE,
        "ZHUB_HUBSPOT_BASE_URL": "http://hubspot:8090", "ZHUB_BIRD_BASE_URL": "http://bird:8092",
        "ZHUB_SECRET_KEY": "ab" * 32, "ZHUB_HUBSPOT_BATCH_WINDOW": "0",
        "ZHUB_KEYS_DIR": keys,
    }
    with open(env_file, "w") as f:
        for key, value in settings.items():
            f.write("%s=%s\n" % (key, value))
    base = ["docker-compose", "-p", project, "--env-file", env_file,
            "-f", os.path.join(DEPLOY, "compose.yaml"),
            "-f", os.path.join(HERE, "compose.peers.yaml")]
    env = dict(os.environ, DOCKER_HOST=socket_service, COMPOSE_HTTP_TIMEOUT="300")

    def compose(*args, timeout=600, check=True):
        out = subprocess.run(base + list(args), env=env, capture_output=True, text=True,
                             timeout=timeout)
        if check and out.returncode != 0:
            raise AssertionError("docker-compose %s: %s%s" % (" ".join(args), out.stdout[-4000:],
                                                             out.stderr[-4000:]))
        return out

    services = compose("config", "--services").stdout.split()
    zhub_services = [s for s in services if s not in ("hubspot", "bird")]

    def project_containers():
        out = podman.podman("ps", "-a", "--filter", "label=com.docker.compose.project=" + project,
                            "--format", "{{.Names}}")
        return out.stdout.split()

    stop_checks = threading.Event()

    def run_health_checks():
        while not stop_checks.wait(1.0):
            for name in project_containers():
                podman.podman("healthcheck", "run", name, check=False, timeout=60)

    checker = threading.Thread(target=run_health_checks, daemon=True)
    checker.start()
    try:
        compose("up", "-d", timeout=900)
        # every zhub service healthy: its check (curl /readyz) passes
        def all_healthy():
            states = {}
            for name in project_containers():
                info = podman.inspect(name)
                service = info["Config"]["Labels"].get("com.docker.compose.service")
                if service in zhub_services:
                    states[service] = podman.podman("healthcheck", "run", name,
                                                    check=False).returncode == 0
            return len(states) == len(zhub_services) and all(states.values())
        wait_until(all_healthy, timeout=240, interval=2, what="every compose service healthy")

        # the broker is not published; the gateway's port is, on 127.0.0.1 only
        ports = compose("port", "gateway", "8080").stdout.strip()
        assert ports == "127.0.0.1:%d" % gateway_port, ports
        assert compose("port", "broker", "7450", check=False).stdout.strip() in ("", ":0")

        bird_url = "http://127.0.0.1:%d" % bird_port
        status, contact = http("POST", "%s/workspaces/%s/contacts" % (bird_url, WORKSPACE),
                               {"displayName": "Elena Poniatowska",
                                "identifiers": [{"key": "phonenumber", "value": "+5215533334444"}]},
                               {"Authorization": "AccessKey compose-bird-key"})
        assert status == 201, contact
        status, _ = post_bird_webhook(Gateway(gateway_port),
                                      inbound_message(contact["id"], "+5215533334444"))
        assert 200 <= status < 300

        def in_hubspot():
            status, state = http("GET", "http://127.0.0.1:%d/__peer/state" % hubspot_port)
            return [c for c in state["contacts"]
                    if c["properties"].get("bird_contact_id") == contact["id"]]
        found = wait_until(in_hubspot, timeout=90, what="the contact in the HubSpot stand-in")
        assert found[0]["properties"]["firstname"] == "Elena"
        # the restart policy is what compose asked for, and the bus is CURVE
        for name in project_containers():
            info = podman.inspect(name)
            service = info["Config"]["Labels"].get("com.docker.compose.service")
            if service in zhub_services:
                assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped", name
                logs = podman.podman("logs", name, check=False)
                text = logs.stdout + logs.stderr
                # json logs: "security":"curve" (broker, gateway), "bus":"curve" (actors)
                assert re.search(r'"(security|bus)":"curve"', text), (service, text[-2000:])
    except AssertionError:
        for name in project_containers():
            print("==== %s ====\n%s" % (name, podman.podman("logs", name, check=False).stderr[-3000:]))
        raise
    finally:
        stop_checks.set()
        checker.join(30)
        compose("down", "-v", "-t", "20", timeout=600, check=False)
        for name in project_containers():
            podman.podman("rm", "-f", "-v", name, check=False)
