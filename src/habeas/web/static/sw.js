// The service worker of the officer's phone view: with no connection at all, the day's
// list still opens. It keeps the pages' own assets (cache first, refreshed when online)
// and the last /today page this phone loaded (network first; the copy only when the
// network fails). Nothing else is kept, no request is answered that is not a GET of this
// server, and the kept page is dropped whenever the sign-in page is reached: at sign-out,
// when a session ends, before another account signs in. Outcomes are not kept here but in
// IndexedDB by officer.js, until the server confirms them.
"use strict";
const ASSETS = "habeas-assets-v1";
const PAGES = "habeas-pages";
const PRECACHE = [
  "/static/app.css",
  "/static/csrf.js",
  "/static/officer.js",
  "/static/vendor/htmx.min.js",
  "/static/vendor/idb.umd.js",
];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(ASSETS).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith("habeas-assets-") && k !== ASSETS).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()));
});

function keep(cacheName, key, response) {
  if (response.ok && !response.redirected && response.type === "basic") {
    const copy = response.clone();
    caches.open(cacheName).then((c) => c.put(key, copy));
  }
  return response;
}

self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/login") {
    e.waitUntil(caches.delete(PAGES));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    e.respondWith(
      fetch(req).then((r) => keep(ASSETS, req, r)).catch(() =>
        caches.match(req).then((hit) => hit || Response.error())));
    return;
  }
  if (url.pathname === "/today" && req.mode === "navigate") {
    e.respondWith(
      fetch(req).then((r) => keep(PAGES, "/today", r)).catch(() =>
        caches.open(PAGES).then((c) => c.match("/today", { ignoreVary: true })).then((hit) => hit || new Response(
          "<!doctype html><meta charset=utf-8><title>Offline</title><p>No connection, and no " +
          "copy of today's list on this phone: it is kept after the list has been opened once " +
          "while online.</p>",
          { status: 503, headers: { "content-type": "text/html; charset=utf-8" } }))));
  }
});
