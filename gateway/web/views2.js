// views2.js - Conversations, Traces, Dashboard, Settings, Users, Kiosk.

import { h, add, clear, table, field, select, errorBox, when, announce } from "./dom.js";
import { bars, series } from "./chart.js";
import { messagesView } from "./views.js";

async function busy(btn, box, f) {
  btn.disabled = true;
  if (box) box.textContent = "";
  try { return await f(); } catch (e) { if (box) box.textContent = e.message; return undefined; } finally { btn.disabled = false; }
}

/* ========================================================== Conversations */

/* GET /api/conversations rows: {id, channel, phone, customer: {id, name} |
 * null, location, bay, status: bot|human|closed, status_reason, created_at,
 * last_message_at, unread: count of the customer's messages since staff
 * last opened it}; GET /api/conversations/{id} adds messages (and marks it
 * read). */
function convWho(c) {
  const name = c.customer && c.customer.name;
  if (name && c.phone) return name + " (" + c.phone + ")";
  return name || c.phone || (c.channel ? c.channel + " chat" : "");
}
const CONV_STATUS = { human: "human", bot: "bot", closed: "closed" };
function statusBadge(c, id) {
  return h("span", { class: "badge c-" + c.status, id, "data-status": c.status, text: CONV_STATUS[c.status] || c.status,
    title: c.status_reason || null });
}

export function conversations(root, ctx) {
  const err = errorBox();
  const filter = select("status", [["", "All"], "human", "bot", "closed"], "");
  filter.id = "conversation-filter";
  const list = h("div", { id: "conversation-list", "aria-live": "polite" });
  const detail = h("section", { class: "detail", id: "conversation-detail", "aria-label": "conversation" });
  add(root, h("div", { class: "toolbar" }, field("Status", filter)), err, list, detail);
  let openId = ctx.param || null, unavailable = false;

  function notAvailable() {
    unavailable = true;
    clear(list).appendChild(h("p", { class: "notice", id: "conversations-unavailable", text: "Conversations are not available on this gateway yet." }));
  }

  async function load() {
    if (unavailable) return;
    try {
      /* The open one first: reading it marks it read, so the list after it
       * shows no unread count for what is on screen. */
      if (openId) await open(openId, false);
      const q = filter.value ? "?status=" + encodeURIComponent(filter.value) : "";
      const rows = await ctx.api("GET", "/api/conversations" + q);
      /* The server's order (a person's first, newest first); unread ones
       * before the rest within each. */
      rows.sort((a, b) => (b.status === "human") - (a.status === "human") || (b.unread > 0) - (a.unread > 0));
      clear(list).appendChild(rows.length ? table("Conversations", [
        ["#", (r) => String(r.id)],
        ["Customer", (r) => convWho(r)],
        ["Channel", (r) => r.channel || ""],
        ["Status", (r) => statusBadge(r)],
        ["Unread", (r) => r.unread > 0 ? h("span", { class: "badge unread", text: String(r.unread) }) : ""],
        ["Last message", (r) => when(r.last_message_at)],
      ], rows, (r) => { openId = r.id; ctx.go("#/conversations/" + r.id); }) : h("p", { text: "No conversations." }));
      for (const [i, tr] of Array.from(list.querySelectorAll("tbody tr")).entries()) {
        tr.dataset.id = rows[i].id;
        tr.dataset.status = rows[i].status;
        if (rows[i].phone) tr.dataset.phone = rows[i].phone;
      }
      err.textContent = "";
    } catch (e) {
      if (e.status === 404) notAvailable(); else err.textContent = e.message;
    }
  }

  let shown = null; /* the conversation on screen: {id, msgs, title, badge, reason, release, form} */
  function conversationHead(c) {
    return `Conversation #${c.id}` + (convWho(c) ? " with " + convWho(c) : "");
  }
  function setState(c) {
    detail.dataset.id = c.id;
    detail.dataset.status = c.status;
    const badge = statusBadge(c, "conversation-status");
    shown.badge.replaceWith(badge);
    shown.badge = badge;
    shown.title.textContent = conversationHead(c);
    shown.reason.textContent = c.status === "human" ? "A person has this conversation: the bot answers nothing until it is released." +
      (c.status_reason ? " (" + c.status_reason + ")" : "") : c.status === "bot" ? "The bot answers this conversation." +
      (c.status_reason ? " (" + c.status_reason + ")" : "") : "Closed.";
    shown.release.hidden = c.status !== "human";
    shown.close.hidden = c.status === "closed";
    /* Replies go out by SMS only; a closed conversation takes none (409). */
    shown.form.hidden = c.channel !== "sms" || c.status === "closed";
  }
  /* The live feed announces a delivery moving on (queued, sending, sent)
   * as a message event, but it is lossy: while one of ours is on its way,
   * the open conversation is also read again every 2 s. */
  let pending = null;
  function watchDelivery(id, c) {
    clearTimeout(pending);
    pending = null;
    if ((c.messages || []).some((m) => m.delivery === "queued" || m.delivery === "sending"))
      pending = setTimeout(() => { if (shown && String(shown.id) === String(id)) open(id, false); }, 2000);
  }
  async function open(id, focus = true) {
    let c;
    try { c = await ctx.api("GET", "/api/conversations/" + id); } catch (e) {
      if (e.status === 404 && unavailable) return;
      shown = null;
      add(clear(detail), h("p", { class: "error", text: e.message })); return;
    }
    if (shown && String(shown.id) === String(id)) {
      /* A refresh: new messages in, the reply being typed left alone. */
      const msgs = messagesView(c.messages || [], shown.onDraft);
      shown.msgs.replaceWith(msgs);
      shown.msgs = msgs;
      setState(c);
      watchDelivery(id, c);
      return;
    }
    const derr = errorBox();
    const text = h("textarea", { id: "reply-text", name: "text", rows: "3", maxlength: "1600", required: true });
    const send = h("button", { type: "submit", id: "reply-send", text: "Send reply" });
    const release = h("button", { type: "button", class: "secondary", id: "release", text: "Release to the bot" });
    const close = h("button", { type: "button", class: "secondary", id: "close-conversation", text: "Close conversation" });
    const form = h("form", { class: "card", id: "reply-form", "aria-label": "reply" }, field("Reply by SMS (takes the conversation over)", text), h("div", { class: "row" }, send), derr);
    /* Editing a draft: its text goes to the reply box; sending the reply
     * then discards the draft, so the customer gets one message. */
    let editing = null;
    const editNote = h("p", { class: "notice", hidden: true });
    form.insertBefore(editNote, form.firstChild);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!text.value.trim()) return;
      busy(send, derr, async () => {
        if (editing) {
          /* The draft goes out as edited (one message, recorded as the
           * correction of the bot's answer). */
          const d = editing;
          await ctx.api("POST", `/api/conversations/${id}/messages/${d}/send`, { text: text.value.trim() });
          editing = null;
          editNote.hidden = true;
          announce("Edited draft queued for sending");
        } else {
          await ctx.api("POST", `/api/conversations/${id}/messages`, { text: text.value.trim() });
          announce("Reply queued for sending");
        }
        text.value = "";
        await open(id);
      });
    });
    const rerr = errorBox();
    release.addEventListener("click", () => busy(release, rerr, async () => {
      await ctx.api("POST", `/api/conversations/${id}/release`);
      announce("Conversation released to the bot");
      await load();
      if (!openId) await open(id, false);
    }));
    /* Closing: its drafts are discarded, it takes no reply, and the
     * number's next text starts a new conversation. */
    close.addEventListener("click", () => {
      if (!confirm("Close this conversation? Its drafts are discarded; the customer's next text starts a new one.")) return;
      busy(close, rerr, async () => {
        await ctx.api("POST", `/api/conversations/${id}/close`);
        announce("Conversation closed");
        await load();
        if (!openId) await open(id, false);
      });
    });
    const onDraft = (m, what, btn) => what === "edit" ? (() => {
      editing = m.id;
      text.value = m.text || "";
      editNote.textContent = `Editing draft #${m.id}: sending sends your edited text instead of the draft.`;
      editNote.hidden = false;
      text.focus();
    })() : busy(btn, derr, async () => {
      await ctx.api("POST", `/api/conversations/${id}/messages/${m.id}/${what}`);
      if (editing === m.id) { editing = null; editNote.hidden = true; }
      announce(what === "send" ? "Draft queued for sending" : "Draft discarded");
      await open(id);
    });
    const title = h("h3", { tabindex: "-1", id: "conversation-title" });
    const msgs = messagesView(c.messages || [], onDraft);
    const reason = h("p", { id: "conversation-reason" });
    const badge = h("span");
    shown = { id, msgs, title, badge, reason, release, close, form, onDraft };
    add(clear(detail), h("div", { class: "row" }, title, badge), reason, h("div", { class: "row" }, release, close), rerr, msgs, form);
    setState(c);
    watchDelivery(id, c);
    if (focus) title.focus();
  }
  filter.addEventListener("change", load);
  let t = null;
  const off = ctx.live.onEvent((type) => {
    if (type === "tick" || type === "message" || type === "conversation" || type === "escalation") {
      clearTimeout(t); t = setTimeout(load, 250);
    }
  });
  load();
  return () => { clearTimeout(t); clearTimeout(pending); shown = null; off(); };
}

/* ================================================================= Traces */

export function traces(root, ctx) {
  const err = errorBox();
  const input = h("input", { id: "trace-id", name: "trace", pattern: "[0-9a-fA-F]{32}", placeholder: "32 hex characters", value: ctx.param || "", autocomplete: "off" });
  const form = h("form", { class: "toolbar", role: "search" }, field("Trace id", input), h("button", { type: "submit", text: "Open" }));
  const tail = h("ol", { class: "tail", id: "trace-tail", "aria-live": "polite", "aria-label": "recent requests" });
  const out = h("section", { class: "detail", "aria-label": "trace" });
  add(root, form, err, out, h("h3", { text: "Live: recent requests" }), tail);
  form.addEventListener("submit", (e) => { e.preventDefault(); ctx.go("#/traces/" + input.value.trim().toLowerCase()); });

  const seen = new Map();
  // A bus message carries one daemon's steps of any number of requests.
  function tailOne(id, steps) {
    const daemons = seen.get(id) || new Set();
    for (const s of steps) daemons.add(s.daemon);
    const first = !seen.has(id);
    seen.set(id, daemons);
    if (seen.size > 500) seen.delete(seen.keys().next().value); // the oldest: a page left open stays small
    let li = tail.querySelector(`li[data-id="${id}"]`);
    if (!li) {
      li = h("li", { "data-id": id });
      tail.insertBefore(li, tail.firstChild);
      while (tail.children.length > 30) tail.removeChild(tail.lastChild);
    }
    add(clear(li), h("a", { href: "#/traces/" + id, text: id }), " ", [...daemons].join(" + ") + ": " + steps.map((s) => s.step).join(", "));
    if (first && ctx.param === id) show(id);
  }
  const off = ctx.live.onEvent((type, data) => {
    if (type !== "trace" || !Array.isArray(data)) return;
    const byId = new Map();
    for (const s of data) {
      if (!s || typeof s.trace_id !== "string" || !/^[0-9a-f]{32}$/.test(s.trace_id)) continue;
      if (!byId.has(s.trace_id)) byId.set(s.trace_id, []);
      byId.get(s.trace_id).push(s);
    }
    for (const [id, steps] of byId) tailOne(id, steps);
  });

  async function show(id) {
    if (!/^[0-9a-f]{32}$/.test(id)) { err.textContent = "A trace id is 32 hex characters."; return; }
    err.textContent = "";
    try {
      const t = await ctx.api("GET", "/api/traces/" + id);
      add(clear(out), waterfall(t));
    } catch (e) { clear(out); err.textContent = e.status === 404 ? "No trace with that id (yet)." : e.message; }
  }
  if (ctx.param) show(ctx.param);
  return off;
}

// waterfall - each daemon's steps on one time axis: a bar from the
// request's start in that daemon to the step (its elapsed time)
function waterfall(t) {
  const steps = (t.steps || []).map((s) => {
    const at = Date.parse(s.at) * 1000 || 0, us = +s.elapsed_us || 0;
    return Object.assign({}, s, { end: at, start: at - us, us });
  });
  const t0 = Math.min(...steps.map((s) => s.start)), t1 = Math.max(...steps.map((s) => s.end));
  const span = Math.max(1, t1 - t0);
  const summary = [t.route && "route " + t.route, t.sop_slug && "SOP " + t.sop_slug + " v" + t.sop_version,
    t.cache && "cache " + t.cache, t.total_us != null && "total " + (t.total_us / 1000).toFixed(2) + " ms",
    t.escalation_tier ? "escalation tier " + t.escalation_tier : null].filter(Boolean).join(" · ");
  const rows = steps.map((s) => h("li", { class: "wf-row" },
    h("span", { class: "wf-label", text: `${s.daemon} · ${s.step}` }),
    h("span", { class: "wf-track" },
      bar((s.start - t0) / span, s.us / span, s.daemon)),
    h("span", { class: "wf-ms", text: (s.us / 1000).toFixed(2) + " ms" })));
  return h("div", { id: "waterfall" },
    h("h3", { tabindex: "-1", text: "Trace " + (t.trace_id || "") }),
    t.message ? h("p", { class: "pre", text: "“" + t.message + "”" }) : null,
    h("p", { text: summary }),
    h("ol", { class: "waterfall", "aria-label": "steps with timings" }, rows),
    h("details", {}, h("summary", { text: "Step details" }),
      h("pre", { class: "pre", text: JSON.stringify(t.steps, null, 1) })));
}

// bar - a positioned span; widths through the CSSOM (CSP forbids style attributes)
function bar(left, width, daemon) {
  const b = h("span", { class: "wf-bar d-" + String(daemon).replace(/[^a-z]/g, "") });
  b.style.left = (Math.max(0, Math.min(1, left)) * 100).toFixed(2) + "%";
  b.style.width = Math.max(0.5, Math.min(100, width * 100)).toFixed(2) + "%";
  return b;
}

/* ============================================================== Dashboard */

export function dashboard(root, ctx) {
  const err = errorBox();
  const win = select("window", [["24h", "Last 24 hours"], ["7d", "Last 7 days"]], "24h");
  win.id = "dashboard-window";
  const out = h("div", { id: "dashboard" });
  add(root, h("div", { class: "toolbar" }, field("Window", win)), err, out);
  const pct = (v) => (v === null || v === undefined ? "n/a" : (v * 100).toFixed(1) + "%");

  /* The rates and response times hour by hour over the window. */
  function hourly(hs) {
    const line = (title, f, opts) => series(title, hs.map((x) => ({ t: x.hour, v: f(x) })), opts);
    return [
      line("Answered from an SOP, per hour (%)", (x) => x.sop_rate * 100, { unit: "%", digits: 0 }),
      line("Escalated, per hour (%)", (x) => x.escalation_rate * 100, { unit: "%", digits: 0 }),
      line("Response time p50, per hour (ms)", (x) => x.p50_ms, { unit: " ms", digits: 1 }),
      line("Response time p99, per hour (ms)", (x) => x.p99_ms, { unit: " ms", digits: 1 }),
    ];
  }

  async function load() {
    try {
      const d = await ctx.api("GET", "/api/dashboard?window=" + win.value);
      const tiles = [
        ["Questions", d.queries ?? 0],
        ["Answered from an SOP", pct(d.answered_from_sop_rate)],
        ["Escalated", pct(d.escalation_rate)],
        ["Response p50", d.response_ms ? d.response_ms.p50 + " ms" : "n/a"],
        ["Response p99", d.response_ms ? d.response_ms.p99 + " ms" : "n/a"],
        ["Open tickets", d.tickets_open ?? "n/a"],
      ];
      add(clear(out), 
        h("ul", { class: "tiles" }, tiles.map(([k, v]) => h("li", {}, h("span", { class: "tile-k", text: k }), h("span", { class: "tile-v", text: String(v) })))),
        ...hourly(d.hourly || []),
        bars("Answers by cache tier (share of questions)", Object.entries(d.cache || {}).map(([k, v]) => ({ label: k, value: v * 100 })), { unit: "%", max: 100 }),
        bars("Unhelpful rate per SOP", (d.unhelpful_by_sop || []).map((s) => ({ label: s.sop, value: s.rate * 100 })), { unit: "%", max: 100 }),
        d.llm ? bars("LLM cost per day (USD)", (d.llm.per_day || []).map((p) => ({ label: p.day, value: p.usd })), { digits: 3 }) : h("p", { class: "notice", text: "LLM cost: no LLM calls are recorded." }),
        d.llm ? bars("LLM cost per hour, last 24 h (USD)", (d.llm.per_hour || []).map((p) => ({ label: p.hour, value: p.usd })), { digits: 4 }) : null);
      err.textContent = "";
    } catch (e) { err.textContent = e.message; }
  }
  win.addEventListener("change", load);
  load();
  const timer = setInterval(load, 30000);
  return () => clearInterval(timer);
}

/* =============================================================== Settings */

const SETTINGS = [
  ["sms_reply_mode", "SMS reply mode", ["off", "shadow", "approval", "auto"]],
  ["sms_rollout_percent", "SMS rollout (%)", "int"],
  ["sop_confidence_threshold", "SOP confidence threshold (0..1)", "num"],
  ["llm_mode", "LLM mode", ["off", "shadow", "on"]],
  ["llm_rollout_percent", "LLM rollout (%)", "int"],
  ["llm_voice", "Voice for customers' model replies (empty: ClubOS's own)", "text"],
];

export function settings(root, ctx) {
  const err = errorBox();
  const form = h("form", { class: "card", id: "settings-form", "aria-label": "settings" });
  const hist = h("div");
  add(root, form, err, h("h3", { text: "History" }), hist);
  let cur = {};

  async function load() {
    try {
      cur = await ctx.api("GET", "/api/settings");
      const s = cur.settings || cur;
      clear(form);
      for (const [k, label, kind] of SETTINGS) {
        const v = s[k] && typeof s[k] === "object" && "value" in s[k] ? s[k].value : s[k];
        const ctl = Array.isArray(kind) ? select(k, kind, String(v))
          : kind === "text" ? h("textarea", { name: k, rows: "3", maxlength: "400", value: v ?? "" })
          : h("input", { name: k, type: "number", step: kind === "int" ? "1" : "0.01", min: "0", max: kind === "int" ? "100" : "1", value: v ?? "" });
        ctl.id = "set-" + k;
        ctl.dataset.orig = String(v ?? "");
        form.appendChild(field(label, ctl));
      }
      form.appendChild(h("button", { type: "submit", id: "settings-save", text: "Save changes" }));
      const rows = await ctx.api("GET", "/api/settings/history").catch(() => []);
      clear(hist).appendChild(table("Changes", [
        ["When", (r) => when(r.changed_at || r.created_at || r.at)],
        ["Setting", (r) => r.key],
        ["Old", (r) => JSON.stringify(r.old_value ?? r.old ?? null)],
        ["New", (r) => JSON.stringify(r.new_value ?? r.new ?? null)],
        ["By", (r) => String(r.changed_by ?? r.by ?? r.user_id ?? "")],
      ], (Array.isArray(rows) ? rows : rows.history || []).slice(0, 50)));
    } catch (e) { err.textContent = e.message; }
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = {};
    for (const [k, , kind] of SETTINGS) {
      const el = form.elements[k];
      if (!el || el.value === el.dataset.orig) continue;
      body[k] = Array.isArray(kind) || kind === "text" ? el.value : Number(el.value);
    }
    if (!Object.keys(body).length) { err.textContent = "Nothing changed."; return; }
    busy(form.querySelector("button"), err, async () => {
      await ctx.api("PATCH", "/api/settings", body);
      announce("Settings saved");
      await load();
      const ok = h("p", { class: "ok", role: "status", id: "settings-saved", text: "Saved: " + Object.keys(body).join(", ") });
      form.appendChild(ok);
    });
  });
  load();
}

/* ================================================================== Users */

const ROLES = ["admin", "operator", "support", "kiosk", "customer"];

export function users(root, ctx) {
  const err = errorBox();
  const list = h("div");
  const email = h("input", { name: "email", type: "email", required: true, autocomplete: "off" });
  const name = h("input", { name: "name", autocomplete: "off" });
  const pw = h("input", { name: "password", type: "password", required: true, minlength: "8", autocomplete: "new-password" });
  const role = select("role", ROLES, "support");
  const create = h("form", { class: "card", id: "user-create", "aria-label": "add a user" },
    h("h3", { text: "Add a user" }), field("E-mail", email), field("Name", name), field("Password", pw), field("Role", role),
    h("button", { type: "submit", text: "Add user" }));
  add(root, create, err, list);

  async function load() {
    try {
      const rows = await ctx.api("GET", "/api/users");
      clear(list).appendChild(table("Users", [
        ["#", (r) => String(r.id)],
        ["E-mail", (r) => r.email],
        ["Name", (r) => r.name || ""],
        ["Role", (r) => {
          const s = select("role", ROLES, r.role);
          s.setAttribute("aria-label", "role of " + r.email);
          s.addEventListener("change", () => patch(r, { role: s.value }, s));
          return s;
        }],
        ["Active", (r) => {
          const c = h("input", { type: "checkbox", checked: !r.disabled, "aria-label": "active: " + r.email });
          c.addEventListener("change", () => patch(r, { disabled: !c.checked }, c));
          return c;
        }],
        ["", (r) => h("button", { type: "button", class: "secondary", text: "Delete", "aria-label": "delete " + r.email,
          onclick: (e) => busy(e.target, err, async () => {
            if (!confirm("Delete " + r.email + "?")) return;
            await ctx.api("DELETE", "/api/users/" + r.id);
            announce("User deleted");
            await load();
          }) })],
      ], rows));
    } catch (e) { err.textContent = e.message; }
  }
  async function patch(r, body, ctl) {
    await busy(ctl, err, async () => { await ctx.api("PATCH", "/api/users/" + r.id, body); announce("User " + r.email + " changed"); });
    await load();
  }
  create.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(create.querySelector("button"), err, async () => {
      const body = { email: email.value.trim(), password: pw.value, role: role.value };
      if (name.value.trim()) body.name = name.value.trim();
      await ctx.api("POST", "/api/users", body);
      pw.value = ""; email.value = ""; name.value = "";
      announce("User added");
      await load();
    });
  });
  load();
}

/* ================================================================== Kiosk */

/* What the emergency button sends: short and plain, so the router's
 * emergency rules take it as one (tier 3: the on-call alert and an urgent
 * ticket) whatever else is going on; test_console.py checks they still do. */
export const KIOSK_EMERGENCY = "Emergency, please help!";

export function kiosk(root, ctx) {
  const out = h("div", { id: "kiosk-answer", class: "kiosk-answer", "aria-live": "assertive" });
  const err = errorBox();
  const q = h("textarea", { id: "kiosk-question", name: "message", rows: "3", maxlength: "2000", required: true });
  const loc = select("location", [["", "Location: not given"], ["harbourview", "Harbourview"], ["riverside", "Riverside"]], "");
  const bay = h("input", { name: "bay", type: "number", min: "1", max: "8", inputmode: "numeric" });
  const ask = h("button", { type: "submit", text: "Ask" });
  const sos = h("button", { type: "button", id: "emergency", class: "emergency", text: "Emergency: get help now" });
  const form = h("form", { class: "kiosk-form", "aria-label": "ask a question" },
    field("Your question", q), h("div", { class: "row" }, field("Location", loc), field("Bay", bay)), ask);
  add(root, sos, form, err, out);

  async function send(message, btn) {
    await busy(btn, err, async () => {
      const body = { message, channel: "kiosk" };
      if (loc.value) body.location = loc.value;
      if (bay.value) body.bay = Number(bay.value);
      const r = await ctx.api("POST", "/api/query", body);
      /* Only what the server said: it says what was requested, and what was done. */
      add(clear(out), h("p", { text: r.response || "" }),
        (r.actions || []).length ? h("ul", {}, r.actions.map((a) => h("li", { text: a.type.replace(/_/g, " ") + ": " + a.status.replace(/_/g, " ") }))) : null);
      out.focus && out.setAttribute("tabindex", "-1");
      out.focus();
    });
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); if (q.value.trim()) send(q.value.trim(), ask); });
  sos.addEventListener("click", () => send(KIOSK_EMERGENCY, sos));
}
