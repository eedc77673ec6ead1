// console.mjs - drive Debian's chromium through the operator console.
//
// Run by tests/e2e/test_console.py against a running stack; everything it
// needs comes from the environment (CONSOLE_* below), set up by the pytest
// through the API.  It prints one JSON object: what it saw and did, per
// step, and every console error; the pytest asserts on it and on the
// server's state afterwards.  A step that throws is recorded, and the run
// goes on to the next, so one failure does not hide the others.

import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";

const env = (k, d) => process.env[k] ?? d;
const BASE = env("CONSOLE_URL");
const OUT = env("CONSOLE_ARTIFACTS", "/tmp/console-artifacts");
const ACC = JSON.parse(env("CONSOLE_ACCOUNTS", "{}"));   // role -> {email, password}
const FIX = JSON.parse(env("CONSOLE_FIXTURES", "{}"));   // ids the pytest prepared
const STEP_MS = Number(env("CONSOLE_STEP_MS", "10000"));
fs.mkdirSync(OUT, { recursive: true });

const result = { steps: {}, errors: [], screenshots: [], urls: [] };
let gatewayDown = false; /* the reconnect step's restart is under way */
/* Never hang the suite: past the budget, report what there is and stop. */
const BUDGET_MS = Number(env("CONSOLE_BUDGET_MS", "110000"));
setTimeout(() => {
  result.steps.budget = { ok: false, error: "the run took longer than " + BUDGET_MS + " ms" };
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(3);
}, BUDGET_MS).unref();
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const browser = await chromium.launch({
  executablePath: env("CONSOLE_CHROMIUM", "/usr/bin/chromium"),
  headless: true,
  args: isRoot ? ["--no-sandbox"] : [],
});

// newPage - a fresh context and page that report console errors
async function newPage(label, viewport) {
  const ctx = await browser.newContext({ viewport: viewport || { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const url = (m.location() && m.location().url) || "";
    /* Chrome logs every 4xx fetch.  Expected here: the 409 of the SOP
     * conflict this script provokes (the section shows it). */
    if (/Failed to load resource/.test(m.text()) && /409/.test(m.text()) && /\/api\/sops\//.test(url)) return;
    /* ... and, while the reconnect step has the gateway restarted, a
     * refused connection (the page polls until it is back). */
    if (gatewayDown && /ERR_CONNECTION_REFUSED/.test(m.text())) return;
    result.errors.push({ page: label, text: m.text(), url });
  });
  page.on("pageerror", (e) => result.errors.push({ page: label, text: String(e && e.message || e) }));
  page.on("dialog", (d) => d.accept());
  /* Every address the page asks for: the pytest checks no token is in one. */
  page.on("request", (r) => result.urls.push(r.url()));
  return page;
}

async function shot(page, name) {
  const file = path.join(OUT, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  result.screenshots.push(file);
}

async function login(page, role) {
  await page.goto(BASE + "/");
  await page.fill("#login-email", ACC[role].email);
  await page.fill("#login-password", ACC[role].password);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#shell:not([hidden]) #view-title");
}

async function navTitles(page) {
  return page.$$eval("#nav-list a", (as) => as.map((a) => a.textContent));
}

async function open(page, hash, title) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  /* Selectors, not waitForFunction: the console's CSP forbids eval, which it uses. */
  await page.waitForSelector(`#view-title:text-is(${JSON.stringify(title)})`);
}

async function step(name, f) {
  const t0 = Date.now();
  process.stderr.write("step " + name + "\n");
  try {
    const r = await f();
    result.steps[name] = Object.assign({ ok: true, ms: Date.now() - t0 }, r || {});
  } catch (e) {
    result.steps[name] = { ok: false, ms: Date.now() - t0, error: String(e && e.message || e).slice(0, 500) };
  }
}

// apiAs - call the gateway from node (for what a test must trigger outside the page)
async function apiAs(role, method, p, body) {
  const tok = (await (await fetch(BASE + "/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(ACC[role]) })).json()).token;
  const r = await fetch(BASE + p, { method, headers: { Authorization: "Bearer " + tok, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, json: await r.json().catch(() => null) };
}

const SECTIONS = [["conversations", "Conversations"], ["tickets", "Tickets"], ["actions", "Actions"], ["sops", "SOPs"],
  ["proposals", "Proposals"], ["traces", "Traces"], ["dashboard", "Dashboard"], ["settings", "Settings"], ["users", "Users"]];

/* ---- roles */
await step("support_login", async () => {
  const page = await newPage("support");
  await login(page, "support");
  const nav = await navTitles(page);
  await shot(page, "support-home");
  await page.context().close();
  return { nav };
});

/* An operator (staff, no admin sections) and a customer (the kiosk page). */
await step("other_roles", async () => {
  const navs = {};
  for (const role of ["operator", "customer"]) {
    const page = await newPage(role);
    await login(page, role);
    navs[role] = await navTitles(page);
    await shot(page, role + "-home");
    await page.context().close();
  }
  return navs;
});

const admin = await newPage("admin");
await step("admin_login", async () => {
  await login(admin, "admin");
  return { nav: await navTitles(admin) };
});

/* ---- every section renders */
await step("sections", async () => {
  const seen = {};
  for (const [id, title] of SECTIONS) {
    await open(admin, "#/" + id, title);
    await admin.waitForTimeout(400); /* let its first load land */
    seen[id] = await admin.$eval("#view .view-body", (el) => el.textContent.length);
    await shot(admin, "section-" + id);
  }
  const conv = await admin.$("#conversations-unavailable");
  return { seen, conversations_unavailable: !!conv };
});

/* ---- live feed state */
await step("live", async () => {
  await admin.waitForSelector('#live-state:text-is("live")');
  return { state: await admin.$eval("#live-state", (e) => e.textContent) };
});

/* ---- an SMS conversation: a signed inbound text appears live, staff take
 * it over by replying, and release it.  The text goes to the webhook of a
 * gateway that has the signing secret (FIX.sms); the page is on the usual one. */

// inbound - post a customer's text as OpenPhone would (Standard Webhooks signature)
async function inbound(phone, text) {
  const S = FIX.sms;
  const now = new Date().toISOString();
  const raw = JSON.stringify({ id: "EV" + crypto.randomUUID().replace(/-/g, ""), object: "event", apiVersion: "v3",
    createdAt: now, type: "message.received", data: { object: { id: "AC" + crypto.randomUUID().replace(/-/g, ""),
      object: "message", from: phone, to: [S.venue], direction: "incoming", text, status: "received", createdAt: now } } });
  const id = "msg_" + crypto.randomUUID().replace(/-/g, ""), ts = String(Math.floor(Date.now() / 1000));
  const sig = crypto.createHmac("sha256", Buffer.from(S.key_b64, "base64")).update(`${id}.${ts}.${raw}`).digest("base64");
  const r = await fetch(S.webhook_url, { method: "POST", body: raw, headers: { "Content-Type": "application/json",
    "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": "v1," + sig } });
  if (r.status !== 200) throw new Error("webhook answered " + r.status + " " + await r.text());
}

await step("conversation_live", async () => {
  if (!FIX.sms) return { skipped: true };
  const S = FIX.sms;
  await open(admin, "#/conversations", "Conversations");
  await admin.waitForSelector("#conversation-list table, #conversation-list p");
  const t0 = Date.now();
  await inbound(S.phone, S.inbound);
  await inbound(S.phone2, S.inbound); /* for the draft step below */
  await inbound(S.phone3, S.inbound); /* for the discard step below */
  /* No reload: the live feed announces the conversation and the list reloads. */
  const row = `#conversation-list tr[data-phone="${S.phone}"]`;
  await admin.waitForSelector(row);
  const appeared_ms = Date.now() - t0;
  /* Its unread count (the customer's text), once the list has the message too. */
  await admin.waitForSelector(row + ' td[data-label="Unread"] .badge');
  const unread = await admin.$eval(row + ' td[data-label="Unread"]', (e) => e.textContent);
  const status = await admin.$eval(row, (e) => e.dataset.status);
  await shot(admin, "conversation-live");
  /* The list's order: [status, unread] per row, top to bottom. */
  const order = await admin.$$eval("#conversation-list tbody tr", (trs) => trs.map((tr) =>
    [tr.dataset.status, Number((tr.querySelector('td[data-label="Unread"]') || {}).textContent || 0)]));
  return { appeared_ms, unread, status, order, id: Number(await admin.$eval(row, (e) => e.dataset.id)) };
});

await step("conversation_takeover", async () => {
  if (!FIX.sms) return { skipped: true };
  const S = FIX.sms;
  await admin.click(`#conversation-list tr[data-phone="${S.phone}"]`);
  await admin.waitForSelector(`#conversation-detail li.msg-in:has-text(${JSON.stringify(S.inbound)})`);
  const before = await admin.$eval("#conversation-detail", (e) => e.dataset.status);
  await admin.fill("#reply-text", S.reply);
  await admin.click("#reply-send");
  await admin.waitForSelector("#conversation-detail[data-status=human] #conversation-status:text-is('human')");
  /* The reply is shown as the outbox has it: queued, then sent once OpenPhone took it. */
  const mine = `#conversation-detail li.by-staff:has-text(${JSON.stringify(S.reply)})`;
  await admin.waitForSelector(mine);
  await admin.waitForSelector(`${mine}[data-delivery=sent], ${mine}[data-delivery=delivered]`, { timeout: 20000 });
  const meta = await admin.$eval(mine + " .msg-meta", (e) => e.textContent);
  /* While it is a person's, what the customer sends is shown and left to staff. */
  await inbound(S.phone, S.inbound2);
  await admin.waitForSelector(`#conversation-detail li.msg-in:has-text(${JSON.stringify(S.inbound2)})`);
  await shot(admin, "conversation-human");
  await admin.click("#release");
  await admin.waitForSelector("#conversation-detail[data-status=bot] #conversation-status:text-is('bot')");
  const releaseHidden = await admin.$eval("#release", (e) => e.hidden);
  /* The list, reloaded after the release: the bot's again, nothing unread (it is open). */
  const row = `#conversation-list tr[data-phone="${S.phone}"][data-status=bot]`;
  await admin.waitForSelector(row);
  const rowUnread = await admin.$eval(row + ' td[data-label="Unread"]', (e) => e.textContent);
  return { before, meta, releaseHidden, rowUnread };
});

/* ---- approval mode (set by the pytest for the whole run, so the bot's
 * answers to these texts are drafts): the bot's answer waits as a draft; staff edit it and
 * send their text (the pytest checks OpenPhone got the edited text only). */
await step("conversation_draft", async () => {
  if (!FIX.sms) return { skipped: true };
  const S = FIX.sms;
  /* phone2's text was sent with the first one, so its draft is likely there. */
  await open(admin, "#/conversations", "Conversations");
  const row = `#conversation-list tr[data-phone="${S.phone2}"]`;
  await admin.waitForSelector(row);
  await admin.click(row);
  const draft = "#conversation-detail li[data-delivery=draft][data-author=bot]";
  await admin.waitForSelector(draft, { timeout: 20000 });
  const draftMeta = await admin.$eval(draft + " .msg-meta", (e) => e.textContent);
  const draftText = await admin.$eval(draft + " .msg-text", (e) => e.textContent);
  await admin.click(draft + " button.draft-edit");
  await admin.fill("#reply-text", S.edited);
  await admin.click("#reply-send");
  const sent = `#conversation-detail li:has-text(${JSON.stringify(S.edited)})`;
  await admin.waitForSelector(`${sent}[data-delivery=sent], ${sent}[data-delivery=delivered]`, { timeout: 20000 });
  await shot(admin, "conversation-draft-sent");
  return { draftMeta, draftText, drafts_left: (await admin.$$(draft)).length };
});

/* ---- approval mode: a draft discarded is never sent (the pytest checks
 * OpenPhone got nothing for the number) */
await step("conversation_discard", async () => {
  if (!FIX.sms) return { skipped: true };
  const S = FIX.sms;
  await open(admin, "#/conversations", "Conversations");
  const row = `#conversation-list tr[data-phone="${S.phone3}"]`;
  await admin.waitForSelector(row);
  await admin.click(row);
  const draft = "#conversation-detail li[data-delivery=draft][data-author=bot]";
  await admin.waitForSelector(draft, { timeout: 20000 });
  const id = await admin.$eval(draft, (e) => e.dataset.id);
  await admin.click(draft + " button.draft-discard");
  const gone = `#conversation-detail li[data-delivery=discarded][data-id="${id}"]`;
  await admin.waitForSelector(gone);
  const meta = await admin.$eval(gone + " .msg-meta", (e) => e.textContent);
  await shot(admin, "conversation-draft-discarded");
  return { meta, drafts_left: (await admin.$$(draft)).length, buttons_left: (await admin.$$(gone + " button")).length };
});

/* ---- closing a conversation: no reply box, and the number's next text
 * starts a new one (the bot's again) */
await step("conversation_close", async () => {
  if (!FIX.sms) return { skipped: true };
  const S = FIX.sms;
  await open(admin, "#/conversations", "Conversations");
  const row = `#conversation-list tr[data-phone="${S.phone}"][data-status=bot]`;
  await admin.waitForSelector(row);
  const closedId = await admin.$eval(row, (e) => e.dataset.id);
  await admin.click(row);
  await admin.waitForSelector(`#conversation-detail[data-id="${closedId}"][data-status=bot]`);
  await admin.click("#close-conversation");
  await admin.waitForSelector(`#conversation-detail[data-id="${closedId}"][data-status=closed] #conversation-status:text-is('closed')`);
  const formHidden = await admin.$eval("#reply-form", (e) => e.hidden);
  const closeHidden = await admin.$eval("#close-conversation", (e) => e.hidden);
  await shot(admin, "conversation-closed");
  await inbound(S.phone, S.inbound3);
  const fresh = `#conversation-list tr[data-phone="${S.phone}"][data-status=bot]:not([data-id="${closedId}"])`;
  await admin.waitForSelector(fresh);
  const closedRow = await admin.$eval(`#conversation-list tr[data-id="${closedId}"]`, (e) => e.dataset.status);
  return { closedId: Number(closedId), newId: Number(await admin.$eval(fresh, (e) => e.dataset.id)), formHidden, closeHidden, closedRow };
});

/* ---- resolve a ticket */
await step("ticket_resolve", async () => {
  await open(admin, "#/tickets/" + FIX.ticket_id, "Tickets");
  /* The panel says what the server has (data-*), once it re-rendered. */
  await admin.waitForSelector("#ticket-detail[data-status=open] #ticket-title");
  await admin.click("#ticket-assign-me");
  await admin.waitForSelector(`#ticket-detail[data-assignee="${FIX.admin_id}"]`);
  await admin.fill("#ticket-detail textarea[name=note]", FIX.ticket_note);
  await admin.click("#ticket-detail form button[type=submit]");
  await admin.waitForSelector(`#ticket-detail li:has-text(${JSON.stringify(FIX.ticket_note)})`);
  await admin.click("#ticket-resolve");
  await admin.waitForSelector("#ticket-detail[data-status=resolved]");
  await shot(admin, "ticket-resolved");
  return { title: await admin.$eval("#ticket-title", (e) => e.textContent) };
});

/* ---- a ticket made elsewhere appears without a reload (the live feed) */
await step("ticket_live", async () => {
  if (!FIX.psql) return { skipped: true };
  await open(admin, "#/tickets", "Tickets");
  await admin.selectOption("#ticket-filter", "open");
  const title = "Live ticket " + Date.now();
  execFileSync(FIX.psql[0], FIX.psql.slice(1).concat(["-c",
    `INSERT INTO tickets (priority, summary, title, location) VALUES ('normal', 'made by the browser test', '${title}', 'harbourview')`]));
  const t0 = Date.now();
  await admin.waitForSelector(`td:text-is(${JSON.stringify(title)})`);
  return { appeared_ms: Date.now() - t0 };
});

/* ---- approve one action, cancel another */
await step("actions", async () => {
  await open(admin, "#/actions", "Actions");
  await admin.selectOption("#action-filter", "pending_approval");
  await admin.click(`button.approve[data-id="${FIX.approve_action}"]`);
  await admin.waitForSelector(`button.approve[data-id="${FIX.approve_action}"]`, { state: "detached" });
  await admin.click(`button.cancel[data-id="${FIX.cancel_action}"]`);
  await admin.waitForSelector(`button.cancel[data-id="${FIX.cancel_action}"]`, { state: "detached" });
  await shot(admin, "actions-decided");
  /* The approved unlock ran and failed (no UniFi Access here): its error
   * is shown in its row, as the executor recorded it. */
  await admin.selectOption("#action-filter", "failed");
  const cell = `xpath=//tr[td[@data-label="#"][normalize-space(.)="${FIX.approve_action}"]]/td[@data-label="Last error"]`;
  await admin.waitForSelector(cell + "[normalize-space(.) != '']", { timeout: 20000 });
  const lastError = await admin.$eval(cell, (e) => e.textContent);
  await shot(admin, "actions-failed");
  return { lastError };
});

/* ---- edit an SOP, diff the versions, roll back */
await step("sop_edit_rollback", async () => {
  const slug = FIX.sop_slug, v = FIX.sop_version;
  await open(admin, "#/sops/" + encodeURIComponent(slug), "SOPs");
  await admin.waitForSelector("#sop-title");
  const text = await admin.inputValue("#sop-content");
  await admin.fill("#sop-content", text + "\n" + FIX.sop_line + "\n");
  await admin.click("#sop-save");
  await admin.waitForSelector(`#sop-title:text-is(${JSON.stringify(`${slug} (v${v + 1})`)})`);
  await admin.selectOption("#diff-a", String(v));
  await admin.selectOption("#diff-b", String(v + 1));
  await admin.click("#diff-show");
  await admin.waitForSelector("#sop-diff td.dadd");
  const added = await admin.$$eval("#sop-diff td.dadd", (tds) => tds.map((t) => t.textContent));
  await shot(admin, "sop-diff");
  await admin.click(`button.rollback[data-version="${v}"]`);
  await admin.waitForSelector(`#sop-title:text-is(${JSON.stringify(`${slug} (v${v + 2})`)})`);
  const after = await admin.inputValue("#sop-content");
  /* Any two versions, not only neighbours: v and v+2 (the rollback) read
   * the same, so their diff has no line added or removed. */
  await admin.selectOption("#diff-a", String(v));
  await admin.selectOption("#diff-b", String(v + 2));
  await admin.click("#diff-show");
  await admin.waitForSelector("#sop-diff table");
  const apart = await admin.$$eval("#sop-diff td.dadd, #sop-diff td.ddel", (tds) => tds.length);
  return { added, rolled_back_has_line: after.includes(FIX.sop_line), apart_changes: apart };
});

/* ---- an SOP that moved on while it was being edited: 409, theirs against ours, save again */
await step("sop_conflict", async () => {
  const slug = FIX.sop2_slug;
  await open(admin, "#/sops/" + encodeURIComponent(slug), "SOPs");
  await admin.waitForSelector("#sop-title");
  const mine = (await admin.inputValue("#sop-content")) + "\nMine: " + FIX.sop_line + "\n";
  const cur = await apiAs("admin", "GET", "/api/sops/" + slug);
  const put = await apiAs("admin", "PUT", "/api/sops/" + slug,
    { content: cur.json.content + "\nTheirs: someone else's change.\n", base_sha256: cur.json.sha256 });
  await admin.fill("#sop-content", mine);
  await admin.click("#sop-save");
  await admin.waitForSelector("#view p.error[role=alert]:has-text('was saved meanwhile')");
  const shown = await admin.$$eval("#view pre.diff span.ddel", (s) => s.map((x) => x.textContent));
  await admin.click("#sop-save");
  await admin.waitForSelector(`#sop-title:text-is(${JSON.stringify(`${slug} (v${cur.json.version + 2})`)})`);
  return { their_put: put.status, theirs_shown: shown.some((t) => t.includes("Theirs:")) };
});

/* ---- approve a proposal */
await step("proposal_approve", async () => {
  await open(admin, "#/proposals", "Proposals");
  await admin.click(`button.open-proposal[data-id="${FIX.proposal_id}"]`);
  await admin.waitForSelector("#proposal-title");
  const sbs = await admin.$$eval("table.sbs td.dadd", (tds) => tds.map((t) => t.textContent));
  await admin.click("#proposal-approve");
  await admin.waitForSelector("#proposal-detail:not([data-status=pending]) #proposal-title");
  await shot(admin, "proposal-approved");
  return { diff_added: sbs, status: await admin.$eval("#proposal-title + p", (e) => e.textContent) };
});

/* ---- reject one, and ask for an analysis now */
await step("proposal_reject_analyse", async () => {
  await open(admin, "#/proposals", "Proposals");
  await admin.click(`button.open-proposal[data-id="${FIX.reject_id}"]`);
  await admin.waitForSelector("#proposal-title");
  await admin.click("#proposal-reject");
  await admin.waitForSelector("#proposal-detail:not([data-status=pending]) #proposal-title");
  const status = await admin.$eval("#proposal-detail", (e) => e.getAttribute("data-status"));
  await admin.click("#analyse");
  await admin.waitForSelector("#announce:has-text('proposals made or refreshed')", { state: "attached" });
  await shot(admin, "proposals-analysed");
  return { status, analysed: await admin.$eval("#announce", (e) => e.textContent) };
});

/* ---- a trace: by id, and live */
await step("trace_open", async () => {
  await open(admin, "#/traces/" + FIX.trace_id, "Traces");
  await admin.waitForSelector("#waterfall .wf-row");
  const rows = await admin.$$eval("#waterfall .wf-row .wf-label", (ls) => ls.map((l) => l.textContent));
  const ms = await admin.$$eval("#waterfall .wf-row .wf-ms", (ls) => ls.map((l) => l.textContent));
  await shot(admin, "trace-waterfall");
  return { rows, ms };
});

await step("trace_live", async () => {
  await open(admin, "#/traces", "Traces");
  const r = await apiAs("operator", "POST", "/api/query", { message: "how do I book a bay for saturday " + Date.now(), channel: "operator" });
  const id = r.json && r.json.trace_id;
  await admin.waitForSelector(`#trace-tail li[data-id="${id}"]`);
  await shot(admin, "trace-live");
  return { trace_id: id };
});

/* ---- a setting */
await step("setting", async () => {
  await open(admin, "#/settings", "Settings");
  await admin.waitForSelector("#set-llm_rollout_percent");
  await admin.fill("#set-llm_rollout_percent", String(FIX.llm_rollout_percent));
  await admin.fill("#set-llm_voice", FIX.llm_voice);
  await admin.click("#settings-save");
  await admin.waitForSelector("#settings-saved");
  return { saved: await admin.$eval("#settings-saved", (e) => e.textContent) };
});

/* ---- users: add one, change its role */
await step("users", async () => {
  await open(admin, "#/users", "Users");
  await admin.fill("#user-create input[name=email]", FIX.new_user);
  await admin.fill("#user-create input[name=password]", "pw-" + FIX.sop_line.replace(/\W/g, ""));
  await admin.selectOption("#user-create select[name=role]", "support");
  await admin.click("#user-create button[type=submit]");
  const sel = `select[aria-label=${JSON.stringify("role of " + FIX.new_user)}]`;
  await admin.waitForSelector(sel);
  await admin.selectOption(sel, "operator");
  await admin.waitForSelector(`${sel} option[value=operator]:checked`, { state: "attached" });
  /* Saved: the list is reloaded from the server with the new role. */
  await admin.waitForSelector("#announce:has-text('changed')", { state: "attached" });
  /* Disabled (the box unticked, saved), then deleted (confirmed). */
  const active = `input[aria-label=${JSON.stringify("active: " + FIX.new_user)}]`;
  await admin.uncheck(active);
  await admin.waitForSelector(`${active}:not(:checked)`, { state: "attached" });
  await admin.waitForSelector("#announce:has-text('changed')", { state: "attached" });
  await admin.click(`button[aria-label=${JSON.stringify("delete " + FIX.new_user)}]`);
  await admin.waitForSelector("#announce:has-text('User deleted')", { state: "attached" });
  await admin.waitForSelector(sel, { state: "detached" });
  return { deleted: true };
});

/* ---- the PWA: a service worker controls the page and caches the shell, never the API */
await step("pwa", async () => {
  await admin.reload();
  await admin.waitForSelector("#view-title");
  return await admin.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    const keys = [];
    for (const name of await caches.keys())
      for (const req of await (await caches.open(name)).keys()) keys.push(new URL(req.url).pathname);
    return { active: !!reg.active, cached: keys.sort() };
  });
});

/* ---- the dashboard after all that: each chart, its caption and bars */
await step("dashboard", async () => {
  await open(admin, "#/dashboard", "Dashboard");
  await admin.waitForSelector("#dashboard .tiles");
  await admin.waitForSelector("#dashboard figure");
  await shot(admin, "dashboard");
  const charts = await admin.$$eval("#dashboard figure", (fs) => fs.map((f) => ({
    caption: (f.querySelector("figcaption") || {}).textContent,
    label: (f.querySelector("svg") || { getAttribute: () => null }).getAttribute("aria-label"),
    bars: f.querySelectorAll("rect.chart-bar").length,
    lines: f.querySelectorAll("path.chart-line").length,
    dots: f.querySelectorAll("circle.chart-dot").length,
  })));
  return { charts };
});

/* ---- keyboard and screen-reader basics, section by section: every control
 * has a label, the heading takes the focus, the nav says where we are, and
 * a list row opens with Enter */
await step("a11y", async () => {
  const sections = {};
  for (const [id, title] of SECTIONS) {
    await open(admin, "#/" + id, title);
    await admin.waitForTimeout(300);
    sections[id] = await admin.evaluate(() => {
      const unlabelled = [];
      for (const el of document.querySelectorAll("#shell input, #shell select, #shell textarea")) {
        if (el.type === "hidden" || el.offsetParent === null) continue;
        const named = (el.labels && el.labels.length > 0) || el.getAttribute("aria-label") ||
          el.getAttribute("aria-labelledby");
        if (!named) unlabelled.push(el.tagName.toLowerCase() + (el.name ? "[name=" + el.name + "]" : "") + (el.id ? "#" + el.id : ""));
      }
      return {
        unlabelled,
        current: [...document.querySelectorAll("#nav-list [aria-current=page]")].map((a) => a.textContent),
        focused: document.activeElement ? document.activeElement.id : null,
      };
    });
  }
  await open(admin, "#/tickets", "Tickets");
  await admin.waitForSelector("#view tr.clickable");
  await admin.focus("#view tr.clickable");
  await admin.keyboard.press("Enter");
  await admin.waitForSelector("#ticket-detail #ticket-title");
  const alerts = await admin.$$eval("[role=alert]", (a) => a.length);
  return { sections, row_opened: true, alerts };
});
/* ---- the live feed comes back by itself: the pytest restarts the gateway
 * when it reads "restart-gateway" on stderr; the page goes to polling, then
 * live again, and a ticket made after that appears without a reload */
async function liveState(page) { return page.$eval("#live-state", (e) => e.textContent); }
async function waitState(page, ok, ms) {
  const t0 = Date.now();
  for (;;) {
    const s = await liveState(page);
    if (ok(s)) return s;
    if (Date.now() - t0 > ms) throw new Error("live state stayed " + s);
    await page.waitForTimeout(100);
  }
}
await step("reconnect", async () => {
  if (!FIX.psql) return { skipped: true };
  await open(admin, "#/tickets", "Tickets");
  await admin.selectOption("#ticket-filter", "open");
  await waitState(admin, (s) => s === "live", 10000);
  gatewayDown = true;
  process.stderr.write("restart-gateway\n");
  const lost = await waitState(admin, (s) => s !== "live", 20000);
  await waitState(admin, (s) => s === "live", 40000);
  gatewayDown = false;
  const title = "After the restart " + Date.now();
  execFileSync(FIX.psql[0], FIX.psql.slice(1).concat(["-c",
    `INSERT INTO tickets (priority, summary, title, location) VALUES ('normal', 'made after the gateway restarted', '${title}', 'harbourview')`]));
  const t0 = Date.now();
  await admin.waitForSelector(`td:text-is(${JSON.stringify(title)})`, { timeout: 20000 });
  return { lost, appeared_ms: Date.now() - t0 };
});
await admin.context().close();

/* ---- the kiosk page */
await step("kiosk", async () => {
  const page = await newPage("kiosk", { width: 390, height: 844 });
  await login(page, "kiosk");
  const nav = await navTitles(page);
  await page.waitForSelector("#emergency");
  await page.fill("#kiosk-question", "where do I park");
  await page.click(".kiosk-form button[type=submit]");
  await page.waitForSelector("#kiosk-answer p");
  const answer = await page.$eval("#kiosk-answer p", (e) => e.textContent);
  await shot(page, "kiosk");
  /* The emergency button: what the server says was requested, nothing more. */
  await page.click("#emergency");
  await page.waitForSelector("#kiosk-answer li");
  const emergency = await page.$$eval("#kiosk-answer li", (ls) => ls.map((l) => l.textContent));
  await shot(page, "kiosk-emergency");
  await page.context().close();
  return { nav, answer, emergency };
});

/* ---- a phone: no horizontal scroll on any page */
await step("phone", async () => {
  const page = await newPage("phone", { width: 390, height: 844 });
  await login(page, "admin");
  const overflow = {};
  for (const [id, title] of SECTIONS) {
    await open(page, "#/" + id, title);
    await page.waitForTimeout(300);
    overflow[id] = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await shot(page, "phone-" + id);
  }
  await page.click("#menu");
  const menuOpen = await page.isVisible("#nav-list");
  await page.context().close();
  return { overflow, menuOpen };
});

await browser.close();
fs.writeFileSync(path.join(OUT, "result.json"), JSON.stringify(result, null, 1));
process.stdout.write(JSON.stringify(result) + "\n");
