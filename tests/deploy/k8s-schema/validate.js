// Validates Kubernetes manifests offline against the Kubernetes API's
// schemas (kubernetes-models) and KEDA's (@kubernetes-models/keda): types,
// required fields, formats and enums of every object, by apiVersion and kind.
//   node validate.js FILE...      (multi-document YAML)
// Prints "ok <file> <kind>/<name>" per object, "FAIL ..." with the schema's
// errors otherwise; exits 1 when anything failed or was not recognised.
// Kustomize's own files (kustomize.config.k8s.io) are not cluster objects
// and are skipped by name.
"use strict";
const fs = require("fs");
const yaml = require("js-yaml");

function modelFor(apiVersion, kind) {
  if (!apiVersion || !kind) return null;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  const path = group === "keda.sh"
    ? `@kubernetes-models/keda/keda.sh/${version}/${kind}`
    : group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
  try {
    return require(path)[kind];
  } catch (e) {
    return null;
  }
}

let failed = 0;
for (const file of process.argv.slice(2)) {
  const docs = yaml.loadAll(fs.readFileSync(file, "utf8")).filter((d) => d != null);
  if (docs.length === 0) {
    console.log(`FAIL ${file}: no object`);
    failed++;
  }
  for (const doc of docs) {
    const what = `${doc.kind}/${(doc.metadata || {}).name}`;
    if (String(doc.apiVersion || "").startsWith("kustomize.config.k8s.io/")) {
      console.log(`skip ${file} ${doc.kind} (kustomize)`);
      continue;
    }
    const Model = modelFor(doc.apiVersion, doc.kind);
    if (!Model) {
      console.log(`FAIL ${file} ${what}: no schema for ${doc.apiVersion} ${doc.kind}`);
      failed++;
      continue;
    }
    try {
      new Model(doc).validate();
      console.log(`ok ${file} ${what}`);
    } catch (e) {
      console.log(`FAIL ${file} ${what}: ${e.message}`);
      failed++;
    }
  }
}
process.exit(failed ? 1 : 0);
