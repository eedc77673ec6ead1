// views.js - Tickets, Actions, SOPs and Proposals.

import { h, add, clear, table, field, select, errorBox, when, announce } from "./dom.js";
import { lineDiff, parseUnified, unifiedView, sideBySide } from "./diff.js";
import { myId } from "./api.js";

// refresher - run load() now, on live events of the given types, and on
// polling ticks; the returned function stops it
function refresher(ctx, types, load) {
  let t = null;
  const off = ctx.live.onEvent((type) => {
    if (type !== "tick" && !types.includes(type)) return;
    clearTimeout(t);
    t = setTimeout(load, 250); /* a burst of events: one reload */
  });
  load();
  return () => { clearTimeout(t); off(); };
}

// busy - disable a button while f runs, report its error into box
async function busy(btn, box, f) {
  btn.disabled = true;
  if (box) box.textContent = "";
  try { return await f(); } catch (e) { if (box) box.textContent = e.message; return undefined; } finally { btn.disabled = false; }
}

/* ================================================================ Tickets */

export function tickets(root, ctx) {
  const err = errorBox();
  const filter = select("status", [["", "All"], "open", "in_progress", "resolved"], "open");
  filter.id = "ticket-filter";
  const list = h("div", { "aria-live": "polite" });
  const detail = h("section", { class: "detail", id: "ticket-detail", "aria-label": "ticket" });
  add(root, h("div", { class: "toolbar" }, field("Status", filter)), err, list, detail);

  let seen = null;
  async function load() {
    try {
      const q = filter.value ? "?status=" + encodeURIComponent(filter.value) : "";
      const rows = await ctx.api("GET", "/api/tickets" + q);
      if (seen && rows.some((r) => !seen.has(r.id))) announce("New ticket");
      seen = new Set(rows.map((r) => r.id));
      clear(list).appendChild(rows.length ? table("Tickets", [
        ["#", (r) => String(r.id)],
        ["Priority", (r) => h("span", { class: "badge p-" + r.priority, text: r.priority })],
        ["Status", (r) => r.status],
        ["Title", (r) => r.title || ""],
        ["Location", (r) => [r.location || "", r.bay ? " bay " + r.bay : ""].join("")],
        ["Created", (r) => when(r.created_at)],
      ], rows, (r) => open(r.id)) : h("p", { text: "No tickets." }));
      err.textContent = "";
    } catch (e) { err.textContent = e.message; }
  }

  /* Each open() fetches first and then replaces the panel, so a refresh
   * never leaves it empty in between. */
  async function open(id) {
    let t;
    try { t = await ctx.api("GET", "/api/tickets/" + id); } catch (e) { add(clear(detail), h("p", { class: "error", text: e.message })); return; }
    clear(detail);
    detail.dataset.status = t.status;
    detail.dataset.assignee = t.assignee ?? "";
    detail.dataset.notes = String((t.notes || []).length);
    const derr = errorBox();
    const st = select("status", ["open", "in_progress", "resolved"], t.status);
    const assignee = h("input", { name: "assignee", type: "number", min: "1", value: t.assignee ?? "" });
    const note = h("textarea", { name: "note", rows: "2", maxlength: "2000" });
    const save = h("button", { type: "submit", text: "Save" });
    const resolve = h("button", { type: "button", id: "ticket-resolve", text: "Resolve", disabled: t.status === "resolved" });
    const mine = myId();
    const assignMe = h("button", { type: "button", id: "ticket-assign-me", class: "secondary", text: "Assign to me",
      hidden: !mine || t.assignee === mine });
    async function patch(body, btn) {
      await busy(btn, derr, async () => {
        await ctx.api("PATCH", "/api/tickets/" + id, body);
        announce("Ticket " + id + " saved");
        await load();
        await open(id);
      });
    }
    const form = h("form", { class: "card", "aria-label": "update ticket" },
      field("Status", st), field("Assignee (user id)", assignee), field("Note", note),
      h("div", { class: "row" }, save, resolve, assignMe), derr);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = {};
      if (st.value !== t.status) body.status = st.value;
      const a = assignee.value.trim();
      if (a !== String(t.assignee ?? "")) body.assignee = a === "" ? null : Number(a);
      if (note.value.trim()) body.note = note.value.trim();
      if (!Object.keys(body).length) { derr.textContent = "Nothing changed."; return; }
      patch(body, save);
    });
    resolve.addEventListener("click", () => patch({ status: "resolved" }, resolve));
    assignMe.addEventListener("click", () => patch({ assignee: mine }, assignMe));
    const notes = Array.isArray(t.notes) ? t.notes : [];
    add(detail, 
      h("h3", { tabindex: "-1", id: "ticket-title", text: "Ticket #" + t.id + ": " + (t.title || "") }),
      h("p", { text: [t.priority, t.status, t.location, t.sop_slug].filter(Boolean).join(" · ") }),
      t.summary ? h("p", { class: "pre", text: t.summary }) : null,
      t.trace_id ? h("p", {}, "Trace: ", h("a", { href: "#/traces/" + t.trace_id, text: t.trace_id })) : null,
      form,
      notes.length ? h("div", {}, h("h4", { text: "Notes" }), h("ul", {}, notes.map((n) =>
        h("li", { text: typeof n === "string" ? n : [when(n.at || n.created_at), n.by || n.user_id || "", n.text || n.note || JSON.stringify(n)].filter(Boolean).join(" - ") })))) : null,
      t.actions && t.actions.length ? h("div", {}, h("h4", { text: "Actions" }),
        h("ul", {}, t.actions.map((a) => h("li", { text: `#${a.id} ${a.type}: ${a.status}${a.last_error ? " (" + a.last_error + ")" : ""}` })))) : null,
      t.conversation ? h("div", {}, h("h4", { text: "Conversation #" + t.conversation.id }),
        messagesView(t.conversation.messages || [])) : null);
    detail.querySelector("#ticket-title").focus();
  }

  filter.addEventListener("change", load);
  const stop = refresher(ctx, ["ticket", "action", "escalation", "message"], load);
  if (ctx.param) open(ctx.param);
  return stop;
}

// messagesView - a conversation's messages, oldest first
const AUTHORS = { customer: "Customer", bot: "Bot", staff: "Staff" };
/* What each delivery state means, in the words staff need: a reply is
 * "sent" only once the provider took it, "delivered" once the phone did. */
const DELIVERY = {
  received: "", queued: "queued, not sent yet", sending: "sending", sent: "sent",
  delivered: "delivered", failed: "not sent (failed)", draft: "draft: waiting for approval, not sent",
  shadow: "shadow: computed, never sent", discarded: "draft discarded, not sent",
};
export function messagesView(msgs, onDraft) {
  return h("ol", { class: "messages", "aria-live": "polite" }, msgs.map((m) => h("li", {
    class: "msg msg-" + (m.direction || "in") + " by-" + (m.author || "") + (m.delivery ? " d-" + m.delivery : ""),
    "data-id": m.id, "data-delivery": m.delivery || "", "data-author": m.author || "",
  },
    h("div", { class: "msg-meta" },
      h("span", { class: "badge a-" + (m.author || ""), text: AUTHORS[m.author] || m.author || "" }), " ",
      [when(m.created_at), m.delivery in DELIVERY ? DELIVERY[m.delivery] : m.delivery,
        m.delivery === "failed" || (m.attempts > 1 && m.delivery !== "delivered") ? m.attempts + " attempt" + (m.attempts === 1 ? "" : "s") : null,
        m.last_error && m.delivery !== "delivered" ? m.last_error : null].filter(Boolean).join(" · ")),
    h("div", { class: "msg-text", text: m.text || "" }),
    m.delivery === "draft" && onDraft ? h("div", { class: "row" },
      h("button", { type: "button", class: "draft-send", text: "Send draft", "data-id": m.id, onclick: (e) => onDraft(m, "send", e.target) }),
      h("button", { type: "button", class: "draft-edit secondary", text: "Edit", "data-id": m.id, onclick: (e) => onDraft(m, "edit", e.target) }),
      h("button", { type: "button", class: "draft-discard secondary", text: "Discard", "data-id": m.id, onclick: (e) => onDraft(m, "discard", e.target) })) : null)));
}

/* ================================================================ Actions */

const ACTION_STATUSES = [["", "All"], "pending_approval", "pending_confirmation", "queued", "running", "done", "failed", "expired", "cancelled"];

export function actions(root, ctx) {
  const err = errorBox();
  const filter = select("status", ACTION_STATUSES, "");
  filter.id = "action-filter";
  const list = h("div");
  add(root, h("div", { class: "toolbar" }, field("Status", filter)), err, list);
  const mayDecide = ctx.can("admin", "operator");

  async function decide(a, what, btn) {
    await busy(btn, err, async () => {
      await ctx.api("POST", `/api/actions/${a.id}/${what}`);
      announce(`Action ${a.id} ${what === "approve" ? "approved" : "cancelled"}`);
      await load();
    });
  }

  async function load() {
    try {
      const q = filter.value ? "?status=" + encodeURIComponent(filter.value) : "";
      const rows = await ctx.api("GET", "/api/actions" + q);
      clear(list).appendChild(rows.length ? table("Actions", [
        ["#", (r) => String(r.id)],
        ["Type", (r) => r.type],
        ["Status", (r) => h("span", { class: "badge s-" + r.status, text: r.status })],
        ["Where", (r) => [r.location || "", r.bay ? " bay " + r.bay : ""].join("")],
        ["Attempts", (r) => String(r.attempts ?? 0)],
        ["Last error", (r) => r.last_error || ""],
        ["Trace", (r) => r.trace_id ? h("a", { href: "#/traces/" + r.trace_id, text: r.trace_id.slice(0, 8) }) : ""],
        ["", (r) => mayDecide ? h("div", { class: "row" },
          r.status === "pending_approval" ? h("button", { type: "button", class: "approve", "data-id": r.id, text: "Approve", onclick: (e) => decide(r, "approve", e.target) }) : null,
          ["pending_approval", "pending_confirmation", "queued"].includes(r.status) ? h("button", { type: "button", class: "cancel secondary", "data-id": r.id, text: "Cancel", onclick: (e) => decide(r, "cancel", e.target) }) : null) : ""],
      ], rows) : h("p", { text: "No actions." }));
      for (const r of rows) if ((r.attempt_log || []).length) {
        list.appendChild(h("details", {}, h("summary", { text: `Attempts of action #${r.id}` }),
          h("ul", {}, r.attempt_log.map((t) => h("li", { text: `#${t.n} ${t.provider || ""} ${t.outcome || ""} ${t.http_status || ""} ${t.error || ""}` })))));
      }
      err.textContent = "";
    } catch (e) { err.textContent = e.message; }
  }
  filter.addEventListener("change", load);
  return refresher(ctx, ["action", "ticket", "escalation"], load);
}

/* =================================================================== SOPs */

export function sops(root, ctx) {
  const err = errorBox();
  const list = h("div");
  const detail = h("section", { class: "detail", "aria-label": "SOP" });
  add(root, err, list, detail);
  const admin = ctx.can("admin");

  async function load() {
    try {
      const rows = await ctx.api("GET", "/api/sops");
      clear(list).appendChild(table("SOPs", [
        ["Slug", (r) => h("a", { href: "#/sops/" + encodeURIComponent(r.slug), text: r.slug })],
        ["Title", (r) => r.title || ""],
        ["Route", (r) => r.route],
        ["Audience", (r) => r.audience],
        ["Version", (r) => String(r.version)],
      ], rows || []));
    } catch (e) { err.textContent = e.message; }
  }

  async function open(slug) {
    let s, versions;
    try {
      [s, versions] = await Promise.all([
        ctx.api("GET", "/api/sops/" + encodeURIComponent(slug)),
        ctx.api("GET", "/api/sops/" + encodeURIComponent(slug) + "/versions")]);
    } catch (e) { add(clear(detail), h("p", { class: "error", text: e.message })); return; }
    clear(detail);
    const derr = errorBox();
    const text = h("textarea", { id: "sop-content", name: "content", rows: "16", readonly: !admin, value: s.content, spellcheck: "false" });
    let base = s.sha256;
    const save = h("button", { type: "submit", id: "sop-save", text: "Save new version", hidden: !admin });
    const conflict = h("div");
    const form = h("form", { class: "card", "aria-label": "edit SOP" }, field("Content (version " + s.version + ")", text), save, derr, conflict);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(save, derr, async () => {
        try {
          const r = await ctx.api("PUT", "/api/sops/" + encodeURIComponent(slug), { content: text.value, base_sha256: base });
          announce("Saved version " + r.version);
          await load();
          await open(slug);
        } catch (e2) {
          if (e2.status !== 409) throw e2;
          /* Someone else saved first: show theirs against ours, keep our text. */
          const cur = await ctx.api("GET", "/api/sops/" + encodeURIComponent(slug));
          base = cur.sha256;
          add(clear(conflict), h("p", { class: "error", role: "alert", text: `Version ${cur.version} was saved meanwhile. Below, theirs (-) against yours (+); save again to replace it with yours.` }),
            unifiedView(lineDiff(cur.content, text.value)));
        }
      });
    });

    const a = select("a", versions.map((v) => [String(v.version), "v" + v.version]), String(Math.max(1, s.version - 1)));
    const b = select("b", versions.map((v) => [String(v.version), "v" + v.version]), String(s.version));
    a.id = "diff-a"; b.id = "diff-b";
    const diffOut = h("div", { id: "sop-diff" });
    const show = h("button", { type: "button", id: "diff-show", text: "Show diff" });
    show.addEventListener("click", () => busy(show, derr, async () => {
      const get = (v) => ctx.api("GET", `/api/sops/${encodeURIComponent(slug)}/versions/${v}`);
      const [x, y] = await Promise.all([get(a.value), get(b.value)]);
      clear(diffOut).appendChild(sideBySide(lineDiff(x.content, y.content)));
    }));
    const vt = table("Versions", [
      ["Version", (v) => String(v.version)],
      ["Author", (v) => v.author || ""],
      ["Note", (v) => v.note || ""],
      ["Created", (v) => when(v.created_at)],
      ["", (v) => admin && v.version !== s.version ? h("button", { type: "button", class: "rollback secondary", "data-version": v.version, text: "Roll back to v" + v.version,
        onclick: (e) => busy(e.target, derr, async () => {
          if (!confirm(`Make a new version with the content of v${v.version}?`)) return;
          await ctx.api("POST", `/api/sops/${encodeURIComponent(slug)}/rollback`, { version: v.version });
          announce("Rolled back to version " + v.version);
          await load();
          await open(slug);
        }) }) : ""],
    ], versions.slice().reverse());
    add(detail, h("h3", { tabindex: "-1", id: "sop-title", text: s.slug + " (v" + s.version + ")" }),
      h("p", { text: [s.title, s.route, "audience " + s.audience].filter(Boolean).join(" · ") }),
      form, h("h4", { text: "Versions" }), vt,
      h("div", { class: "toolbar" }, field("From", a), field("To", b), show), diffOut);
    detail.querySelector("#sop-title").focus();
  }
  load();
  if (ctx.param) open(ctx.param);
  const off = ctx.live.onEvent((type) => { if (type === "sop.changed") load(); });
  return off;
}

/* ============================================================== Proposals */

export function proposals(root, ctx) {
  const err = errorBox();
  const filter = select("status", [["pending", "Pending"], ["", "All"], "applied", "approved", "rejected", "stale"], "pending");
  filter.id = "proposal-filter";
  const analyse = h("button", { type: "button", id: "analyse", text: "Analyse now", hidden: !ctx.can("admin") });
  const list = h("div");
  const detail = h("section", { class: "detail", id: "proposal-detail", "aria-label": "proposal" });
  add(root, h("div", { class: "toolbar" }, field("Status", filter), analyse), err, list, detail);

  async function load() {
    try {
      const q = filter.value ? "?status=" + filter.value : "";
      const rows = await ctx.api("GET", "/api/intelligence/proposals" + q);
      clear(list).appendChild(rows.length ? table("Proposals", [
        ["#", (r) => String(r.id)],
        ["Kind", (r) => r.kind],
        ["SOP", (r) => r.sop_slug || "(new)"],
        ["Base", (r) => r.base_version ? "v" + r.base_version : ""],
        ["Evidence", (r) => String(r.evidence_count ?? "")],
        ["Status", (r) => r.status],
        ["", (r) => h("button", { type: "button", class: "open-proposal secondary", "data-id": r.id, text: "Open", onclick: () => open(r.id) })],
      ], rows) : h("p", { text: "No proposals." }));
    } catch (e) { err.textContent = e.message; }
  }

  async function open(id) {
    let p;
    try { p = await ctx.api("GET", "/api/intelligence/proposals/" + id); } catch (e) { add(clear(detail), h("p", { class: "error", text: e.message })); return; }
    clear(detail);
    detail.dataset.status = p.status;
    const derr = errorBox();
    const act = (what) => h("button", { type: "button", id: "proposal-" + what, class: what === "reject" ? "secondary" : "", text: what === "approve" ? "Approve" : "Reject", hidden: !ctx.can("admin") || p.status !== "pending",
      onclick: (e) => busy(e.target, derr, async () => {
        await ctx.api("POST", `/api/intelligence/proposals/${id}/${what}`);
        announce(`Proposal ${id} ${what === "approve" ? "approved" : "rejected"}`);
        await load();
        await open(id);
      }) });
    /* Evidence: the verdicts it rests on (feedback ids), and what it adds. */
    const ev = Array.isArray(p.evidence) ? p.evidence
      : (Array.isArray(p.evidence_ids) ? p.evidence_ids.map((i) => "feedback #" + i) : []);
    const examples = Array.isArray(p.examples) ? p.examples : [];
    add(detail, h("h3", { tabindex: "-1", id: "proposal-title", text: `Proposal #${p.id}: ${p.kind} for ${p.sop_slug || "a new SOP"}` }),
      h("p", { text: `Status ${p.status}` + (p.rationale ? " · " + p.rationale : "") }),
      h("div", { class: "row" }, act("approve"), act("reject")), derr,
      h("h4", { text: "Change" }), sideBySide(parseUnified(p.diff)),
      h("h4", { text: "Evidence (" + (p.evidence_count ?? ev.length) + ")" }),
      ev.length ? h("ul", { class: "evidence" }, ev.map((x) => h("li", { text: evidenceText(x) })))
        : h("p", { text: p.kind === "merge" ? "Staff knowledge, ingested: no customer verdicts." : "No evidence listed." }),
      p.status_reason ? h("p", { text: "Why: " + p.status_reason }) : null,
      examples.length ? h("div", {}, h("h4", { text: "Training examples it adds" }),
        h("ul", {}, examples.map((x) => h("li", { text: typeof x === "string" ? x : (x.text || JSON.stringify(x)) })))) : null,
      p.effect ? h("p", { text: "Effect: " + effectText(p.effect) }) : null);
    detail.querySelector("#proposal-title").focus();
  }

  analyse.addEventListener("click", () => busy(analyse, err, async () => {
    const made = await ctx.api("POST", "/api/intelligence/analyze");
    announce((made || []).length + " proposals made or refreshed");
    await load();
  }));
  filter.addEventListener("change", load);
  if (ctx.param) open(ctx.param);
  return refresher(ctx, ["feedback", "sop.changed"], load);
}

function evidenceText(x) {
  if (typeof x !== "object" || x === null) return String(x);
  const parts = [x.message || x.question || x.text, x.comment, x.correct_answer ? "correction: " + x.correct_answer : null, x.trace_id ? "trace " + x.trace_id : null];
  const s = parts.filter(Boolean).join(" · ");
  return s || JSON.stringify(x);
}

function effectText(e) {
  const f = (s) => s ? `v${s.version}: ${s.unhelpful ?? "?"} unhelpful of ${s.total ?? s.feedback ?? "?"}` : "n/a";
  return "before " + f(e.before) + "; after " + f(e.after);
}
