// Every htmx request and every fetch the pages make carries the CSRF token (the
// habeas_csrf cookie's value) in X-CSRF-Token; the server refuses a write without it.
"use strict";
window.habeasCsrf = function () {
  const m = document.cookie.match(/(?:^|; )habeas_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
};
document.addEventListener("htmx:configRequest", function (e) {
  e.detail.headers["X-CSRF-Token"] = window.habeasCsrf();
});
window.habeasFetch = function (url, options) {
  const o = Object.assign({ credentials: "same-origin" }, options || {});
  o.headers = Object.assign({ "X-CSRF-Token": window.habeasCsrf() }, o.headers || {});
  if (o.json !== undefined) {
    o.body = JSON.stringify(o.json);
    o.headers["Content-Type"] = "application/json";
    delete o.json;
  }
  return fetch(url, o);
};
window.habeasProblem = async function (response) {
  try {
    const p = await response.json();
    if (p.reasons && p.reasons.length) return p.detail + " — " + p.reasons.join("; ");
    if (p.errors && p.errors.length) return p.errors.map((x) => x.message || JSON.stringify(x)).join("; ");
    return p.detail || p.title || response.statusText;
  } catch (_) {
    return response.status + " " + response.statusText;
  }
};
