// live.js - the console's live feed: GET /api/events as Server-Sent Events.
//
// EventSource cannot send an Authorization header, so this reads the stream
// with fetch() and parses the SSE frames itself.  It reconnects with
// backoff (1 s doubling to 30 s, with jitter).  While the stream is down,
// and when the gateway has no stream at all, a "tick" every few seconds
// lets the open section poll its list instead (and every 30 s while live,
// as the bus behind the stream is lossy).

import { authHeaders } from "./api.js";

const listeners = new Set();
let ctrl = null, running = false, backoff = 1000, pollTimer = null;
let state = "off";
const stateListeners = new Set();

// onEvent - f(type, data) for every event (and "tick" when polling)
export function onEvent(f) { listeners.add(f); return () => listeners.delete(f); }
export function onState(f) { stateListeners.add(f); f(state); return () => stateListeners.delete(f); }
export function liveState() { return state; }

function emit(type, data) { for (const f of listeners) { try { f(type, data); } catch (e) { console.warn(e); } } }
function setState(s) { state = s; for (const f of stateListeners) f(s); }

/* Disconnected: every 5 s.  Live: every 30 s anyway, since the bus behind
 * the stream may drop an event and nothing would bring it back. */
function startPolling(ms = 5000) {
  clearInterval(pollTimer);
  pollTimer = setInterval(() => emit("tick", null), ms);
}
function stopPolling() { clearInterval(pollTimer); pollTimer = null; }

// start - open the stream (idempotent)
export function start() {
  if (running) return;
  running = true;
  connect();
}

// stop - close the stream (on log out)
export function stop() {
  running = false;
  stopPolling();
  if (ctrl) ctrl.abort();
  ctrl = null;
  setState("off");
}

async function connect() {
  while (running) {
    ctrl = new AbortController();
    let opened = false;
    try {
      const res = await fetch("/api/events", {
        headers: Object.assign({ Accept: "text/event-stream" }, authHeaders()),
        cache: "no-store", credentials: "omit", signal: ctrl.signal,
      });
      if (!res.ok || !res.body) throw Object.assign(new Error("HTTP " + res.status), { status: res.status });
      opened = true;
      backoff = 1000;
      startPolling(30000);
      setState("live");
      await readStream(res.body.getReader());
    } catch (e) {
      if (!running) return;
      if (e && e.status === 401) { setState("off"); running = false; return; }
    }
    if (!running) return;
    setState("polling");
    startPolling();
    emit("tick", null); /* catch up on what the gap missed */
    const wait = (opened ? 1000 : backoff) * (0.75 + Math.random() / 2);
    backoff = Math.min(backoff * 2, 30000);
    await new Promise((r) => setTimeout(r, wait));
  }
}

async function readStream(reader) {
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let k;
    while ((k = buf.search(/\r?\n\r?\n/)) >= 0) {
      const frame = buf.slice(0, k);
      buf = buf.slice(k + (buf[k] === "\r" ? 4 : 2));
      dispatch(frame);
    }
    if (buf.length > 1 << 20) buf = ""; /* a frame that never ends: drop it */
  }
}

function dispatch(frame) {
  let type = "message", data = [];
  for (const line of frame.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue; /* heartbeat comment */
    const c = line.indexOf(":");
    const name = c < 0 ? line : line.slice(0, c);
    const val = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
    if (name === "event") type = val;
    else if (name === "data") data.push(val);
  }
  if (!data.length) return;
  /* The gateway's first look at the tables since nobody watched: whatever
   * changed while the stream opened is in it, so reload as on a tick. */
  if (type === "resync") { emit("tick", null); return; }
  let parsed = null;
  try { parsed = JSON.parse(data.join("\n")); } catch { parsed = data.join("\n"); }
  emit(type, parsed);
}
