"""deploy/prometheus, deploy/alertmanager and deploy/grafana, checked with
the tools that will read them: Prometheus's promtool (rules parse; each
alert fires on the series meant to fire it and not on the ones beside
them), Alertmanager's amtool (the configuration loads; each severity
reaches the receivers it should), and every query of the Grafana
dashboard parsed by promtool as a recording rule."""
import json
import os
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
PROMTOOL, AMTOOL = "/usr/bin/promtool", "/usr/bin/amtool"


def run(*argv):
    out = subprocess.run(list(argv), capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout + out.stderr


@pytest.fixture(autouse=True)
def tools():
    missing = [t for t in (PROMTOOL, AMTOOL) if not os.path.exists(t)]
    assert not missing, "install prometheus and prometheus-alertmanager (./dev does)"


def test_alert_rules_parse():
    rc, out = run(PROMTOOL, "check", "rules", os.path.join(DEPLOY, "prometheus", "zhub-rules.yaml"))
    assert rc == 0, out
    assert "SUCCESS: 11 rules found" in out


def test_every_alert_fires_on_its_series_and_not_beside_them():
    rc, out = run(PROMTOOL, "test", "rules",
                  os.path.join(DEPLOY, "prometheus", "zhub-rules.test.yaml"))
    assert rc == 0, out
    assert "SUCCESS" in out
    # every alert of the rules file has a test
    rules = open(os.path.join(DEPLOY, "prometheus", "zhub-rules.yaml")).read()
    tests = open(os.path.join(DEPLOY, "prometheus", "zhub-rules.test.yaml")).read()
    names = [line.split(":", 1)[1].strip() for line in rules.splitlines()
             if line.strip().startswith("- alert:")]
    assert len(names) == 11
    for name in names:
        assert "alertname: %s\n" % name in tests, name


def test_alertmanager_config_loads_and_routes_by_severity():
    config = os.path.join(DEPLOY, "alertmanager", "alertmanager.yml")
    rc, out = run(AMTOOL, "check-config", config)
    assert rc == 0, out
    for labels, receivers in (
            (["severity=critical", "alertname=ZhubBrokerDown"],
             "oncall-pagerduty,oncall-sms,team-slack,ops-webhook"),
            (["severity=warning", "alertname=ZhubDeadLetters"],
             "team-slack,team-email,ops-webhook")):
        rc, out = run(AMTOOL, "config", "routes", "test", "--config.file=" + config,
                      "--verify.receivers=" + receivers, *labels)
        assert rc == 0, out


def test_every_dashboard_query_parses():
    dashboard = json.load(open(os.path.join(DEPLOY, "grafana", "dashboards", "zhub.json")))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 15
    lines = ["groups:", "  - name: dashboard", "    rules:"]
    for i, expr in enumerate(exprs):
        lines.append("      - record: dashboard:query_%d" % i)
        lines.append("        expr: %s" % json.dumps(expr))
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    try:
        rc, out = run(PROMTOOL, "check", "rules", f.name)
        assert rc == 0, out
    finally:
        os.unlink(f.name)
