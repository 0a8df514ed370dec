// The officer's phone view: each outcome is kept in IndexedDB (an outbox) the moment it is
// saved, with a UUID made here, and sent until the server confirms it. The server answers
// a second submission of a UUID with the first result, so a resend after a lost answer
// never records a second effect. A refusal (a cancelled assignment, a gate) is shown with
// its reason and kept, never resent. Sign-out warns while outcomes are waiting.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  if (!$("items")) return;
  const dbp = idb.openDB("habeas-field", 1, {
    upgrade(db) {
      db.createObjectStore("outbox", { keyPath: "uuid" });
      db.createObjectStore("done", { keyPath: "uuid" });
    },
  });
  let sending = false;

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function withOffset(local) {
    // the form's local time with this device's UTC offset: the server refuses a moment
    // without its zone, and one ahead of its clock
    const d = new Date(local);
    const m = -d.getTimezoneOffset();
    const sign = m >= 0 ? "+" : "-";
    const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
    return local + ":00" + sign + pad(m / 60) + ":" + pad(m % 60);
  }

  function localNow() {
    const d = new Date();
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 16);
  }

  function card(id) { return document.querySelector('[data-assignment="' + id + '"].item'); }

  function say(id, msg, cls) {
    const c = card(id);
    if (!c) return;
    const r = c.querySelector('[data-role="result"]');
    r.textContent = msg;
    r.className = "result " + (cls || "");
  }

  async function refreshPending() {
    const db = await dbp;
    const items = await db.getAll("outbox");
    $("pending-count").textContent = String(items.length);
    const ul = $("pending-list");
    ul.replaceChildren();
    for (const o of items) {
      const li = document.createElement("li");
      li.textContent = "assignment " + o.body.assignment_id + ": " + o.body.outcome.replace(/_/g, " ") +
        " at " + o.body.occurred_at.replace("T", " ") + (o.error ? " — not sent yet: " + o.error : " — waiting");
      ul.append(li);
    }
    document.body.dataset.pending = String(items.length);
    return items.length;
  }

  async function flush() {
    if (sending) return;
    sending = true;
    try {
      const db = await dbp;
      for (const o of await db.getAll("outbox")) {
        let r;
        try {
          r = await window.habeasFetch("/field/outcomes", { method: "POST", json: o.body });
        } catch (_) {
          o.error = "no connection";
          await db.put("outbox", o);
          break;  // offline: try again later
        }
        $("last-sync").textContent = new Date().toLocaleTimeString();
        localStorage.setItem("habeas-last-sync", $("last-sync").textContent);
        if (r.ok) {
          const out = await r.json();
          await db.delete("outbox", o.uuid);
          await db.put("done", { uuid: o.uuid, body: o.body, result: out });
          say(o.body.assignment_id, "Recorded: " + out.effect, "ok");
          markDone(o.body.assignment_id, o.body.subject);
        } else if (r.status >= 500 || r.status === 401 || r.status === 429) {
          o.error = r.status === 401 ? "signed out: sign in again to send" : "server busy (" + r.status + ")";
          await db.put("outbox", o);
          break;
        } else {
          const why = await window.habeasProblem(r);
          await db.delete("outbox", o.uuid);
          await db.put("done", { uuid: o.uuid, refused: why });
          say(o.body.assignment_id, "Refused, not recorded: " + why, "refusal");
        }
      }
    } finally {
      sending = false;
      await refreshPending();
    }
  }

  function markDone(id, subject) {
    const c = card(id);
    if (!c || !subject) return;
    c.dataset.status = "done";
    c.classList.remove("open");
    c.classList.add("done");
    const f = c.querySelector("form.outcome");
    if (f) f.remove();
  }

  document.querySelectorAll("form.outcome").forEach((f) => {
    f.occurred_at.value = localNow();
    const other = f.querySelector('[name="not_subject"]');
    other.addEventListener("change", () => {
      for (const r of f.querySelectorAll('[name="outcome"]')) {
        r.disabled = other.checked;
        r.required = !other.checked;
      }
    });
    f.addEventListener("submit", async (e) => {
      e.preventDefault();
      const subject = !other.checked;
      const picked = f.querySelector('[name="outcome"]:checked');
      const body = {
        uuid: uuid4(),
        assignment_id: Number(f.dataset.assignment),
        outcome: subject ? (picked ? picked.value : "") : "not_subject",
        subject,
        occurred_at: withOffset(f.occurred_at.value),
        place: f.place.value,
        notes: f.notes.value,
      };
      const db = await dbp;
      await db.put("outbox", { uuid: body.uuid, body, saved: Date.now() });
      say(body.assignment_id, "Saved on this phone; sending…", "pending");
      if (subject) f.querySelector("button[type=submit]").disabled = true;
      else f.reset();
      await refreshPending();
      flush();
    });
  });

  async function refreshStatus() {
    let r;
    try {
      r = await window.habeasFetch("/field/today");
    } catch (_) {
      showCopy(true);  // a fetch fails only when the server cannot be reached
      return;
    }
    if (!r.ok) return;
    showCopy(false);
    $("last-sync").textContent = new Date().toLocaleTimeString();
    const view = await r.json();
    for (const i of view.items) {
      const c = card(i.id);
      if (!c || c.dataset.status === i.status) continue;
      c.dataset.status = i.status;
      c.className = "item " + i.status;
      const s = c.querySelector('[data-role="status"]');
      s.replaceChildren();
      const b = document.createElement("strong");
      b.textContent = i.status === "cancelled" ? "Cancelled" : i.status === "done" ? "Done" : "Open";
      s.append(b, document.createTextNode(i.reason ? ": " + i.reason : ""));
      if (i.status !== "open") { const f = c.querySelector("form.outcome"); if (f) f.remove(); }
    }
  }

  // the list as this phone last loaded it, when the server cannot be reached
  function showCopy(offline) {
    const banner = $("offline-copy");
    if (!banner) return;
    banner.hidden = !offline;
    document.body.dataset.copy = offline ? "offline" : "live";
  }

  // keep the assets and this list on the phone, so that it opens with no connection
  async function keepForOffline() {
    if (!("serviceWorker" in navigator) || !window.caches) return;
    try {
      await navigator.serviceWorker.register("/sw.js");
      await navigator.serviceWorker.ready;
      if (navigator.onLine && document.body.dataset.copy !== "offline") {
        const c = await caches.open("habeas-pages");
        await c.add("/today");
      }
      document.body.dataset.kept = "1";
    } catch (_) {
      document.body.dataset.kept = "0";  // private mode, or no secure context: online only
    }
  }

  function onlineState() { $("online").textContent = navigator.onLine ? "online" : "offline"; }
  window.addEventListener("online", () => { onlineState(); flush(); refreshStatus(); });
  window.addEventListener("offline", onlineState);
  $("send-now").addEventListener("click", () => flush());
  const out = $("signout");
  if (out) out.addEventListener("submit", async (e) => {
    if (out.dataset.confirmed) return;
    e.preventDefault();
    const n = await refreshPending();
    if (n === 0 || window.confirm(n + " outcome(s) are not sent yet. They stay on this phone, but nobody sees them until you sign in again and send them. Sign out anyway?")) {
      out.dataset.confirmed = "1";
      if (window.caches) await caches.delete("habeas-pages");  // the day's list leaves with you
      out.submit();
    }
  });
  $("last-sync").textContent = localStorage.getItem("habeas-last-sync") || "never";
  onlineState();
  refreshPending().then(flush);
  refreshStatus().then(keepForOffline);
  setInterval(flush, 20000);
  setInterval(refreshStatus, 30000);
  document.body.dataset.ready = "1";
})();
