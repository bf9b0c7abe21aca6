"""`zhub doctor` against the stand-ins of every service: all configured and
right, every check is ok and it exits 0; a wrong HubSpot token, a token
without a needed scope, missing custom properties or a broker that is down
each give their FAIL line and exit 1; what is not configured is skipped,
not failed; --json is one JSON document."""
import json
import os
import subprocess

from harness import BUILD_DIR, free_port
from peer_http import peer_requests

ZHUB = os.path.join(BUILD_DIR, "cli", "zhub")
CHANNEL = "52ad151f-f7b4-46f9-a5c6-d3318e650c84"  # Bird channel ids are UUIDs
SECRET_KEY = "5f" * 32
CHECKS = ["broker", "public-url", "mapping", "hubspot.token", "hubspot.properties",
          "hubspot.pipeline", "hubspot.app-secret", "bird.access-key", "bird.channel",
          "bird.signing-key", "google", "graph", "calendly", "scheduler.secret-key"]


def configure(hub, hubspot_args=(), broker=True):
    """Every service configured against its stand-in, as a deployment's
    environment would be."""
    hub.start_peer("hubspot", *hubspot_args)
    hub.start_peer("bird", "--workspace-id", hub.WORKSPACE, "--channel-id", CHANNEL)
    hub.start_peer("google")
    hub.start_peer("graph")
    hub.start_peer("calendly")
    if broker:
        hub.start("broker")
    mapping = os.path.join(hub.tmp, "mapping.json")
    with open(mapping, "w") as f:
        json.dump({"scheduler": {
            "bird_channel_id": CHANNEL,
            "agents": [{"id": "ana", "email": "ana@urbanhub.mx", "platform": "google"},
                       {"id": "luis", "email": "luis@urbanhub.mx", "platform": "graph"}]}}, f)
    hub.env.update({
        "ZHUB_MAPPING_FILE": mapping,
        "ZHUB_SECRET_KEY": SECRET_KEY,
        "ZHUB_GOOGLE_CLIENT_ID": "google-client-id",
        "ZHUB_GOOGLE_CLIENT_SECRET": "google-client-secret",
        "ZHUB_GOOGLE_REFRESH_TOKEN": "google-refresh-token",
        "ZHUB_GOOGLE_TOKEN_URL": hub.peers["google"] + "/token",
        "ZHUB_GRAPH_CLIENT_ID": "graph-client-id",
        "ZHUB_GRAPH_CLIENT_SECRET": "graph-client-secret",
        "ZHUB_GRAPH_BASE_URL": hub.peers["graph"] + "/v1.0",
        "ZHUB_GRAPH_TOKEN_URL": hub.peers["graph"] + "/contoso.onmicrosoft.com/oauth2/v2.0/token",
        "ZHUB_CALENDLY_TOKEN": "calendly-token",
    })


def doctor(hub, *args, env=None):
    out = subprocess.run([ZHUB, "doctor", "--timeout", "5s", *args], env=env or hub.env,
                         capture_output=True, text=True, timeout=120)
    lines = {}
    for line in out.stdout.splitlines():
        name, _, rest = line.partition(" ")
        lines[name] = rest.strip()
    return out, lines


def test_doctor_with_every_service_right_says_ok_and_exits_0(hub):
    configure(hub)
    out, lines = doctor(hub)
    assert out.returncode == 0, out.stdout + out.stderr
    assert list(lines) == CHECKS, out.stdout
    for name in CHECKS:
        assert lines[name].startswith("ok"), (name, lines[name])
    assert "every scope zhub needs" in lines["hubspot.token"]
    # the token went to HubSpot's introspection endpoint in the body
    calls = peer_requests(hub, "hubspot", "/oauth/v2/private-apps/get/access-token-info", "POST")
    assert calls and calls[-1]["body"] == {"tokenKey": hub.env["ZHUB_HUBSPOT_TOKEN"]}
    # the channel and Calendly's current user were asked for
    assert peer_requests(hub, "bird", "/workspaces/%s/channels/%s" % (hub.WORKSPACE, CHANNEL),
                         "GET")
    assert peer_requests(hub, "calendly", "/users/me", "GET")

    out, _ = doctor(hub, "--json")
    assert out.returncode == 0
    report = json.loads(out.stdout)
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]] == CHECKS
    assert {c["status"] for c in report["checks"]} == {"ok"}


def test_doctor_says_what_is_wrong_with_hubspot(hub):
    # the stand-in knows one token, without the right to write deals, and
    # none of zhub's custom properties
    configure(hub, ("--token", "pat-good", "--no-custom-properties", "--scopes",
                    "crm.objects.contacts.read,crm.objects.contacts.write,"
                    "crm.objects.deals.read"))
    wrong = dict(hub.env, ZHUB_HUBSPOT_TOKEN="pat-revoked")
    out, lines = doctor(hub, env=wrong)
    assert out.returncode == 1
    assert lines["hubspot.token"].startswith("FAIL HubSpot does not accept ZHUB_HUBSPOT_TOKEN")
    assert lines["hubspot.properties"].startswith("skip")
    assert lines["bird.access-key"].startswith("ok")     # the rest is checked all the same

    right = dict(hub.env, ZHUB_HUBSPOT_TOKEN="pat-good")
    out, lines = doctor(hub, env=right)
    assert out.returncode == 1
    assert lines["hubspot.token"].startswith("FAIL"), lines["hubspot.token"]
    assert "lacks crm.objects.deals.write" in lines["hubspot.token"]
    assert lines["hubspot.properties"].startswith("FAIL missing: contacts.bird_contact_id")
    assert "deals.zhub_deal_key" in lines["hubspot.properties"]
    assert "zhub hubspot setup" in lines["hubspot.properties"]
    assert lines["hubspot.pipeline"].startswith("ok")

    report = json.loads(doctor(hub, "--json", env=right)[0].stdout)
    assert report["ok"] is False
    failed = {c["name"] for c in report["checks"] if c["status"] == "fail"}
    assert failed == {"hubspot.token", "hubspot.properties"}

    # what it says to do works
    setup = subprocess.run([ZHUB, "hubspot", "setup"], env=right, capture_output=True,
                           text=True, timeout=60)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert doctor(hub, env=right)[1]["hubspot.properties"].startswith("ok")


def test_doctor_reports_a_broker_that_is_down(hub):
    configure(hub, broker=False)
    down = dict(hub.env, ZHUB_BROKER="tcp://127.0.0.1:%d" % free_port())
    out, lines = doctor(hub, env=down)
    assert out.returncode == 1
    assert lines["broker"].startswith("FAIL the broker at tcp://127.0.0.1:")
    assert "did not answer" in lines["broker"]
    assert all(lines[name].startswith("ok") for name in CHECKS if name != "broker"), out.stdout


def test_doctor_skips_what_is_not_configured(hub):
    hub.start_peer("hubspot")
    hub.start("broker")
    env = {k: v for k, v in hub.env.items()
           if not k.startswith(("ZHUB_BIRD_", "ZHUB_GOOGLE_", "ZHUB_GRAPH_", "ZHUB_CALENDLY_"))}
    out, lines = doctor(hub, env=env)
    assert out.returncode == 0, out.stdout
    for name in ("mapping", "bird.access-key", "bird.channel", "bird.signing-key", "google",
                 "graph", "calendly", "scheduler.secret-key"):
        assert lines[name].startswith("skip not configured"), (name, lines[name])
    assert lines["hubspot.token"].startswith("ok")


def test_doctor_usage(hub):
    assert subprocess.run([ZHUB, "doctor", "--bogus"], capture_output=True).returncode == 2
    assert subprocess.run([ZHUB, "doctor", "--timeout", "soon"],
                          capture_output=True).returncode == 2
    help_ = subprocess.run([ZHUB, "doctor", "--help"], capture_output=True, text=True)
    assert help_.returncode == 0 and "Exit codes: 0" in help_.stdout
