// Drives the gateway's console in Debian's headless Chromium with
// playwright-core (no browser download: CHROMIUM is /usr/bin/chromium).
// Run by test_console.py, which starts the processes and does what only
// the bus can do; the two talk in lines: this script prints "STEP <name>"
// when it needs the test to act, and the test answers "GO <name>" on
// stdin once done. Screenshots go to SHOTS_DIR.
//
// Environment: CONSOLE_URL (the admin listener's base URL), ADMIN_TOKEN,
// CHROMIUM, SHOTS_DIR.
"use strict";
const path = require("path");
const readline = require("readline");
const { chromium } = require("playwright-core");

const { CONSOLE_URL, ADMIN_TOKEN, CHROMIUM, SHOTS_DIR } = process.env;
const WAIT_MS = 20000; // an upper bound on each wait, never a timing assertion

const input = readline.createInterface({ input: process.stdin });
const queued = [];
let waiting = null;
input.on("line", (line) => {
  if (waiting) { const w = waiting; waiting = null; w(line); } else queued.push(line);
});
const nextLine = () => queued.length ? Promise.resolve(queued.shift())
  : new Promise((resolve) => { waiting = resolve; });

async function step(name) {
  console.log("STEP " + name);
  const line = await nextLine();
  if (line !== "GO " + name) throw new Error("expected GO " + name + ", got " + line);
}

function check(ok, what) {
  if (!ok) throw new Error("check failed: " + what);
  console.log("ok " + what);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS_DIR, name + ".png"), fullPage: true });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    // root in a container: Chromium's sandbox needs user namespaces
    args: ["--no-sandbox"],
  });
  const page = await browser.newPage();
  const requests = [];
  page.on("request", (r) => requests.push({ url: r.url(), auth: r.headers()["authorization"] }));
  page.on("pageerror", (e) => { console.log("page error: " + e.message); process.exitCode = 1; });
  try {
    await page.goto(CONSOLE_URL + "/console/");

    // Without the token the page refuses: its API answers 401, a wrong
    // token is turned away and nothing is shown.
    check(await page.isVisible("#login") && await page.isHidden("#console"), "login asked first");
    const bare = await page.evaluate(async () => {
      const r = await fetch("/v1/console/snapshot");
      return { status: r.status, body: await r.json() };
    });
    check(bare.status === 401 && bare.body.error === "unauthorized", "API refuses without token");
    await page.fill("#token", "not-the-token");
    await page.click("#login-submit");
    await page.waitForSelector("#login-error:not(:empty)", { timeout: WAIT_MS });
    check(await page.isHidden("#console"), "a wrong token shows nothing");
    check(await page.evaluate(() => sessionStorage.length === 0), "a wrong token is not kept");
    await shot(page, "01-refused-without-token");

    // With the token: the live view.
    await page.fill("#token", ADMIN_TOKEN);
    await page.click("#login-submit");
    await page.waitForSelector("#processes tr[data-process='gateway']", { timeout: WAIT_MS });
    await page.waitForSelector("#processes tr[data-process='dead-letter']", { timeout: WAIT_MS });
    check(!page.url().includes(ADMIN_TOKEN), "the token is not in the URL");
    check(requests.every((r) => !r.url.includes(ADMIN_TOKEN)), "no request URL holds the token");
    check(await page.$("#webhooks tr[data-source='hubspot']") === null, "no webhook counted yet");
    await shot(page, "02-console-open");

    await step("webhook");
    await page.waitForFunction(() => {
      const td = document.querySelector("#webhooks tr[data-source='hubspot'] td.accepted");
      return td && td.textContent === "1";
    }, null, { timeout: WAIT_MS });
    check(true, "the webhook shows in the counters");
    await shot(page, "03-webhook-counted");

    await step("dead-letter");
    const row = await page.waitForSelector("#letters tr[data-letter='1']", { timeout: WAIT_MS });
    const text = await row.textContent();
    check(text.includes("webhook.hubspot.contact.creation") && text.includes("console test reject"),
          "the dead letter appears with its reason (" + text + ")");
    await shot(page, "04-dead-letter");

    // Replay: a dry-run preview first, then the confirmation.
    await page.click("#letters tr[data-letter='1'] button.replay");
    await page.waitForSelector("#preview:not([hidden])", { timeout: WAIT_MS });
    const summary = await page.textContent("#preview-summary");
    check(summary.includes("replay:1:") && summary.includes("webhook.hubspot.contact.creation"),
          "the preview names the replay and its topic");
    const previewText = await page.textContent("#preview-text");
    check(previewText.includes("zhub_replay") && previewText.includes("contact-sync"),
          "the preview shows the message and what contact-sync would do");
    await shot(page, "05-replay-preview");
    await step("previewed");
    await page.click("#preview-confirm");
    await page.waitForSelector("#letters tr[data-letter='1']", { state: "detached", timeout: WAIT_MS });
    check((await page.textContent("#action-result")).includes("replay of dead letter 1 sent"),
          "the replay is confirmed");
    await page.waitForFunction(() => document.querySelector("#letters-note").textContent
      .startsWith("1 replayed"), null, { timeout: WAIT_MS });
    await shot(page, "06-replayed-gone");
    await step("replayed");

    // Every API call carried the token in the header.
    const calls = requests.filter((r) => r.url.includes("/v1/console/"));
    check(calls.length > 0 && calls.slice(2).every((r) => r.auth === "Bearer " + ADMIN_TOKEN),
          "API calls send the token as a Bearer header");

    // Forgetting the token closes the console.
    await page.click("#signout");
    check(await page.isVisible("#login") && await page.isHidden("#console"), "signed out");
    check(await page.evaluate(() => sessionStorage.length === 0), "the token is forgotten");
    await page.reload();
    check(await page.isVisible("#login"), "a reload asks again");
    await shot(page, "07-signed-out");
    console.log("DONE");
  } finally {
    await browser.close();
    input.close();
  }
}

main().catch((e) => { console.log("FAILED " + (e && e.stack || e)); process.exit(1); });
