"""zhub-scheduler refuses, at start, calendar settings that Google, the
Microsoft identity platform or Microsoft Graph would refuse: one
config_invalid line naming the setting, exit status 1, and nothing else
done (no broker is even running). What the services answer to such
settings is modelled in the stand-ins (tests/peers) after the references
cited in docs/configuration.md."""
import json
import os
import subprocess

from harness import BINARIES
from test_scheduler import ANA, LUIS, SECRET_KEY

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def refused(hub, agents=(ANA, LUIS), **env):
    """Runs zhub-scheduler with a valid calendar configuration changed by
    env (None removes a variable); returns its log, having checked that it
    exited with 1 after one config_invalid line."""
    path = os.path.join(hub.tmp, "mapping.json")
    with open(path, "w") as f:
        json.dump({"scheduler": {"agents": list(agents)}}, f)
    full = dict(hub.env)
    full.update({"ZHUB_MAPPING_FILE": path, "ZHUB_SECRET_KEY": SECRET_KEY,
                 "ZHUB_GOOGLE_BASE_URL": "http://127.0.0.1:9", "ZHUB_GOOGLE_CLIENT_ID": "g",
                 "ZHUB_GOOGLE_CLIENT_SECRET": "g", "ZHUB_GOOGLE_REFRESH_TOKEN": "g",
                 "ZHUB_GRAPH_BASE_URL": "http://127.0.0.1:9/v1.0",
                 "ZHUB_GRAPH_TOKEN_URL": "http://127.0.0.1:9/{tenant}/oauth2/v2.0/token",
                 "ZHUB_GRAPH_TENANT_ID": "contoso.onmicrosoft.com",
                 "ZHUB_GRAPH_CLIENT_ID": "m", "ZHUB_GRAPH_CLIENT_SECRET": "m",
                 "ZHUB_GOOGLE_CHANNEL_TOKEN": "chan", "ZHUB_GRAPH_CLIENT_STATE": "state"})
    for name, value in env.items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    out = subprocess.run([BINARIES["scheduler"]], env=full, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    log = out.stdout.decode("utf-8", "replace")
    assert not any(mark in log for mark in SANITIZER_MARKS), log
    assert out.returncode == 1, log
    assert log.count("event=config_invalid") == 1, log
    return log


def test_graph_needs_one_tenant_for_app_only_tokens(hub):
    log = refused(hub, ZHUB_GRAPH_TENANT_ID=None)
    assert "ZHUB_GRAPH_TENANT_ID is required" in log
    for alias in ("common", "organizations", "consumers"):
        log = refused(hub, ZHUB_GRAPH_TENANT_ID=alias)
        assert "app-only tokens cannot come from common, organizations or consumers" in log
    # Graph is in use through its credentials alone, with no Graph agent yet
    log = refused(hub, agents=(ANA,), ZHUB_GRAPH_TENANT_ID=None)
    assert "ZHUB_GRAPH_TENANT_ID is required" in log


def test_graph_and_google_urls_and_scope_must_be_what_the_services_answer(hub):
    log = refused(hub, ZHUB_GRAPH_BASE_URL="https://graph.microsoft.com")
    assert "ZHUB_GRAPH_BASE_URL must include the API version" in log
    log = refused(hub, ZHUB_GRAPH_TOKEN_URL="login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
    assert "ZHUB_GRAPH_TOKEN_URL must be an http(s) URL" in log
    log = refused(hub, ZHUB_GRAPH_SCOPE="https://graph.microsoft.com/Calendars.ReadWrite")
    assert "ZHUB_GRAPH_SCOPE must be the Graph resource with /.default" in log
    log = refused(hub, ZHUB_GOOGLE_BASE_URL="https://www.googleapis.com/calendar/v3")
    assert "ZHUB_GOOGLE_BASE_URL is the host root (https://www.googleapis.com): zhub adds " \
           "/calendar/v3 itself" in log


def test_notification_addresses_google_and_graph_refuse_are_refused(hub):
    # plain http to a public host: Google's channels and Graph's
    # subscriptions need https
    log = refused(hub, ZHUB_PUBLIC_URL="http://hooks.example.com")
    assert "ZHUB_PUBLIC_URL=http://hooks.example.com: Google watch channels need https://" in log
    log = refused(hub, agents=(LUIS,), ZHUB_PUBLIC_URL="http://hooks.example.com")
    assert "Graph subscriptions need https://" in log
    # the default public URL (the gateway's listen address) is checked the same way
    log = refused(hub, ZHUB_PUBLIC_URL=None, ZHUB_GATEWAY_LISTEN="0.0.0.0:8080")
    assert "ZHUB_PUBLIC_URL=http://0.0.0.0:8080 (the default, from ZHUB_GATEWAY_LISTEN): " \
           "Google watch channels need https://" in log
    # this machine is fine for local stand-ins, not for the real Google
    log = refused(hub, ZHUB_GOOGLE_BASE_URL=None, ZHUB_PUBLIC_URL="http://127.0.0.1:8080")
    assert "this machine, where Google cannot deliver notifications" in log
    # Graph keeps at most 128 characters of clientState
    log = refused(hub, ZHUB_GRAPH_CLIENT_STATE="s" * 129)
    assert "ZHUB_GRAPH_CLIENT_STATE must be at most 128 characters" in log
