// Helpers every workbench page uses: the signed-in token, calls to the /v1 API, form errors next
// to their fields, number formats, small tables and Chart.js charts. Pages keep their own logic in
// the script at the end of their template.
"use strict";

const CT = (() => {
  const TOKEN = "comptune.token", ME = "comptune.me";

  function token() { return sessionStorage.getItem(TOKEN); }

  function signOut(reason) {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(ME);
    const query = new URLSearchParams();
    if (reason) query.set("reason", reason);
    if (location.pathname !== "/signin") query.set("next", location.pathname + location.search);
    location.assign("/signin?" + query.toString());
  }

  // Calls the API; resolves to {ok, status, data}. A 401 (expired or revoked token) ends the
  // session and goes back to sign-in with the service's reason.
  async function api(path, { method = "GET", json, body, contentType, signOutOn401 = true } = {}) {
    const headers = { "Accept": "application/json" };
    if (token()) headers["Authorization"] = "Bearer " + token();
    if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    else if (contentType) headers["Content-Type"] = contentType;
    let response;
    try {
      response = await fetch(path, { method, headers, body });
    } catch (err) {
      return { ok: false, status: 0, data: { detail: "the service did not answer: " + err.message, errors: [] } };
    }
    let data = null;
    const type = response.headers.get("content-type") || "";
    data = type.includes("json") ? await response.json() : await response.text();
    if (response.status === 401 && signOutOn401) {
      signOut((data && data.detail) || "your token is no longer valid");
      return new Promise(() => {});  // the page is being left
    }
    return { ok: response.ok, status: response.status, data };
  }

  // The signed-in token's name and role ({name, role, sees_pay}); redirects to sign-in without one.
  async function me() {
    if (!token()) { signOut(null); return new Promise(() => {}); }
    const cached = sessionStorage.getItem(ME);
    if (cached) return JSON.parse(cached);
    const response = await api("/v1/me");
    if (!response.ok) { pageError(response); return null; }
    sessionStorage.setItem(ME, JSON.stringify(response.data));
    return response.data;
  }

  const RANK = { viewer: 0, analyst: 1, approver: 2, admin: 3 };
  function has(who, role) { return who && RANK[who.role] >= RANK[role]; }

  // Puts each error of a 4xx answer next to the field it names (an element with data-error-for
  // equal to the field's key path), the rest in the form's .form-error box.
  function showErrors(form, response) {
    clearErrors(form);
    const data = response.data || {};
    const errors = Array.isArray(data.errors) ? data.errors : [];
    const general = [];
    for (const error of errors) {
      const slot = error.field && findSlot(form, error.field);
      if (slot) slot.textContent = (slot.textContent ? slot.textContent + "; " : "") + error.message;
      else general.push((error.field ? error.field + ": " : "") + error.message);
    }
    if (!errors.length || general.length) {
      const box = form.querySelector(".form-error");
      if (box) box.textContent = general.length ? general.join("\n") : (data.detail || ("error " + response.status));
    }
  }

  function findSlot(form, field) {
    // exact key path first, then its leading parts (adjustments[0].periods.from → adjustments[0].periods)
    let path = field;
    while (path) {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(path)}"]`);
      if (slot) return slot;
      const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
      path = cut > 0 ? path.slice(0, cut) : "";
    }
    return null;
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error, .form-error").forEach(el => { el.textContent = ""; });
  }

  function pageError(response) {
    const box = document.getElementById("page-error");
    if (box) box.textContent = (response.data && response.data.detail) || ("error " + response.status);
  }

  const fmt = {
    money(x, currency) {
      if (x === null || x === undefined) return "—";
      return Number(x).toLocaleString("en", { maximumFractionDigits: 0 }) + (currency ? " " + currency : "");
    },
    num(x, digits = 2) {
      if (x === null || x === undefined || x === "") return "—";
      return Number(x).toLocaleString("en", { maximumFractionDigits: digits });
    },
    pct(x, digits = 1) {
      if (x === null || x === undefined) return "—";
      return (100 * Number(x)).toFixed(digits) + " %";
    },
    time(iso) { return iso ? new Date(iso).toLocaleString("en-GB", { timeZone: "UTC" }) + " UTC" : "—"; },
  };

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // columns: [{key, label, num?, format?(value, row)}]
  function table(columns, rows) {
    return el("table", {},
      el("thead", {}, el("tr", {}, columns.map(c => el("th", { class: c.num ? "num" : null }, c.label)))),
      el("tbody", {}, rows.map(row => el("tr", {}, columns.map(c => {
        const value = c.format ? c.format(row[c.key], row) : row[c.key];
        return el("td", { class: c.num ? "num" : null }, value === null || value === undefined ? "—" : value);
      })))));
  }

  function fill(id, ...children) {
    const node = typeof id === "string" ? document.getElementById(id) : id;
    node.replaceChildren(...children.flat());
    return node;
  }

  // Replaces a chart or section by a sentence saying why it is empty (the box shrinks to the text).
  function notAvailable(id, text = "not available for this review") {
    const node = fill(id, el("p", { class: "na" }, text));
    node.classList.add("empty");
    return node;
  }

  const charts = {};
  // Draws (or redraws) a Chart.js chart into the element with this id (a div gets a canvas).
  function chart(id, config) {
    if (charts[id]) charts[id].destroy();
    const holder = document.getElementById(id);
    holder.classList.remove("empty");
    holder.replaceChildren(el("canvas", { "aria-label": id, role: "img" }));
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts[id] = new Chart(holder.querySelector("canvas"), config);
    return charts[id];
  }

  const PLAN_COLORS = ["#1f6feb", "#8a99a8", "#d97706", "#2e7d32", "#8e24aa", "#c62828"];

  // Downloads an API file (e.g. a CSV) with the bearer token.
  async function download(path, filename) {
    const response = await fetch(path, { headers: { "Authorization": "Bearer " + token(), "Accept": "text/csv" } });
    if (response.status === 401) { signOut("your token is no longer valid"); return; }
    if (!response.ok) { pageError({ status: response.status, data: await response.json() }); return; }
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: filename });
    document.body.append(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === null || value === undefined || value === "" || value === false) continue;
      if (Array.isArray(value)) value.forEach(v => q.append(key, v));
      else q.set(key, value);
    }
    const text = q.toString();
    return text ? "?" + text : "";
  }

  // Fills the header's "signed in as" and runs the page's start function with the token's identity.
  async function start(run) {
    const who = await me();
    if (!who) return;
    const box = document.getElementById("who");
    if (box) fill(box, el("span", { id: "who-name" }, `${who.name} · ${who.role}`),
                  el("button", { type: "button", onclick: () => signOut(null) }, "Sign out"));
    await run(who);
  }

  return { token, signOut, api, me, has, showErrors, clearErrors, pageError, fmt, el, table, fill, notAvailable,
           chart, PLAN_COLORS, download, query, start, TOKEN, ME };
})();
