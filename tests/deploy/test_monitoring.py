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


def declared_metrics():
    """Every metric the C sources declare (zhub_metrics_declare's name
    literal), with the series a histogram adds."""
    import re
    names = set()
    for top in ("common", "broker", "gateway", "actors", "cli", "store", "proto"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if not name.endswith(".c"):
                    continue
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                for m in re.finditer(r'zhub_metrics_declare\s*\(\s*[^,]+,\s*"([a-z_:]+)"\s*,\s*'
                                     r'(ZHUB_\w+)', text):
                    names.add(m.group(1))
                    if m.group(2) == "ZHUB_HISTOGRAM":
                        names.update(m.group(1) + s for s in ("_bucket", "_sum", "_count"))
    return names


def test_every_metric_the_alerts_and_dashboard_read_is_exported():
    import re
    declared = declared_metrics()
    assert "zhub_actor_messages_total" in declared and "zhub_broker_group_lag" in declared
    texts = [open(os.path.join(DEPLOY, "prometheus", "zhub-rules.yaml")).read()]
    dashboard = json.load(open(os.path.join(DEPLOY, "grafana", "dashboards", "zhub.json")))
    texts += [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    read = set()
    for text in texts:
        read.update(re.findall(r"\b(zhub_[a-z_]+)\b", text))
    missing = sorted(name for name in read if name not in declared)
    assert not missing, "read by alerts or the dashboard, declared nowhere: %s" % missing
