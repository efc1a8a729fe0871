// Keeps a server-rendered fragment fresh (the incident page, the district board): fetch it every
// few seconds and swap it in when it changed (the poll sends the last ETag; the server answers
// 304 without a body when nothing changed). Pauses while the tab is hidden; says so when the
// server cannot be reached.
(function () {
  "use strict";
  const target = document.querySelector("[data-live-url]");
  if (!target) return;
  const url = target.dataset.liveUrl;
  const every = (parseFloat(target.dataset.pollSeconds) || 2.5) * 1000;
  const indicator = document.querySelector("[data-live-status]");
  let last = target.innerHTML;
  let etag = null;  // the ETag of the fragment shown, once a poll has fetched it
  let timer = null;
  let inFlight = false;

  // The words come from the indicator's data- attributes, in the page's language.
  const words = Object.assign({ live: "Live", signedOut: "Signed out", reconnecting: "Reconnecting…" },
                              indicator ? indicator.dataset : {});

  function mark(text, state) {
    if (!indicator) return;
    indicator.textContent = text;
    indicator.dataset.state = state;
  }

  async function refresh() {
    timer = null;
    if (inFlight) return;
    inFlight = true;
    try {
      const headers = { "X-Requested-With": "fetch" };
      if (etag) headers["If-None-Match"] = etag;  // unchanged: the server answers 304, no body
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store", headers: headers });
      if (response.redirected || response.status === 403 || response.status === 401) {
        mark(words.signedOut, "error");
        inFlight = false;
        return;  // stop polling: reloading would show the login page
      }
      if (response.status !== 304) {
        if (!response.ok) throw new Error(String(response.status));
        const html = await response.text();
        if (html !== last) {
          target.innerHTML = html;
          last = html;
        }
        etag = response.headers.get("ETag");
      }
      const now = new Date();
      mark(`${words.live} · ${now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: "America/Chicago" })}`, "ok");
    } catch (error) {
      mark(words.reconnecting, "error");
    }
    inFlight = false;
    schedule();
  }

  function schedule() {
    if (timer === null && !document.hidden) timer = setTimeout(refresh, every);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && timer === null) refresh();
  });
  mark(words.live, "ok");
  // The CPD home page embeds an empty board and fills it at once.
  if (target.hasAttribute("data-load-now")) refresh(); else schedule();
})();
