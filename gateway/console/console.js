// zhub console: polls the admin API of the gateway that served this page.
// The admin token is asked for once and kept in sessionStorage (this tab
// only, gone when it closes); it travels only in the Authorization header,
// never in a URL. Every value shown is set as text, never as HTML: reasons,
// topics and field values come from outside.
"use strict";

const TOKEN_KEY = "zhub-console-token";
const SNAPSHOT_MS = 2000;
const DECISIONS_MS = 10000;

let token = null;
let previous = null; // the last snapshot, for rates
let timers = [];
let pending = null; // {action, id} awaiting confirmation

const $ = (id) => document.getElementById(id);

async function api(method, path) {
  const res = await fetch(path, {
    method,
    headers: { Authorization: "Bearer " + token, Accept: "application/json" },
    cache: "no-store",
  });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (res.status === 401 || res.status === 403) {
    signOut((body && body.message) || "the token was refused");
    throw new Error("refused");
  }
  if (!res.ok) throw new Error((body && body.message) || "HTTP " + res.status);
  return body;
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function fill(tableId, rows, build) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement("tr");
    build(tr, r);
    body.appendChild(tr);
  }
}

function seconds(v) {
  if (v === null || v === undefined) return "–";
  return v < 1 ? Math.round(v * 1000) + " ms" : v.toFixed(2) + " s";
}

function rate(now, before, dtMs) {
  if (before === undefined || dtMs <= 0) return "–";
  return (Math.max(0, now - before) * 1000 / dtMs).toFixed(2);
}

function yesNo(tr, ok, good, bad) {
  cell(tr, ok ? good : bad, ok ? "ok" : "bad");
}

function latency(m) {
  const l = m && m.sync_latency;
  if (!l || !l.count) return "no syncs yet";
  return seconds(l.p50) + " / " + seconds(l.p95) + " / " + seconds(l.p99) + " (" + l.count + ")";
}

function renderProcesses(s) {
  const rows = [s.gateway];
  rows.push({ name: "broker", healthy: s.broker.reachable, ready: s.broker.reachable,
              error: s.broker.reachable ? null : "the broker did not answer STATS" });
  rows.push(...s.processes);
  fill("processes", rows, (tr, p) => {
    tr.dataset.process = p.name;
    cell(tr, p.name);
    yesNo(tr, p.healthy, "up", "down");
    yesNo(tr, p.ready, "ready", "not ready");
    cell(tr, p.metrics ? latency(p.metrics) : "");
    cell(tr, p.error || (p.address ? p.address : ""));
  });
  const peers = [];
  for (const p of s.processes) {
    const list = (p.metrics && p.metrics.peers) || {};
    for (const host of Object.keys(list)) peers.push({ process: p.name, host, ...list[host] });
  }
  fill("peers", peers, (tr, p) => {
    cell(tr, p.process);
    cell(tr, p.host);
    cell(tr, p.breaker_open ? "open (calls held)" : "closed", p.breaker_open ? "bad" : "ok");
    const calls = p.calls || {};
    cell(tr, Object.keys(calls).map((k) => k + " " + calls[k]).join(", "));
    cell(tr, p.errors, p.errors ? "warn num" : "num");
    cell(tr, p.last_error_ms === undefined ? "–" : (p.last_error_status ? "HTTP " + p.last_error_status
      : "no answer") + " at " + new Date(p.last_error_ms).toLocaleTimeString());
    cell(tr, p.budget_max !== undefined ? p.budget_remaining + " of " + p.budget_max : "–");
  });
  $("peers-note").textContent = !s.processes.length ?
    "No process admin listeners configured (ZHUB_CONSOLE_PROCESSES): peers and latencies " +
    "show once the gateway can reach the actors' /metrics." :
    peers.length ? "" : "No calls to external peers recorded yet.";
}

function renderWebhooks(s, dt) {
  const req = (s.gateway.metrics && s.gateway.metrics.requests) || {};
  const before = (previous && previous.gateway.metrics && previous.gateway.metrics.requests) || {};
  const sum = (statuses, ok) => Object.keys(statuses || {})
    .filter((k) => (k[0] === "2") === ok).reduce((a, k) => a + statuses[k], 0);
  fill("webhooks", Object.keys(req).sort(), (tr, src) => {
    tr.dataset.source = src;
    cell(tr, src);
    cell(tr, sum(req[src], true), "num accepted");
    cell(tr, sum(req[src], false), "num");
    cell(tr, previous ? rate(sum(req[src], true), sum(before[src], true), dt) : "–", "num");
  });
}

function renderGroups(s, dt) {
  const stats = s.broker.stats;
  $("broker-note").textContent = stats ? "broker up " + Math.round(stats.broker.uptime_ms / 1000) +
    " s, " + stats.broker.published + " published, log of " + stats.log.size + " messages" :
    "The broker did not answer.";
  const groups = (stats && stats.groups) || {};
  const old = (previous && previous.broker.stats && previous.broker.stats.groups) || {};
  fill("groups", Object.keys(groups).sort(), (tr, name) => {
    const g = groups[name];
    tr.dataset.group = name;
    cell(tr, name);
    cell(tr, (g.members || []).map((m) => m.name).join(", ") || "none", g.members.length ? "" : "warn");
    cell(tr, g.acked, "num");
    cell(tr, old[name] ? rate(g.acked, old[name].acked, dt) : "–", "num");
    cell(tr, g.lag, g.lag ? "warn num" : "num");
    cell(tr, g.in_flight, "num");
    cell(tr, g.waiting_retry, "num");
    cell(tr, g.dead_letters, "num");
  });
}

function renderLetters(s) {
  const l = s.letters;
  $("letters-count").textContent = l.available ? "(" + l.open.length + " open)" : "";
  $("letters-note").textContent = l.available ?
    l.replayed + " replayed letter(s) kept for their history (zhub dlq list shows them)." :
    "Dead letters are not readable here: " + l.reason;
  fill("letters", l.open, (tr, d) => {
    tr.dataset.letter = d.id;
    cell(tr, d.id);
    cell(tr, (d.dead_at || "").replace("T", " ").slice(0, 19));
    cell(tr, d.group);
    cell(tr, d.topic);
    cell(tr, d.reason_code);
    cell(tr, d.reason);
    const td = cell(tr, "");
    const replay = document.createElement("button");
    replay.textContent = "Replay…";
    replay.className = "replay";
    replay.onclick = () => preview(d.id);
    const purge = document.createElement("button");
    purge.textContent = "Purge…";
    purge.className = "purge";
    purge.onclick = () => askPurge(d.id);
    td.append(replay, " ", purge);
  });
}

function renderDecisions(d) {
  $("decisions-note").textContent = d.available ? (d.decisions.length ? "" : "No decisions yet.") :
    "Not readable here: " + d.reason;
  fill("decisions", d.decisions, (tr, e) => {
    const show = (v) => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));
    cell(tr, e.time);
    cell(tr, e.bird_contact_id || e.contact || e.object || "");
    cell(tr, e.field);
    cell(tr, show(e.old));
    cell(tr, show(e.new));
    cell(tr, e.winner || e.decision || "");
  });
}

function renderResults(d) {
  $("results-note").textContent = d.available ? (d.results.length ? "" : "No sync runs yet.") :
    "Not readable here: " + d.reason;
  fill("results", d.results, (tr, r) => {
    cell(tr, r.started);
    cell(tr, r.actor);
    cell(tr, r.kind);
    for (const k of ["processed", "created", "updated", "skipped", "failed", "deferred"])
      cell(tr, r[k], "num");
    cell(tr, r.conflicts_detected + " (" + r.conflicts_resolved + ")", "num");
    cell(tr, r.duration_ms, "num");
    cell(tr, (r.complete === false ? "cut short. " : "") + (r.note || ""));
  });
}

async function refresh() {
  try {
    const s = await api("GET", "/v1/console/snapshot");
    const dt = previous ? s.time_ms - previous.time_ms : 0;
    renderProcesses(s);
    renderWebhooks(s, dt);
    renderGroups(s, dt);
    renderLetters(s);
    previous = s;
    $("updated").textContent = "updated " + new Date(s.time_ms).toLocaleTimeString();
  } catch (e) {
    if (token) $("updated").textContent = "update failed: " + e.message;
  }
}

async function refreshDecisions() {
  try { renderDecisions(await api("GET", "/v1/console/decisions")); } catch (e) { /* shown by refresh */ }
  try { renderResults(await api("GET", "/v1/console/results")); } catch (e) { /* shown by refresh */ }
}

function previewText(p) {
  const lines = [];
  const v = p.preview || {};
  if (v.summary) lines.push(v.summary);
  if (v.call) lines.push("call: " + v.call.method + " " + v.call.path + (v.call.what ? " (" + v.call.what + ")" : ""));
  if (v.target) lines.push("target: " + v.target);
  for (const c of v.changes || []) lines.push("  " + c.field + ": " + (c.from === undefined ? "(none known)" : JSON.stringify(c.from)) + " -> " + JSON.stringify(c.to));
  for (const k of v.kept || []) lines.push("  not written: " + k.field + " (" + k.decision + ")");
  if (v.reason) lines.push("reason: " + v.reason);
  for (const n of v.notes || []) lines.push("note: " + n);
  lines.push("", "message to publish:", JSON.stringify(p.message, null, 2));
  return lines.join("\n");
}

async function preview(id) {
  $("purge").hidden = true;
  $("action-result").textContent = "";
  try {
    const p = await api("GET", "/v1/console/letters/" + id + "/preview");
    pending = { action: "replay", id };
    $("preview-id").textContent = id;
    $("preview-summary").textContent = "would publish " + p.replay_id + " to " + p.message.type +
      (p.collapses ? " (already replayed with this id: the broker's dedup will drop it)" : "");
    $("preview-text").textContent = previewText(p);
    $("preview").hidden = false;
  } catch (e) {
    $("action-result").textContent = "preview failed: " + e.message;
  }
}

function askPurge(id) {
  $("preview").hidden = true;
  $("action-result").textContent = "";
  pending = { action: "purge", id };
  $("purge-id").textContent = id;
  $("purge").hidden = false;
}

async function confirmAction() {
  if (!pending) return;
  const { action, id } = pending;
  pending = null;
  $("preview").hidden = true;
  $("purge").hidden = true;
  try {
    const r = await api("POST", "/v1/console/letters/" + id + "/" + action);
    $("action-result").textContent = action + " of dead letter " + id + " sent (command " + r.command + ")";
  } catch (e) {
    $("action-result").textContent = action + " failed: " + e.message;
  }
  refresh();
}

function cancel() {
  pending = null;
  $("preview").hidden = true;
  $("purge").hidden = true;
}

function start() {
  $("login").hidden = true;
  $("console").hidden = false;
  $("signout").hidden = false;
  refresh();
  refreshDecisions();
  timers = [setInterval(refresh, SNAPSHOT_MS), setInterval(refreshDecisions, DECISIONS_MS)];
}

function signOut(message) {
  token = null;
  previous = null;
  sessionStorage.removeItem(TOKEN_KEY);
  timers.forEach(clearInterval);
  timers = [];
  $("console").hidden = true;
  $("signout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

async function login(ev) {
  ev.preventDefault();
  token = $("token").value.trim();
  $("token").value = "";
  try {
    await api("GET", "/v1/console/snapshot");
  } catch (e) {
    if (token) signOut("could not open the console: " + e.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login-error").textContent = "";
  start();
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("signout").addEventListener("click", () => signOut(""));
  $("preview-confirm").addEventListener("click", confirmAction);
  $("purge-confirm").addEventListener("click", confirmAction);
  $("preview-cancel").addEventListener("click", cancel);
  $("purge-cancel").addEventListener("click", cancel);
  token = sessionStorage.getItem(TOKEN_KEY);
  if (token) start();
});
