// sw.js - the console's service worker: the shell's files only.
//
// It keeps a copy of the few static files so the console opens without a
// connection; online, the network comes first.  It never touches /api/* or
// /metrics: data is always asked of the gateway, never served from here.

const CACHE = "clubos-shell-v1";
const SHELL = ["/", "/app.js", "/api.js", "/dom.js", "/diff.js", "/chart.js", "/live.js",
  "/views.js", "/views2.js", "/style.css", "/manifest.webmanifest", "/icon.svg"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin || !SHELL.includes(url.pathname))
    return; /* the network, untouched: every API call */
  /* Network first (the gateway revalidates with ETags), the cache when offline. */
  e.respondWith(fetch(e.request)
    .then((res) => {
      if (res.ok) { const copy = res.clone(); caches.open(CACHE).then((c) => c.put(e.request, copy)); }
      return res;
    })
    .catch(() => caches.match(e.request).then((hit) => hit || Response.error())));
});
