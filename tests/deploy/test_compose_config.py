"""deploy/compose.yaml, offline: Debian's docker-compose validates it
(`config -q`) with the shipped .env.example, refuses it without the
secrets it requires, and what it would run is what each process needs:
the secrets and settings it reads, its own volume on its store's folder,
the mapping file where the actors that read it look, a restart policy,
a health check, no port published but the gateway's, and the bus keys:
CURVE, each container mounting only its own secret certificate and the
broker's public key, the broker its own and the allow-list.
(tests/containers/test_compose.py brings it up.)"""
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from installed import ROOT, processes

DEPLOY = os.path.join(ROOT, "deploy")
MAPPING_READERS = {"contact-sync", "deal-sync", "scheduler", "intent"}


def compose(*args, env_file=os.path.join(DEPLOY, ".env.example")):
    if not shutil.which("docker-compose"):
        pytest.fail("docker-compose is not installed (./dev test installs it)")
    argv = ["docker-compose", "--project-directory", DEPLOY, "-f",
            os.path.join(DEPLOY, "compose.yaml")]
    if env_file:
        argv += ["--env-file", env_file]
    # only the file's own variables: none leaks in from the test's environment
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHUB_")}
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=120, env=env)


def test_compose_file_validates_with_the_shipped_env_example():
    out = compose("config", "-q")
    assert out.returncode == 0, out.stderr


def test_compose_refuses_to_start_without_the_required_secrets(tmp_path):
    empty = os.path.join(str(tmp_path), "empty.env")
    open(empty, "w").close()
    out = compose("config", "-q", env_file=empty)
    assert out.returncode != 0
    assert re.search(r"ZHUB_[A-Z_]+|set it in \.env|providers call", out.stderr), out.stderr


def config():
    out = compose("config")
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def test_every_process_is_a_service_with_what_it_needs():
    services = config()["services"]
    assert sorted(services) == sorted(processes())
    for proc in processes():
        s = services[proc]
        assert s["entrypoint"] == ["zhub-" + proc]
        assert s["restart"] == "unless-stopped"
        assert s["healthcheck"]["test"][:2] == ["CMD", "curl"]
        assert "/readyz" in s["healthcheck"]["test"][-1]
        volumes = s["volumes"]
        assert "%s-data:/var/lib/zhub/%s:rw" % (proc, proc) in volumes, volumes
        env = s["environment"]
        if proc in MAPPING_READERS:
            assert env["ZHUB_MAPPING_FILE"] == "/etc/zhub/mapping.json"
            assert any(v.endswith("/deploy/mapping.json:/etc/zhub/mapping.json:ro")
                       for v in volumes), volumes
        else:
            assert "ZHUB_MAPPING_FILE" not in env
        keys = sorted(v for v in volumes if "/deploy/keys/" in v)
        assert env["ZHUB_BUS_SECURITY"] == "curve"
        if proc == "broker":
            assert env["ZHUB_BROKER_CERT"] == "/etc/zhub/bus.key_secret"
            assert env["ZHUB_BUS_KEYS"] == "/etc/zhub/keys"
            assert [k.split("/deploy/")[1] for k in keys] == [
                "keys/allow:/etc/zhub/keys:ro",
                "keys/broker.key_secret:/etc/zhub/bus.key_secret:ro"], keys
            assert "ZHUB_BUS_CERT" not in env
        else:
            # its own secret and the broker's public key, nothing else
            assert env["ZHUB_BUS_CERT"] == "/etc/zhub/bus.key_secret"
            assert env["ZHUB_BROKER_PUBLIC_KEY"] == "/etc/zhub/broker.key"
            assert [k.split("/deploy/")[1] for k in keys] == sorted([
                "keys/broker.key:/etc/zhub/broker.key:ro",
                "keys/%s.key_secret:/etc/zhub/bus.key_secret:ro" % proc]), keys
            assert "ZHUB_BROKER_CERT" not in env and "ZHUB_BUS_KEYS" not in env
            if proc != "gateway":
                # a stable replica name across recreated containers
                assert env["ZHUB_INSTANCE"] == proc + "-1"
        if proc != "broker":
            assert env["ZHUB_BROKER"] == "tcp://broker:7450"
            assert s["depends_on"]["broker"]["condition"] == "service_healthy"
        if proc == "gateway":
            assert s["ports"] == [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 8080,
                                   "published": 8080, "protocol": "tcp"}] \
                or s["ports"] == ["127.0.0.1:8080:8080/tcp"] \
                or s["ports"] == ["127.0.0.1:8080:8080"], s["ports"]
        else:
            assert "ports" not in s, proc
    # the named volumes, one per store
    assert sorted(config()["volumes"]) == sorted(p + "-data" for p in processes())
    # what was missing: the scheduler's calendars and key, the gateway's
    # Calendly and WhatsApp secrets and its two tokens
    for var in ("ZHUB_SECRET_KEY", "ZHUB_GOOGLE_CLIENT_ID", "ZHUB_GOOGLE_CLIENT_SECRET",
                "ZHUB_GOOGLE_REFRESH_TOKEN", "ZHUB_GRAPH_TENANT_ID", "ZHUB_GRAPH_CLIENT_ID",
                "ZHUB_GRAPH_CLIENT_SECRET", "ZHUB_CALENDLY_TOKEN", "ZHUB_BIRD_API_KEY",
                "ZHUB_PUBLIC_URL"):
        assert var in services["scheduler"]["environment"], var
    for var in ("ZHUB_CALENDLY_SIGNING_KEY", "ZHUB_WHATSAPP_APP_SECRET",
                "ZHUB_WHATSAPP_VERIFY_TOKEN", "ZHUB_EVENTS_TOKEN", "ZHUB_ADMIN_TOKEN",
                "ZHUB_HUBSPOT_APP_SECRET", "ZHUB_BIRD_SIGNING_KEY", "ZHUB_PUBLIC_URL"):
        assert var in services["gateway"]["environment"], var
    # and no service gets a secret it does not read
    assert "ZHUB_HUBSPOT_TOKEN" not in services["gateway"]["environment"]
    assert "ZHUB_SECRET_KEY" not in services["contact-sync"]["environment"]


def test_every_variable_is_documented_and_the_example_sets_only_used_ones():
    text = open(os.path.join(DEPLOY, "compose.yaml")).read()
    example = open(os.path.join(DEPLOY, ".env.example")).read()
    docs = open(os.path.join(ROOT, "docs", "configuration.md")).read()
    set_in_services = set(re.findall(r"^\s+(ZHUB_[A-Z0-9_]+):", text, re.M))
    missing = sorted(v for v in set_in_services if "`%s`" % v not in docs and "`%s`," % v not in docs)
    assert not missing, missing
    interpolated = set(re.findall(r"\$\{(ZHUB_[A-Z0-9_]+)", text))
    required = set(re.findall(r"\$\{(ZHUB_[A-Z0-9_]+):\?", text))
    in_example = set(re.findall(r"^(ZHUB_[A-Z0-9_]+)=", example, re.M))
    assert in_example <= interpolated, sorted(in_example - interpolated)
    assert required <= in_example, sorted(required - in_example)
    assert len(required) >= 9


def test_the_shipped_mapping_file_passes_the_actors_own_parsers():
    from installed import BUILD_DIR
    zhub = os.path.join(BUILD_DIR, "cli", "zhub")
    env = {"PATH": os.environ["PATH"], "ZHUB_MAPPING_FILE": os.path.join(DEPLOY, "mapping.json"),
           "ZHUB_BROKER": "tcp://127.0.0.1:9"}
    out = subprocess.run([zhub, "doctor", "--json", "--timeout", "1s"], env=env,
                         capture_output=True, text=True, timeout=60)
    checks = {c["name"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["mapping"]["status"] == "ok", checks["mapping"]
