// app.js - the ClubOS operator console: log in, one navigation shown by
// role, hash routing (#/tickets, #/traces/<id>, ...), the live feed.
//
// Plain ES modules served as files by the gateway: no build step, no
// framework.  Every view is a function (root, ctx) that fills root with
// elements made by dom.js and may return a cleanup function.

import { h, clear, announce } from "./dom.js";
import { api, login, logout, current, setUnauthorizedHandler } from "./api.js";
import * as live from "./live.js";
import { tickets, actions, sops, proposals } from "./views.js";
import { conversations, traces, dashboard, settings, users, kiosk } from "./views2.js";

const STAFF = ["admin", "operator", "support"];
const SECTIONS = [
  { id: "conversations", title: "Conversations", roles: STAFF, view: conversations },
  { id: "tickets", title: "Tickets", roles: STAFF, view: tickets },
  { id: "actions", title: "Actions", roles: STAFF, view: actions },
  { id: "sops", title: "SOPs", roles: STAFF, view: sops },
  { id: "proposals", title: "Proposals", roles: STAFF, view: proposals },
  { id: "traces", title: "Traces", roles: STAFF, view: traces },
  { id: "dashboard", title: "Dashboard", roles: STAFF, view: dashboard },
  { id: "settings", title: "Settings", roles: ["admin"], view: settings },
  { id: "users", title: "Users", roles: ["admin"], view: users },
  { id: "kiosk", title: "Kiosk", roles: ["kiosk", "customer"], view: kiosk },
];

const $ = (id) => document.getElementById(id);
let cleanup = null;

// allowed - the sections this role may open
function allowed(role) {
  return SECTIONS.filter((s) => s.roles.includes(role));
}

// renderNav - one link per section this role may open
function renderNav(role) {
  const ul = clear($("nav-list"));
  for (const s of allowed(role))
    ul.appendChild(h("li", {}, h("a", { href: "#/" + s.id, id: "nav-" + s.id, text: s.title })));
}

// route - show the section the hash names (or the first allowed one)
function route() {
  const sess = current();
  if (typeof cleanup === "function") { try { cleanup(); } catch (e) { console.warn(e); } }
  cleanup = null;
  if (!sess) { showLogin(); return; }
  $("login").hidden = true;
  $("shell").hidden = false;
  $("who").textContent = sess.email + " (" + sess.role + ")";
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const list = allowed(sess.role);
  const sec = list.find((s) => s.id === parts[0]) || list[0];
  if (!sec) { showLogin("this account has no console sections"); return; }
  if (sec.id !== parts[0]) { history.replaceState(null, "", "#/" + sec.id); }
  for (const a of $("nav-list").querySelectorAll("a"))
    if (a.id === "nav-" + sec.id) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  /* A kiosk device shows its one page and nothing else; a customer keeps the menu (and Log out). */
  document.body.classList.toggle("kiosk-mode", sec.id === "kiosk" && sess.role === "kiosk");
  $("menu").setAttribute("aria-expanded", "false");
  $("nav").classList.remove("open");
  const root = clear($("view"));
  const title = h("h2", { tabindex: "-1", id: "view-title", text: sec.title });
  root.appendChild(title);
  document.title = sec.title + " - ClubOS";
  const body = h("div", { class: "view-body" });
  root.appendChild(body);
  const ctx = {
    role: sess.role, param: parts[1] || "", api, live,
    go: (hash) => { location.hash = hash; },
    can: (...roles) => roles.includes(sess.role),
  };
  try { cleanup = sec.view(body, ctx); } catch (e) { console.error(e); body.textContent = "This section failed to load."; }
  title.focus();
}

// showLogin - the sign-in form, focused
function showLogin(msg) {
  live.stop();
  $("shell").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = msg || "";
  $("login-email").focus();
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = e.target;
  $("login-error").textContent = "";
  f.querySelector("button").disabled = true;
  try {
    const s = await login(f.email.value.trim(), f.password.value);
    f.password.value = "";
    renderNav(s.role);
    if (STAFF.includes(s.role)) live.start();
    announce("Signed in as " + s.role);
    route();
  } catch (err) {
    $("login-error").textContent = err.status === 401 ? "Wrong e-mail or password." : err.message;
  } finally {
    f.querySelector("button").disabled = false;
  }
});

$("logout").addEventListener("click", () => {
  logout();
  live.stop();
  location.hash = "";
  showLogin();
});

$("menu").addEventListener("click", () => {
  const open = !$("nav").classList.contains("open");
  $("nav").classList.toggle("open", open);
  $("menu").setAttribute("aria-expanded", String(open));
});

setUnauthorizedHandler(() => { logout(); showLogin("Your session ended; sign in again."); });

live.onState((s) => {
  const el = $("live-state");
  el.textContent = s === "live" ? "live" : s === "polling" ? "reconnecting (polling)" : "";
  el.className = "live-" + s;
});

window.addEventListener("hashchange", route);

const sess = current();
if (sess) {
  renderNav(sess.role);
  if (STAFF.includes(sess.role)) live.start();
}
route();

if ("serviceWorker" in navigator)
  navigator.serviceWorker.register("/sw.js").catch((e) => console.warn("service worker:", e.message));
