// ClubOS web front desk: sign in, ask, see the route/SOP/escalation of each
// answer, and mark answers helpful or not (the learning loop's input); staff
// see the proposed SOP changes with their diffs, and an admin decides them.
"use strict";
const $ = (s) => document.querySelector(s);
let token = sessionStorage.getItem("clubos.token");
let role = sessionStorage.getItem("clubos.role");

async function api(path, body) {
  const res = await fetch(path, {
    method: body ? "POST" : "GET",
    headers: Object.assign({ "Content-Type": "application/json" },
      token ? { Authorization: "Bearer " + token } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = new Error((data.error && data.error.message) || res.statusText);
    e.status = res.status;
    throw e;
  }
  return data;
}

const STAFF = ["admin", "operator", "support"];

function show() {
  $("#login").hidden = !!token;
  $("#desk").hidden = !token;
  $("#logout").hidden = !token;
  $("#who").textContent = token ? "signed in as " + role : "";
  $("#learning").hidden = !(token && STAFF.includes(role));
  $("#analyze").hidden = role !== "admin";
  if (token && STAFF.includes(role)) proposals();
}

// proposals - the pending ones, each with its diff; approve/reject for admins
async function proposals() {
  const box = $("#proposals");
  $("#learning-error").textContent = "";
  try {
    const list = await api("/api/intelligence/proposals?status=pending");
    box.replaceChildren();
    if (!list.length) box.textContent = "Nothing pending.";
    for (const p of list) {
      const card = document.createElement("div");
      card.className = "card proposal";
      const h = document.createElement("div");
      h.textContent = `#${p.id} ${p.kind} · ${p.sop_slug || "new topic"} · ` +
        `${p.analyser} · ${p.evidence_count} unhelpful · ${p.rationale}`;
      const pre = document.createElement("pre");
      pre.textContent = p.diff;
      card.append(h, pre);
      if (role === "admin") {
        for (const [label, action] of [["Approve", "approve"], ["Reject", "reject"]]) {
          const b = document.createElement("button");
          b.type = "button";
          b.textContent = label;
          b.onclick = async () => {
            try {
              await api(`/api/intelligence/proposals/${p.id}/${action}`, {});
            } catch (e) {
              $("#learning-error").textContent = `#${p.id}: ${e.message}`;
            }
            proposals();
          };
          card.appendChild(b);
        }
      }
      box.appendChild(card);
    }
  } catch (e) {
    $("#learning-error").textContent = e.message;
  }
}

function bubble(cls, text) {
  const div = document.createElement("div");
  div.className = "msg " + cls;
  div.textContent = text;
  $("#log").appendChild(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

function meta(div, a) {
  const m = document.createElement("div");
  m.className = "meta";
  const sop = a.sop ? `${a.sop.slug} v${a.sop.version}` : "no SOP";
  const acts = (a.actions || []).map((x) => `${x.type}: ${x.status}`).join(", ");
  m.textContent = `${a.route} · ${sop} · confidence ${a.confidence.toFixed(2)} · ` +
    `tier ${a.escalation.tier} · ${a.cache} · ${(a.timings_us.total / 1000).toFixed(1)} ms` +
    (acts ? ` · ${acts}` : "");
  for (const [label, helpful] of [["helpful", true], ["not helpful", false]]) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.onclick = async () => {
      const fb = { trace_id: a.trace_id, helpful };
      if (!helpful && STAFF.includes(role)) {
        const fix = prompt("What should the answer have been? (optional)");
        if (fix) fb.correct_answer = fix;
      }
      await api("/api/feedback", fb);
      m.querySelectorAll("button").forEach((x) => x.remove());
      m.append(" · thanks for the feedback");
    };
    m.appendChild(b);
  }
  div.appendChild(m);
  if (a.escalation.tier === 3) div.classList.add("tier3");
}

$("#login").onsubmit = async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    const r = await api("/api/auth/login", { email: f.get("email"), password: f.get("password") });
    token = r.token; role = r.role;
    sessionStorage.setItem("clubos.token", token);
    sessionStorage.setItem("clubos.role", role);
    $("#login-error").textContent = "";
    $("#refresh").onclick = proposals;
$("#analyze").onclick = async () => {
  try {
    await api("/api/intelligence/analyze", {});
  } catch (e) {
    $("#learning-error").textContent = e.message;
  }
  proposals();
};

show();
  } catch (e) {
    $("#login-error").textContent = e.message;
  }
};

$("#logout").onclick = () => { token = role = null; sessionStorage.clear(); show(); };

$("#ask").onsubmit = async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = { message: f.get("message") };
  for (const k of ["channel", "location"]) if (f.get(k)) body[k] = f.get(k);
  if (f.get("bay")) body.bay = Number(f.get("bay"));
  bubble("me", body.message);
  ev.target.message.value = "";
  try {
    const a = await api("/api/query", body);
    meta(bubble("bot", a.response), a);
  } catch (e) {
    bubble("bot", "Sorry: " + e.message);
    if (e.status === 401) { token = null; sessionStorage.clear(); show(); }
  }
};

$("#refresh").onclick = proposals;
$("#analyze").onclick = async () => {
  try {
    await api("/api/intelligence/analyze", {});
  } catch (e) {
    $("#learning-error").textContent = e.message;
  }
  proposals();
};

show();
