/* Outreach pages: register the service worker, queue status taps and responses made offline
   in IndexedDB, send them when the connection returns (online event, page load, Background
   Sync), and show a "waiting to send" badge. The server makes a replay harmless: a response
   carries its client_key, and repeating a status tap changes nothing. */
(function () {
  "use strict";
  var DB = "cvi-outbox", STORE = "queue", SYNC_URL = "/outreach/sync/";
  var badge = document.getElementById("outbox");

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), result = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && result.result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  var all = function () { return tx("readonly", function (s) { return s.getAll(); }); };
  var put = function (item) { return tx("readwrite", function (s) { s.put(item); }); };
  var del = function (id) { return tx("readwrite", function (s) { s.delete(id); }); };

  function show(count, text) {
    if (!badge) return;
    badge.classList.toggle("done", !!text && text === badge.dataset.sent);
    if (text) { badge.textContent = text; badge.hidden = false; return; }
    badge.hidden = count === 0;
    if (count) badge.textContent = count === 1 ? badge.dataset.one : badge.dataset.many.replace("{n}", count);
  }
  function refresh() { return all().then(function (items) { show(items.length); return items; }); }

  // Send every queued item once; keep it only when the network failed (a 4xx will not get better).
  var flushing = null;
  function flush() {
    if (flushing) return flushing;
    var refused = [];
    flushing = all().then(function (items) {
      var sent = 0;
      return items.reduce(function (p, item) {
        return p.then(function () {
          // This page's token: the one stored with the item is stale after signing in again.
          var token = document.querySelector("[name=csrfmiddlewaretoken]");
          return fetch(SYNC_URL, {
            method: "POST", credentials: "same-origin", redirect: "manual",
            headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : item.csrf },
            body: JSON.stringify(item.body)
          }).then(function (r) {
            if (r.ok) { sent++; return del(item.id); }
            if (r.status === 400 || r.status === 404) {
              // Refused for good (e.g. the follow-up date passed while offline): say so, drop it.
              return r.json().catch(function () { return {}; }).then(function (errors) {
                var first = Object.keys(errors).map(function (k) { return errors[k][0]; })[0] || "";
                refused.push(first);
                return del(item.id);
              });
            }
            // 403 (signed out), a redirect to the login page, 5xx: keep it for the next try.
          }, function () { /* still offline: keep it */ });
        });
      }, Promise.resolve()).then(function () {
        return refresh().then(function (left) {
          if (refused.length && badge) show(0, badge.dataset.refused + " " + refused.join(" "));
          else if (sent && !left.length) show(0, badge && badge.dataset.sent);
        });
      });
    }).catch(function () {}).then(function () { flushing = null; });
    return flushing;
  }

  function formFields(form, submitter) {
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") return;
      if (name in fields) fields[name] = [].concat(fields[name], value); else fields[name] = value;
    });
    if (form.querySelectorAll('[name="response_types"]').length && !Array.isArray(fields.response_types)) {
      fields.response_types = fields.response_types ? [fields.response_types] : [];
    }
    if (submitter && submitter.name) fields[submitter.name] = submitter.value;
    return fields;
  }

  function queue(form, submitter) {
    var fields = formFields(form, submitter), id = fields.client_key || uuid();
    var body = { type: form.dataset.offline, notification: form.dataset.notification, fields: fields,
                 at: new Date().toISOString() };
    return put({ id: id, body: body, csrf: form.querySelector("[name=csrfmiddlewaretoken]").value }).then(function () {
      if (form.dataset.offline === "response") form.reset();
      show(0, badge && badge.dataset.queued);
      if (navigator.serviceWorker && navigator.serviceWorker.ready) {
        navigator.serviceWorker.ready.then(function (reg) { if (reg.sync) return reg.sync.register("cvi-outbox"); })
          .catch(function () {});
      }
      setTimeout(refresh, 2500);
    });
  }

  document.querySelectorAll("form[data-offline]").forEach(function (form) {
    // Each page view gets a fresh key: a form read from the offline cache must not reuse one.
    var key = form.querySelector("[name=client_key]");
    if (key) key.value = uuid();
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) return;  // online: the ordinary form post, with server-rendered errors
      event.preventDefault();
      queue(form, event.submitter).then(function () { if (key) key.value = uuid(); });
    });
  });

  // A form sent back with errors: move focus to the summary so screen readers hear it first.
  var errors = document.getElementById("form-errors");
  if (errors) errors.focus();

  window.addEventListener("online", flush);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (reg) {
      // Keep the newest incidents readable offline.
      var links = Array.prototype.slice.call(document.querySelectorAll(".incident-link"), 0, 8)
        .map(function (a) { return a.getAttribute("href"); });
      if (links.length && navigator.onLine) {
        (reg.active || reg.installing || reg.waiting).postMessage({ type: "cache", urls: links });
      }
    }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (e) { if (e.data === "outbox-flushed") refresh(); });
  }
  refresh().then(function (items) { if (items.length && navigator.onLine) flush(); });

  // Web push: store this browser's subscription as the member's push channel.
  var push = document.getElementById("push");
  if (push && "PushManager" in window && "serviceWorker" in navigator) {
    push.hidden = false;
    var say = function (text) { push.textContent = text; };
    navigator.serviceWorker.ready.then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (sub) {
      if (sub) say(push.dataset.on);
    });
    push.querySelector("button") && push.querySelector("button").addEventListener("click", function () {
      var key = push.dataset.key.replace(/-/g, "+").replace(/_/g, "/");
      var raw = atob(key + "===".slice((key.length + 3) % 4));
      var bytes = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      navigator.serviceWorker.ready.then(function (reg) {
        return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes });
      }).then(function (sub) {
        var csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
        return fetch(push.dataset.url, { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(sub) });
      }).then(function (r) { if (r.ok) say(push.dataset.on); }, function () { say(push.dataset.denied); });
    });
  }
})();
