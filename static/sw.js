/* CVI Portal service worker (served at /sw.js, scope /).
   - Outreach pages: network first, the last good copy when offline (the feed and incidents
     read offline); a page never opened falls back to the offline page.
   - Static files: cache first.
   - Background Sync "cvi-outbox": sends the queue the pages keep in IndexedDB.
   Logging out (landing on the login page) empties the page cache. */
"use strict";
var VERSION = "v3", PAGES = "cvi-pages-" + VERSION, STATIC = "cvi-static-" + VERSION;
var OFFLINE = "/outreach/offline/";
var PAGE_PATHS = [/^\/$/, /^\/feed\/$/, /^\/n\/[0-9a-f-]{36}\/(respond\/)?$/, /^\/follow-ups\/$/, /^\/outreach\/offline\/$/];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(PAGES).then(function (c) {
    return Promise.all(["/feed/", OFFLINE].map(function (u) {
      return fetch(u, { credentials: "same-origin" }).then(function (r) {
        if (r.ok && !r.redirected) return c.put(u, r);
      }).catch(function () {});
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== PAGES && k !== STATIC; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isPage(url) { return PAGE_PATHS.some(function (re) { return re.test(url.pathname); }); }

self.addEventListener("fetch", function (event) {
  var req = event.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(STATIC).then(function (c) {
      return c.match(req).then(function (hit) {
        return hit || fetch(req).then(function (r) { if (r.ok) c.put(req, r.clone()); return r; });
      });
    }));
    return;
  }
  if (req.mode === "navigate" && url.pathname.indexOf("/accounts/login") === 0) {
    caches.delete(PAGES);  // signed out (or about to sign in as someone else): forget their pages
    return;
  }
  if (req.mode !== "navigate" || !isPage(url)) return;
  event.respondWith(fetch(req).then(function (r) {
    if (r.redirected && new URL(r.url).pathname.indexOf("/accounts/login") === 0) {
      caches.delete(PAGES);
    } else if (r.ok) {
      var copy = r.clone();
      caches.open(PAGES).then(function (c) { c.put(url.pathname, copy); });
    }
    return r;
  }, function () {
    return caches.open(PAGES).then(function (c) {
      return c.match(url.pathname).then(function (hit) { return hit || c.match(OFFLINE); });
    }).then(function (hit) { return hit || new Response("Offline", { status: 503 }); });
  }));
});

// The feed asks for its newest incidents to be kept for reading offline.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "cache" || !Array.isArray(data.urls)) return;
  event.waitUntil(caches.open(PAGES).then(function (c) {
    return Promise.all(data.urls.slice(0, 8).filter(function (u) { return isPage(new URL(u, self.location.origin)); })
      .map(function (u) {
        return fetch(u, { credentials: "same-origin" }).then(function (r) {
          if (r.ok && !r.redirected) return c.put(u, r);
        }).catch(function () {});
      }));
  }));
});

// Background Sync: the same queue and endpoint as the page's own sender.
function openQueue() {
  return new Promise(function (resolve, reject) {
    var req = indexedDB.open("cvi-outbox", 1);
    req.onupgradeneeded = function () { req.result.createObjectStore("queue", { keyPath: "id" }); };
    req.onsuccess = function () { resolve(req.result); };
    req.onerror = function () { reject(req.error); };
  });
}
function flushQueue() {
  return openQueue().then(function (db) {
    return new Promise(function (resolve) {
      var r = db.transaction("queue").objectStore("queue").getAll();
      r.onsuccess = function () { resolve({ db: db, items: r.result }); };
    });
  }).then(function (s) {
    return Promise.all(s.items.map(function (item) {
      return fetch("/outreach/sync/", { method: "POST", credentials: "same-origin", redirect: "manual",
        headers: { "Content-Type": "application/json", "X-CSRFToken": item.csrf }, body: JSON.stringify(item.body)
      }).then(function (r) {
        // Sent, or refused for good (the page reports refusals when it sends them itself).
        if (r.ok || r.status === 400 || r.status === 404) {
          s.db.transaction("queue", "readwrite").objectStore("queue").delete(item.id);
        }
      });
    }));
  }).then(function () {
    return self.clients.matchAll().then(function (cs) { cs.forEach(function (c) { c.postMessage("outbox-flushed"); }); });
  });
}
self.addEventListener("sync", function (event) { if (event.tag === "cvi-outbox") event.waitUntil(flushQueue()); });

// Web push: the message comes from the delivery side; show it and open the incident on tap.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { body: event.data && event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || "CVI Portal", {
    body: data.body || "", tag: data.tag || "cvi", data: { url: data.url || "/feed/" },
    icon: "/static/icons/icon-192.png", badge: "/static/icons/icon-192.png", requireInteraction: true
  }));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data && event.notification.data.url || "/feed/"));
});
