// api.js - the console's one way to the gateway.
//
// The token lives in memory and sessionStorage (gone with the tab) and
// travels only in the Authorization header: never in a URL, never logged.

const KEY = "clubos.session";
let session = null;
try { session = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { session = null; }

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || ("HTTP " + status));
    this.status = status;
    this.code = code || "";
  }
}

// current - {token, role, email, expires_at} or null
export function current() {
  if (session && session.expires_at && Date.parse(session.expires_at) < Date.now()) logout();
  return session;
}

// myId - the signed-in user's id, read from the token's claims (for
// display and "assign to me"; the server checks the token, not this)
export function myId() {
  try {
    const part = session.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return Number(JSON.parse(atob(part + "===".slice((part.length + 3) % 4))).sub) || null;
  } catch { return null; }
}

// logout - forget the token
export function logout() {
  session = null;
  sessionStorage.removeItem(KEY);
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

// authHeaders - the Authorization header for a fetch of our own
export function authHeaders() {
  return session ? { Authorization: "Bearer " + session.token } : {};
}

// api - call the gateway; resolves to the JSON body, throws ApiError
export async function api(method, path, body) {
  const headers = Object.assign({ Accept: "application/json" }, authHeaders());
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method, headers, cache: "no-store", credentials: "omit",
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, "network", "the gateway could not be reached");
  }
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    if (res.status === 401 && session) onUnauthorized();
    throw new ApiError(res.status, err.code, err.message || res.statusText);
  }
  return data;
}

// login - ask for a token; keeps it for this tab
export async function login(email, password) {
  const d = await api("POST", "/api/auth/login", { email, password });
  session = { token: d.token, role: d.role, email, expires_at: d.expires_at };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}
