"""deploy/k8s, offline: every manifest (the files, and each overlay as
`kubectl kustomize` renders it where kubectl is installed) against the
Kubernetes and KEDA schemas (tests/deploy/k8s-schema, kubernetes-models),
then a policy pass over what would be applied: pinned images, resources,
probes and a locked-down security context on every container, the broker
one replica on ReadWriteOnce storage with a PodDisruptionBudget that lets a
drain through, no shared (RWX) volume anywhere, autoscaling only for the
actors that may run several replicas, network policies that let only the
gateway take traffic from outside and only zhub pods reach the broker."""
import glob
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
K8S = os.path.join(ROOT, "deploy", "k8s")
SCHEMA = os.path.join(ROOT, "tests", "deploy", "k8s-schema")
OVERLAYS = sorted(os.path.basename(d) for d in glob.glob(os.path.join(K8S, "overlays", "*")))
WORKLOADS = ("StatefulSet", "Deployment", "DaemonSet")
# actors that keep state one replica must own: never autoscaled
SINGLE = {"scheduler", "dead-letter", "conversation", "intent"}


def actors():
    return sorted(d for d in os.listdir(os.path.join(ROOT, "actors"))
                  if os.path.exists(os.path.join(ROOT, "actors", d, "main.c")))


def manifest_files():
    return sorted(glob.glob(os.path.join(K8S, "**", "*.yaml"), recursive=True))


def kubectl():
    return shutil.which("kubectl")


def render(overlay):
    out = subprocess.run([kubectl(), "kustomize", os.path.join(K8S, "overlays", overlay)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def objects(overlay):
    """What the overlay applies: rendered by kubectl where present, else
    the raw files of the base and of the overlay's components (the policy
    holds for those; only names and the namespace differ)."""
    if kubectl():
        return [d for d in yaml.safe_load_all(render(overlay)) if d]
    layout = yaml.safe_load(open(os.path.join(K8S, "overlays", overlay, "kustomization.yaml")))
    docs = []
    for part in ["../../base"] + layout.get("components", []):
        folder = os.path.normpath(os.path.join(K8S, "overlays", overlay, part))
        kust = yaml.safe_load(open(os.path.join(folder, "kustomization.yaml")))
        for res in kust.get("resources", []):
            docs += [d for d in yaml.safe_load_all(open(os.path.join(folder, res))) if d]
    return docs


def validate(files):
    node_modules = os.path.join(SCHEMA, "node_modules")
    assert os.path.isdir(node_modules), \
        "run `npm ci` in tests/deploy/k8s-schema (./dev test does it)"
    return subprocess.run(["node", os.path.join(SCHEMA, "validate.js")] + list(files),
                          capture_output=True, text=True, timeout=300)


def test_every_manifest_matches_the_kubernetes_and_keda_schemas(tmp_path):
    files = manifest_files()
    for overlay in OVERLAYS if kubectl() else []:
        path = os.path.join(str(tmp_path), overlay + ".yaml")
        with open(path, "w") as f:
            f.write(render(overlay))
        files.append(path)
    out = validate(files)
    assert out.returncode == 0, out.stdout + out.stderr
    checked = [l for l in out.stdout.splitlines() if l.startswith("ok ")]
    assert len(checked) >= 40, out.stdout
    assert any(" ScaledObject/" in l for l in checked)
    # the schemas do refuse: a replica count as text, a missing container image
    bad = os.path.join(str(tmp_path), "bad.yaml")
    broker = [d for d in yaml.safe_load_all(open(os.path.join(K8S, "base", "broker.yaml"))) if d][0]
    broker["spec"]["replicas"] = "one"
    del broker["spec"]["template"]["spec"]["containers"][0]["image"]
    with open(bad, "w") as f:
        yaml.safe_dump(broker, f)
    out = validate([bad])
    assert out.returncode == 1
    assert "replicas must be integer" in out.stdout


def test_kustomize_renders_every_overlay():
    if not kubectl():
        pytest.skip("kubectl is not installed: the overlays are checked file by file")
    for overlay in OVERLAYS:
        names = [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(render(overlay)) if d]
        assert ("StatefulSet", "zhub-broker") in names
        assert all(d.get("metadata", {}).get("namespace") == "zhub"
                   for d in yaml.safe_load_all(render(overlay))
                   if d and d["kind"] not in ("Namespace",)), overlay


def pod_specs(docs):
    for d in docs:
        if d["kind"] in WORKLOADS:
            yield d, d["spec"]["template"]["spec"]
        elif d["kind"] == "CronJob":
            yield d, d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif d["kind"] == "Job":
            yield d, d["spec"]["template"]["spec"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_policy(overlay):
    docs = objects(overlay)
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    problems = []

    for owner, spec in pod_specs(docs):
        where = "%s/%s" % (owner["kind"], owner["metadata"]["name"])
        pod_sec = spec.get("securityContext", {})
        for c in spec.get("initContainers", []) + spec["containers"]:
            at = "%s container %s" % (where, c["name"])
            image = c.get("image", "")
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if not tag or tag == "latest":
                problems.append("%s: image %r is not pinned to a version" % (at, image))
            res = c.get("resources", {})
            if not res.get("requests", {}).get("cpu") or not res.get("requests", {}).get("memory"):
                problems.append("%s: no cpu and memory requests" % at)
            if not res.get("limits", {}).get("memory"):
                problems.append("%s: no memory limit" % at)
            sec = c.get("securityContext", {})
            if not (sec.get("runAsNonRoot") or pod_sec.get("runAsNonRoot")):
                problems.append("%s: may run as root" % at)
            if sec.get("readOnlyRootFilesystem") is not True:
                problems.append("%s: root filesystem writable" % at)
            if sec.get("allowPrivilegeEscalation") is not False:
                problems.append("%s: privilege escalation allowed" % at)
            if sec.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append("%s: capabilities not all dropped" % at)
            seccomp = sec.get("seccompProfile") or pod_sec.get("seccompProfile") or {}
            if seccomp.get("type") != "RuntimeDefault":
                problems.append("%s: seccomp not RuntimeDefault" % at)
            if owner["kind"] in WORKLOADS:
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    if probe not in c:
                        problems.append("%s: no %s" % (at, probe))

    # no shared volume: LMDB needs a local filesystem and one writer
    claims = [(d["metadata"]["name"], d["spec"]) for d in by_kind.get("PersistentVolumeClaim", [])]
    for d in by_kind.get("StatefulSet", []):
        claims += [(d["metadata"]["name"], t["spec"]) for t in d["spec"].get("volumeClaimTemplates", [])]
    for name, spec in claims:
        if spec.get("accessModes") != ["ReadWriteOnce"]:
            problems.append("%s: storage %s, not ReadWriteOnce" % (name, spec.get("accessModes")))
    assert not problems, "\n".join(problems)

    workloads = {d["metadata"]["name"]: d for d in docs if d["kind"] in WORKLOADS}
    broker = workloads["zhub-broker"]
    assert broker["kind"] == "StatefulSet" and broker["spec"]["replicas"] == 1
    assert broker["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert broker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 30
    services = {d["metadata"]["name"]: d["spec"] for d in by_kind["Service"]}
    assert services[broker["spec"]["serviceName"]]["clusterIP"] == "None"
    assert 7450 in [p["port"] for p in services["zhub-broker"]["ports"]]
    budgets = [d["spec"] for d in by_kind["PodDisruptionBudget"]
               if d["spec"]["selector"]["matchLabels"] == broker["spec"]["selector"]["matchLabels"]]
    assert budgets and budgets[0].get("maxUnavailable", 0) >= 1, "the broker's PDB blocks drains"

    gateway = workloads["zhub-gateway"]["spec"]["template"]["spec"]
    assert gateway["containers"][0]["lifecycle"]["preStop"]
    assert any(d["spec"]["scaleTargetRef"]["name"] == "zhub-gateway"
               for d in by_kind["HorizontalPodAutoscaler"])
    assert all(i["spec"].get("tls") for i in by_kind.get("Ingress", []))

    # one workload per actor; autoscaling exactly for those that may scale
    scaled = {d["spec"]["scaleTargetRef"]["name"]: d for d in
              by_kind.get("ScaledObject", []) + by_kind.get("HorizontalPodAutoscaler", [])}
    for actor in actors():
        name = "zhub-" + actor
        assert name in workloads, "no workload for the actor %s" % actor
        mounts = workloads[name]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        assert {"name": "data", "mountPath": "/var/lib/zhub/" + actor} in mounts
        if actor in SINGLE:
            assert workloads[name]["spec"]["replicas"] == 1
            assert name not in scaled, "%s keeps state one replica owns: never autoscale" % name
        else:
            assert name in scaled, "%s has no autoscaler" % name
            so = scaled[name]
            if so["kind"] == "ScaledObject":
                trigger = so["spec"]["triggers"][0]
                assert trigger["type"] == "prometheus"
                assert 'zhub_broker_group_lag{group="%s"}' % actor in trigger["metadata"]["query"]
                assert so["spec"]["fallback"]["replicas"] >= 1
    assert "zhub-broker" not in scaled

    # the bus: CURVE everywhere; each workload mounts its own key (a Secret
    # per process: its certificate and the broker's public key) and no
    # other process's; the broker its own and the allow-list
    for proc in ["broker", "gateway"] + actors():
        spec = workloads["zhub-" + proc]["spec"]["template"]["spec"]
        c = spec["containers"][0]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        assert env.get("ZHUB_BUS_SECURITY") == "curve", proc
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        mounted = {m["mountPath"]: volumes.get(m["name"], {}) for m in c["volumeMounts"]}

        def source(path, key=None):
            """The Secret (or ConfigMap) volume mounted where path is read,
            checked to carry the file named (key), else None."""
            folder, name = os.path.split(path) if key is None else (path, None)
            vol = mounted.get(folder, {})
            ref = vol.get("secret") or vol.get("configMap")
            if not ref:
                return None
            if name is not None and "items" in ref and \
                    name not in [i["path"] for i in ref["items"]]:
                return None
            return ref.get("secretName") or ref.get("name")

        bus_secrets = sorted(v["secret"]["secretName"] for v in volumes.values()
                             if v.get("secret", {}).get("secretName", "").startswith("zhub-bus-"))
        if proc == "broker":
            assert source(env["ZHUB_BROKER_CERT"]) == "zhub-bus-broker"
            assert source(env["ZHUB_BUS_KEYS"], key="dir") == "zhub-bus-allow"
            assert bus_secrets == ["zhub-bus-allow", "zhub-bus-broker"], bus_secrets
        else:
            own = "zhub-bus-" + proc
            assert source(env["ZHUB_BUS_CERT"]) == own, (proc, env.get("ZHUB_BUS_CERT"))
            assert source(env["ZHUB_BROKER_PUBLIC_KEY"]) == own, proc
            assert bus_secrets == [own], (proc, bus_secrets)
            assert "ZHUB_BROKER_CERT" not in env and "ZHUB_BUS_KEYS" not in env, proc

    # credentials and settings: every key a pod reads exists (or is optional)
    secrets = {k for d in by_kind.get("Secret", []) for k in d.get("stringData", {})}
    settings = {k for d in by_kind["ConfigMap"] if d["metadata"]["name"].startswith("zhub-settings")
                for k in d.get("data", {})}
    for owner, spec in pod_specs(docs):
        for c in spec["containers"]:
            for env in c.get("env", []):
                ref = env.get("valueFrom", {})
                for kind, known in (("secretKeyRef", secrets), ("configMapKeyRef", settings)):
                    if kind in ref and not ref[kind].get("optional"):
                        assert ref[kind]["key"] in known, "%s reads %s %s" % (
                            owner["metadata"]["name"], kind, ref[kind]["key"])
    # the mapping ConfigMap is the shipped mapping file
    mapping = [d for d in by_kind["ConfigMap"] if d["metadata"]["name"].startswith("zhub-mapping")]
    shipped = json.load(open(os.path.join(ROOT, "deploy", "mapping.json")))
    assert json.loads(mapping[0]["data"]["mapping.json"]) == shipped

    # network: default deny; only the gateway open to everyone; the broker
    # only to zhub pods
    policies = by_kind["NetworkPolicy"]
    assert any(not p["spec"].get("ingress") and p["spec"]["podSelector"] ==
               {"matchLabels": {"app.kubernetes.io/part-of": "zhub"}} for p in policies)
    for p in policies:
        for rule in p["spec"].get("ingress", []):
            if not rule.get("from"):
                assert p["spec"]["podSelector"] == {"matchLabels": {
                    "app.kubernetes.io/name": "zhub-gateway"}}, p["metadata"]["name"]
                assert [x["port"] for x in rule["ports"]] == [8080]
    to_broker = [r for p in policies if p["spec"]["podSelector"] == {"matchLabels": {
        "app.kubernetes.io/name": "zhub-broker"}} for r in p["spec"].get("ingress", [])]
    assert to_broker and all(r["from"] == [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/part-of": "zhub"}}}] for r in to_broker)


def test_every_variable_the_manifests_set_is_documented():
    docs_text = open(os.path.join(ROOT, "docs", "configuration.md")).read()
    used = set()
    for path in manifest_files():
        used |= set(re.findall(r"\bname: (ZHUB_[A-Z0-9_]+)", open(path).read()))
    missing = sorted(v for v in used if "`%s`" % v not in docs_text
                     and "`%s`," % v not in docs_text)
    assert len(used) > 20
    assert not missing, missing


def test_the_mapping_file_of_the_base_is_deploy_mapping_json():
    assert open(os.path.join(K8S, "base", "mapping.json")).read() == \
        open(os.path.join(ROOT, "deploy", "mapping.json")).read()
