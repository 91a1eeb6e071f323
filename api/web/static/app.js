// Building blocks every workbench page uses (each page's own logic is in static/pages/<page>.js):
// the signed-in token and calls to the /v1 API; form errors next to their fields; number formats;
// names for ids (CT.names: reps, markets, products, components in words, people); pay visibility
// (CT.pay); tables that sort and filter (CT.table); charts that read (CT.bars, CT.chart with values
// on the bars, CT.payoutCurve); figures, confirmation dialogs and downloads. Nothing here writes
// HTML from strings: every text is set as text, so a stored name cannot inject markup.
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
    const type = response.headers.get("content-type") || "";
    let data = type.includes("json") ? await response.json() : await response.text();
    if (typeof data === "string") data = { detail: data || `error ${response.status}`, errors: [] };
    if (response.status === 401 && signOutOn401) {
      signOut((data && data.detail) || "your token is no longer valid");
      return new Promise(() => {});  // the page is being left
    }
    return { ok: response.ok, status: response.status, data };
  }

  // Every row of a paged list endpoint ({data, count}), page by page, at most `max` rows.
  async function fetchAll(path, params = {}, { page = 1000, max = 200000 } = {}) {
    const rows = [];
    for (let offset = 0; offset < max;) {
      const response = await api(path + query({ ...params, limit: page, offset }));
      if (!response.ok) return response;
      const data = response.data.data || [];
      rows.push(...data);
      const total = response.data.total ?? response.data.count ?? rows.length;
      offset += data.length;
      if (!data.length || offset >= total) return { ok: true, status: 200, data: { ...response.data, data: rows } };
    }
    return { ok: true, status: 200, data: { data: rows, count: rows.length, truncated: true } };
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
  function has(who, role) { return Boolean(who) && RANK[who.role] >= RANK[role]; }

  // The page's data-* attributes (set by the server on <main>), e.g. CT.pageData("id").
  function pageData(key) { return document.getElementById("main").dataset[key]; }

  // ------------------------------------------------------------------------------------------
  // Forms and errors

  // Puts each error of a 4xx answer next to the field it names (an element with data-error-for
  // equal to the field's key path, or one of its leading parts), the rest in the form's
  // .form-error box — every error at once.
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
    const first = form.querySelector(".field-error:not(:empty), .form-error:not(:empty)");
    if (first) first.closest("label, .form-error, div")?.scrollIntoView({ block: "nearest" });
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
    form.querySelectorAll(".field-error, .form-error").forEach(node => { node.textContent = ""; });
  }

  function pageError(response) {
    const box = document.getElementById("page-error");
    if (box) box.textContent = (response.data && response.data.detail) || ("error " + response.status);
  }

  // ------------------------------------------------------------------------------------------
  // Numbers

  const missing = x => x === null || x === undefined || x === "" || (typeof x === "number" && !Number.isFinite(x));
  const fmt = {
    money(x, currency) {
      if (missing(x)) return "—";
      return Number(x).toLocaleString("en", { maximumFractionDigits: 0 }) + (currency ? " " + currency : "");
    },
    // 36.34 M, 820 k: for sentences and tiles; the exact figure is in the tables and tooltips
    short(x, currency) {
      if (missing(x)) return "—";
      const v = Number(x), a = Math.abs(v);
      const text = a >= 1e6 ? (v / 1e6).toLocaleString("en", { maximumFractionDigits: a >= 1e8 ? 0 : 2 }) + " M"
        : a >= 1e4 ? (v / 1e3).toLocaleString("en", { maximumFractionDigits: 0 }) + " k"
        : v.toLocaleString("en", { maximumFractionDigits: 0 });
      return text + (currency ? " " + currency : "");
    },
    signed(text, x) { return (Number(x) > 0 ? "+" : (Number(x) < 0 ? "−" : "±")) + text.replace(/^-/, ""); },
    signedMoney(x, currency) { return missing(x) ? "—" : fmt.signed(fmt.money(Math.abs(x), currency), x); },
    signedShort(x, currency) { return missing(x) ? "—" : fmt.signed(fmt.short(Math.abs(x), currency), x); },
    num(x, digits = 2) {
      if (missing(x)) return "—";
      return Number(x).toLocaleString("en", { maximumFractionDigits: digits });
    },
    pct(x, digits = 1) {
      if (missing(x)) return "—";
      return (100 * Number(x)).toFixed(digits).replace(/^-/, "−") + " %";
    },
    signedPct(x, digits = 1) { return missing(x) ? "—" : fmt.signed((100 * Math.abs(x)).toFixed(digits) + " %", x); },
    pts(x, digits = 1) { return missing(x) ? "—" : fmt.signed((100 * Math.abs(x)).toFixed(digits) + " pts", x); },
    time(iso) { return iso ? new Date(iso).toLocaleString("en-GB", { timeZone: "UTC" }) + " UTC" : "—"; },
    day(iso) { return iso ? new Date(iso).toLocaleDateString("en-GB", { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" }) : "—"; },
    ago(iso) {
      if (!iso) return "—";
      const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
      if (s < 90) return `${Math.round(s)} s ago`;
      if (s < 5400) return `${Math.round(s / 60)} min ago`;
      if (s < 129600) return `${Math.round(s / 3600)} h ago`;
      return fmt.day(iso);
    },
    plural(n, one, many) { return `${fmt.num(n, 0)} ${n === 1 ? one : (many || one + "s")}`; },
    list(items) {
      const xs = items.filter(Boolean);
      return xs.length <= 1 ? (xs[0] || "") : xs.slice(0, -1).join(", ") + " and " + xs[xs.length - 1];
    },
  };

  // ------------------------------------------------------------------------------------------
  // Elements

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function fill(id, ...children) {
    const node = typeof id === "string" ? document.getElementById(id) : id;
    node.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined && c !== false));
    return node;
  }

  // Replaces a chart or section by a sentence saying why it is empty (the box shrinks to the text).
  function notAvailable(id, text = "not available for this review") {
    const node = fill(id, el("p", { class: "na" }, text));
    node.classList.add("empty");
    return node;
  }

  // A headline figure: value, label and an optional note under it (tone: good, bad, neutral).
  function figure(value, label, { id, tone, note, title } = {}) {
    return el("div", { class: "figure" + (tone ? " " + tone : ""), id, title },
      el("div", { class: "value" }, value), el("div", { class: "label" }, label),
      note ? el("div", { class: "note" }, note) : null);
  }

  // A modal confirmation (a native <dialog>, keyboard and screen-reader friendly): resolves to
  // true when the user confirms.
  function confirm({ title, body = [], ok = "Confirm", cancel = "Cancel", danger = false }) {
    return new Promise(resolve => {
      const dialog = el("dialog", { class: "confirm", "aria-labelledby": "confirm-title" },
        el("h2", { id: "confirm-title" }, title), ...[].concat(body).map(p => typeof p === "string" ? el("p", {}, p) : p),
        el("div", { class: "row" },
          el("button", { type: "button", class: danger ? "danger" : "primary", id: "confirm-ok" }, ok),
          el("button", { type: "button", id: "confirm-cancel" }, cancel)));
      const done = answer => { dialog.close(); dialog.remove(); resolve(answer); };
      dialog.querySelector("#confirm-ok").addEventListener("click", () => done(true));
      dialog.querySelector("#confirm-cancel").addEventListener("click", () => done(false));
      dialog.addEventListener("cancel", event => { event.preventDefault(); done(false); });
      document.body.append(dialog);
      dialog.showModal();
      dialog.querySelector("#confirm-cancel").focus();
    });
  }

  // The engine's sentences in the words of the people who decide (the sentence keeps its figures).
  const GLOSSARY = [[/\bincentive LP\b/g, "the weighting model"], [/\bthe plan LP\b/g, "the most profitable plan"],
    [/\bplan LP\b/g, "most profitable plan"], [/\bmax_weight_change\b/g, "the weight-change limit"],
    [/\bmax_pay_cut\b/g, "the pay-cut limit"], [/\bmax_components\b/g, "the component limit"],
    [/\bcomp_budget_rate\b/g, "the budget rate"], [/\bmin_quota_coverage\b/g, "the quota-coverage rule"],
    [/\bε = [0-9.]+/g, ""], [/\(\s*,\s*/g, "("], [/,\s*\)/g, ")"]];
  function words(text) {
    if (text === null || text === undefined) return text;
    return GLOSSARY.reduce((s, [pattern, replacement]) => s.replace(pattern, replacement), String(text));
  }

  // ------------------------------------------------------------------------------------------
  // Names: every id the API returns, in words (GET /v1/names, once per page)

  let namesPromise = null;
  function names() {
    if (!namesPromise) namesPromise = api("/v1/names").then(r => new Names(r.ok ? r.data : null));
    return namesPromise;
  }

  const PLAN_WORDS = { recommended: "recommended plan", in_force: "keep the plan in force",
                       flat_revenue: "flat revenue commission", gross_margin_share: "equal share of gross margin" };
  const METRIC_UNITS = { revenue: "money", margin: "money", orders: "orders", quotes: "quotes", meetings: "meetings", calls: "calls" };

  class Names {
    constructor(data) {
      this.data = data || { markets: [], products: [], reps: [], components: [], people: [], teams: [], groups: [], periods: [] };
      this.currency = this.data.currency || "";
      this.periods = this.data.periods || [];
      const index = (rows, key = "id") => new Map((rows || []).map(r => [r[key], r]));
      this.markets = index(this.data.markets); this.products = index(this.data.products);
      this.reps = index(this.data.reps); this.people = index(this.data.people, "name");
      this.components = index(this.data.components, "component_id");
    }
    // a review's components (its weight changes carry their label) join the stored plans'
    addComponents(rows) { for (const row of rows || []) if (row.label) this.components.set(row.component_id, row); }
    market(id) { return (this.markets.get(id) || {}).name || id || "—"; }
    product(id) { return (this.products.get(id) || {}).name || id; }
    rep(id) { return (this.reps.get(id) || {}).name || id; }
    repMarket(id) { return (this.reps.get(id) || {}).market_id; }
    team(id) { return id; }
    component(id) {
      if (id === undefined || id === null) return "—";
      return (this.components.get(id) || {}).label || id;
    }
    plan(id) { return PLAN_WORDS[id] || id; }
    // who is behind a token name: "Ana Lopez (analyst)", "the command line"; `plain` leaves out the role
    person(name, plain = false) {
      if (!name) return "—";
      const p = this.people.get(name);
      return p ? p.label + (!plain && p.role && p.label === name ? ` (${p.role})` : "") : name;
    }
    // a name with its id on hover (and for screen readers in the title)
    tag(kind, id) {
      if (id === null || id === undefined || id === "") return "—";
      const text = this[kind](id);
      return text === id ? el("span", {}, id) : el("span", { class: "named", title: `id: ${id}` }, text);
    }
    // a product scope (`*`, group:NAME, ids) in words
    scope(products) {
      if (!products || products === "*") return "all products";
      return [].concat(products).map(p => String(p).startsWith("group:") ? `${p.slice(6)} products` : this.product(p)).join(", ");
    }
  }

  // ------------------------------------------------------------------------------------------
  // Pay: what the role may see (the API withholds pay figures from viewer and analyst)

  const pay = {
    visible(who) { return Boolean(who && who.sees_pay); },
    note(who, what = "Pay figures") { return `${what} are shown to approver and admin only (you are ${who ? who.role : "signed out"}).`; },
    // a placeholder paragraph where a pay figure would be
    withheld(who, what) { return el("p", { class: "na withheld" }, pay.note(who, what)); },
  };

  // ------------------------------------------------------------------------------------------
  // Tables: columns [{key, label, num?, format?(value, row), sort?(row), title?}], rows.
  // Options: sortable (click or Enter on a header; aria-sort says the order), filter (a search
  // box over the shown text, with a count), caption, id, pageSize (rows shown before "show all").

  function table(columns, rows, { sortable = false, filter = false, caption, id, pageSize = 0, empty = "No rows.", rowClass } = {}) {
    const wrap = el("div", { class: "table-wrap", id });
    let order = { key: null, dir: 1 }, needle = "", showAll = !pageSize;
    const text = (c, row) => {
      const v = c.format ? c.format(row[c.key], row) : row[c.key];
      return v instanceof Node ? v.textContent : (v === null || v === undefined ? "" : String(v));
    };
    const sortValue = (c, row) => c.sort ? c.sort(row) : (typeof row[c.key] === "number" ? row[c.key] : text(c, row).toLowerCase());
    const counter = el("span", { class: "muted table-count", "aria-live": "polite" });
    const body = el("tbody");
    const headers = columns.map(c => {
      const th = el("th", { class: [c.num ? "num" : "", c.wide ? "wide" : ""].join(" ").trim() || null, scope: "col", title: c.title });
      if (sortable && c.sortable !== false) {
        th.setAttribute("aria-sort", "none");
        th.append(el("button", { type: "button", class: "sort", onclick: () => {
          order = { key: c.key, dir: order.key === c.key ? -order.dir : (c.num ? -1 : 1) };
          headers.forEach(h => h.setAttribute("aria-sort", "none"));
          th.setAttribute("aria-sort", order.dir > 0 ? "ascending" : "descending");
          draw();
        } }, c.label));
      } else th.append(c.label);
      return th;
    });
    function draw() {
      let shown = rows;
      if (needle) shown = shown.filter(row => columns.some(c => text(c, row).toLowerCase().includes(needle)));
      if (order.key !== null) {
        const c = columns.find(x => x.key === order.key);
        shown = shown.slice().sort((a, b) => {
          const x = sortValue(c, a), y = sortValue(c, b);
          if (x === y) return 0;
          if (x === null || x === undefined || x === "") return 1;
          if (y === null || y === undefined || y === "") return -1;
          return (x < y ? -1 : 1) * order.dir;
        });
      }
      const limited = showAll ? shown : shown.slice(0, pageSize);
      body.replaceChildren(...limited.map(row => el("tr", { class: rowClass ? rowClass(row) : null }, columns.map(c => {
        const value = c.format ? c.format(row[c.key], row) : row[c.key];
        return el("td", { class: [c.num ? "num" : "", c.wide ? "wide" : ""].join(" ").trim() || null, "data-label": c.label }, value === null || value === undefined || value === "" ? "—" : value);
      }))));
      if (!limited.length) body.append(el("tr", {}, el("td", { colspan: columns.length, class: "na" }, empty)));
      const what = needle ? `${shown.length} of ${fmt.plural(rows.length, "row")} match` : fmt.plural(rows.length, "row");
      const cut = !showAll && shown.length > pageSize;
      fill(counter, cut ? `the first ${pageSize} of ${what} · ` : what,
           cut ? el("button", { type: "button", class: "link", onclick: () => { showAll = true; draw(); } }, `show all ${shown.length}`) : null);
    }
    const tableNode = el("table", { class: "stack" }, caption ? el("caption", {}, caption) : null,
      el("thead", {}, el("tr", {}, headers)), body);
    if (filter) {
      const label = typeof filter === "string" ? filter : "Filter";
      wrap.append(el("div", { class: "table-tools" },
        el("label", { class: "inline" }, label + " ", el("input", { type: "search", class: "table-filter", "aria-label": label,
          oninput: event => { needle = event.target.value.trim().toLowerCase(); draw(); } })), counter));
    } else if (pageSize) wrap.append(el("div", { class: "table-tools" }, counter));
    wrap.append(el("div", { class: "scroll" }, tableNode));
    draw();
    return wrap;
  }

  // ------------------------------------------------------------------------------------------
  // Charts (Chart.js 4, vendored). Every chart gets an aria-label that says its values, and bars
  // carry their value at their end (the valueLabels plugin).

  const PLAN_COLORS = ["#1f6feb", "#6b7a8c", "#d97706", "#2e7d32", "#8e24aa", "#c62828", "#00838f", "#5d4037"];
  const GOOD = "#2e7d32", BAD = "#c62828", NEUTRAL = "#6b7a8c";

  // draws each bar's formatted value beside it (options.plugins.valueLabels.format)
  const valueLabels = {
    id: "valueLabels",
    afterDatasetsDraw(chart, args, options) {
      if (!options || !options.format) return;
      const { ctx } = chart;
      const horizontal = chart.options.indexAxis === "y";
      ctx.save();
      ctx.font = "12px system-ui, sans-serif";
      ctx.fillStyle = "#1d2733";
      chart.data.datasets.forEach((dataset, i) => {
        const meta = chart.getDatasetMeta(i);
        if (meta.hidden) return;
        meta.data.forEach((bar, j) => {
          const value = dataset.data[j];
          if (value === null || value === undefined) return;
          const text = options.format(value, j, i);
          if (horizontal) {
            const negative = bar.x < bar.base;
            ctx.textAlign = negative ? "right" : "left";
            ctx.textBaseline = "middle";
            ctx.fillText(text, bar.x + (negative ? -4 : 4), bar.y);
          } else {
            ctx.textAlign = "center";
            ctx.textBaseline = "bottom";
            ctx.fillText(text, bar.x, Math.min(bar.y, bar.base) - 3);
          }
        });
      });
      ctx.restore();
    },
  };

  const charts = {};
  // Draws (or redraws) a Chart.js chart into the element with this id (a div gets a canvas);
  // `describe` is the text a screen reader gets for it.
  function chart(id, config, describe) {
    if (charts[id]) charts[id].destroy();
    const holder = document.getElementById(id);
    holder.classList.remove("empty");
    const canvas = el("canvas", { role: "img", "aria-label": describe || holder.dataset.label || id });
    holder.replaceChildren(canvas);
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    config.plugins = [...(config.plugins || []), valueLabels];
    charts[id] = new Chart(canvas, config);
    return charts[id];
  }

  // An axis range that shows the differences between `values` — from a round number just below
  // them when they are close, from zero otherwise (or with `zero`) — and leaves room beside the
  // bars for their value labels.
  function range(values, { zero = false, room = 0.18 } = {}) {
    const xs = values.filter(v => Number.isFinite(v));
    if (!xs.length) return {};
    let lo = Math.min(...xs), hi = Math.max(...xs);
    const fromZero = zero || lo <= 0 || (hi - lo) / Math.max(Math.abs(hi), 1e-12) > 0.5;
    if (fromZero) { lo = Math.min(0, lo); hi = Math.max(0, hi); }
    else lo -= (hi - lo || Math.abs(hi) * 0.02) * 0.6;
    const span = hi - lo || Math.abs(hi) || 1;
    const raw = span / 5, power = 10 ** Math.floor(Math.log10(raw)), m = raw / power;
    const step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
    const out = { suggestedMax: hi > 0 ? hi + span * room : 0 };
    if (Math.min(...xs) < 0) out.suggestedMin = lo - span * room;
    else out.min = fromZero ? 0 : Math.floor(lo / step) * step;
    return out;
  }

  // Horizontal bars with their values: labels never rotate, long names fit on a phone.
  // rows: [{label, value, color?}]; format(value) for ticks, labels and the description.
  function bars(id, rows, { format = v => fmt.num(v), axis, zero = false, colors, height } = {}) {
    const holder = document.getElementById(id);
    if (height) holder.style.height = `${height}px`;
    else holder.style.height = `${Math.max(120, 44 * rows.length + 50)}px`;
    const values = rows.map(r => r.value);
    const scale = range(values, { zero });
    return chart(id, {
      type: "bar",
      data: { labels: rows.map(r => r.label), datasets: [{ data: values, maxBarThickness: 34,
              backgroundColor: rows.map((r, i) => r.color || (colors || PLAN_COLORS)[i % (colors || PLAN_COLORS).length]) }] },
      options: { indexAxis: "y",
                 plugins: { legend: { display: false }, valueLabels: { format },
                            tooltip: { callbacks: { label: c => format(c.raw) } } },
                 scales: { x: { ...scale, title: axis ? { display: true, text: axis } : undefined,
                                ticks: { callback: v => format(v), maxTicksLimit: 5 } },
                           y: { ticks: { autoSkip: false } } } },
    }, rows.map(r => `${r.label}: ${format(r.value)}`).join("; "));
  }

  // The payout curve over its whole domain: its points, then flat after the last one (the cap),
  // attainment and payout in % of target.
  function payoutCurve(id, curve, { compare, label = "payout", compareLabel = "in force" } = {}) {
    const lastX = Math.max(...[curve, compare].filter(Boolean).map(c => c.length ? 100 * c[c.length - 1].attainment : 0));
    const end = Math.ceil((lastX + 50) / 50) * 50;  // a round attainment past every cap, where the curves run flat
    const extend = points => {
      const xs = points.map(p => ({ x: 100 * p.attainment, y: 100 * p.payout }));
      const last = xs[xs.length - 1] || { x: 0, y: 0 };
      return [...xs, { x: end, y: last.y }];
    };
    const main = extend(curve || []);
    const datasets = [{ label, data: main, borderColor: PLAN_COLORS[0], backgroundColor: PLAN_COLORS[0], tension: 0,
                        pointRadius: main.map((_, i) => i === main.length - 1 ? 0 : 3) }];
    if (compare) {
      const other = extend(compare);
      datasets.push({ label: compareLabel, data: other, borderColor: NEUTRAL, backgroundColor: NEUTRAL, borderDash: [6, 4],
                      tension: 0, pointRadius: other.map((_, i) => i === other.length - 1 ? 0 : 2) });
    }
    const xmax = end;
    const cap = curve && curve.length ? 100 * curve[curve.length - 1].payout : null;
    return chart(id, {
      type: "line",
      data: { datasets },
      options: { parsing: false,
                 plugins: { legend: { display: Boolean(compare) },
                            tooltip: { callbacks: { label: c => `${c.dataset.label}: ${c.raw.y.toFixed(0)} % of target pay at ${c.raw.x.toFixed(0)} % attainment` } } },
                 scales: { x: { type: "linear", min: 0, max: xmax, title: { display: true, text: "attainment (% of target)" },
                                ticks: { callback: v => `${v} %` } },
                           y: { min: 0, title: { display: true, text: "payout (% of target pay)" }, ticks: { callback: v => `${v} %` } } } },
    }, `payout curve: ${(curve || []).map(p => `${(100 * p.attainment).toFixed(0)} % attainment pays ${(100 * p.payout).toFixed(0)} %`).join(", ")}`
       + (cap !== null ? `; flat at ${cap.toFixed(0)} % above` : ""));
  }

  // ------------------------------------------------------------------------------------------
  // Pickers: a list of checkboxes with a search box (markets, products, reps) — the form sends ids,
  // the user reads names. options: [{value, label, hint?}]; `name` is the form key.

  function picker({ name, legend, options, selected = [], errorFor, all = "all" }) {
    const chosen = new Set(selected);
    const count = el("span", { class: "muted small picker-count", "aria-live": "polite" });
    const list = el("div", { class: "picker-list", role: "group", "aria-label": legend });
    const boxes = options.map(o => {
      const box = el("input", { type: "checkbox", value: o.value, "data-picker": name, checked: chosen.has(o.value) || null,
                                onchange: update });
      const row = el("label", { class: "inline pick", title: o.value }, box, o.label, o.hint ? el("span", { class: "muted small" }, o.hint) : null);
      list.append(row);
      return { box, row, text: `${o.label} ${o.value} ${o.hint || ""}`.toLowerCase() };
    });
    function update() {
      const n = boxes.filter(b => b.box.checked).length;
      count.textContent = n ? `${n} chosen` : `none chosen: ${all}`;
    }
    const search = options.length > 8 ? el("input", { type: "search", class: "picker-search", placeholder: "find…", "aria-label": `find in ${legend}`,
      oninput: event => { const q = event.target.value.trim().toLowerCase(); boxes.forEach(b => { b.row.hidden = Boolean(q) && !b.text.includes(q); }); } }) : null;
    update();
    const node = el("fieldset", { class: "picker", "data-picker-name": name }, el("legend", {}, legend), search, list, count,
      el("span", { class: "field-error", "data-error-for": errorFor || name }));
    node.values = () => boxes.filter(b => b.box.checked).map(b => b.box.value);
    node.set = values => { const s = new Set(values); boxes.forEach(b => { b.box.checked = s.has(b.box.value); }); update(); };
    return node;
  }

  // An assumption adjustment (§2) in words: its scope and factors, e.g. "Southern Europe · from
  // 2026-04: demand × 0.5 — “the freeze”".
  const FACTORS = ["demand", "price", "cost", "conversion", "hours"];
  function adjustmentWords(adj, names) {
    const scope = [];
    if (adj.markets) scope.push(adj.markets.map(m => names.market(m)).join(", "));
    if (adj.products) scope.push(names.scope(adj.products));
    if (adj.reps) scope.push(adj.reps.length > 3 ? `${adj.reps.length} reps` : adj.reps.map(r => names.rep(r)).join(", "));
    const p = adj.periods;
    if (Array.isArray(p)) scope.push(p.join(", "));
    else if (p && (p.from || p.to)) scope.push(p.from && p.to ? `${p.from} to ${p.to}` : (p.from ? `from ${p.from}` : `until ${p.to}`));
    const factors = FACTORS.filter(f => adj[f] !== undefined && adj[f] !== null && adj[f] !== 1).map(f => `${f} × ${fmt.num(adj[f], 3)}`);
    return `${scope.length ? scope.join(" · ") : "everywhere"}: ${factors.length ? factors.join(", ") : "no change"}` + (adj.reason ? ` — “${adj.reason}”` : "");
  }

  // A sweep's scenario column ("demand[south]", "price[group:new]") in words.
  function sweepFactorWords(column, names) {
    const match = /^(\w+)\[(.*)\]$/.exec(column);
    if (!match) return column;
    const [, factor, scope] = match;
    const where = scope.split(/[;,]/).map(s => s.trim()).filter(Boolean).map(s => names.markets.has(s) ? names.market(s) : names.scope([s]));
    return `${factor} of ${where.join(", ") || "everything"}`;
  }

  // ------------------------------------------------------------------------------------------
  // Alarms: grouped by market and KPI — the unit a decision is taken on — and ranked by the margin
  // at stake of the group's market-level (or company-level) alarm

  const SEVERITY_RANK = { critical: 0, warning: 1, watch: 2, ok: 3 };
  function alarmGroups(rows) {
    const groups = new Map();
    for (const a of rows) {
      const key = `${a.market_id || "*"}|${a.kpi}`;
      let g = groups.get(key);
      if (!g) groups.set(key, g = { key, market_id: a.market_id, kpi: a.kpi, metric: a.metric, rows: [], head: [] });
      g.rows.push(a);
      if (a.level === "market" || (a.level === "company" && !a.market_id)) g.head.push(a);
    }
    for (const g of groups.values()) {
      const stakes = (g.head.length ? g.head : g.rows).map(a => a.at_stake).filter(v => Number.isFinite(v));
      g.stake = stakes.length ? Math.max(...stakes) : null;
      g.worst = g.rows.reduce((w, a) => SEVERITY_RANK[a.severity] < SEVERITY_RANK[w] ? a.severity : w, "ok");
      g.pace = g.head.find(a => a.kind === "pace") || null;
      g.funnel = g.head.find(a => a.kind === "funnel") || null;
      g.reps = new Set(g.rows.filter(a => a.level === "rep" && a.severity !== "ok").map(a => a.rep_id));
      g.review_id = g.head.map(a => a.review_id).find(Boolean) || g.rows.map(a => a.review_id).find(Boolean) || null;
      g.suggestion = (g.pace || g.funnel || {}).suggested_adjustment || null;
    }
    return [...groups.values()].sort((a, b) => (b.stake ?? -1) - (a.stake ?? -1) || SEVERITY_RANK[a.worst] - SEVERITY_RANK[b.worst]);
  }

  // one sentence for a group: where, the KPI, pace and forecast, the funnel, the margin at stake
  function alarmSentence(g, names) {
    const where = g.market_id ? names.market(g.market_id) : "The whole company";
    const parts = [];
    if (g.pace) parts.push(`${fmt.pct(g.pace.pace, 0)} of target to date, run-rate forecast ${fmt.pct(g.pace.forecast_attainment, 0)} of the year's`);
    if (g.funnel && Number.isFinite(g.funnel.funnel_coverage)) parts.push(`the activity covers ${fmt.pct(g.funnel.funnel_coverage, 0)} of what the rest of the year needs`);
    return `${where} · ${names.component(g.kpi)}: ${parts.join("; ") || "see the reps"}` +
      (g.stake !== null ? `; ${fmt.short(g.stake, names.currency)} of margin at stake.` : ".");
  }

  // ------------------------------------------------------------------------------------------
  // Reviews in a list (the overview, the reviews page): stale ones marked — computed against a
  // plan version that is no longer in force and not decided, so they cannot be accepted any more.

  function isStale(review, planVersion) {
    return Boolean(planVersion) && review.plan_version !== planVersion && !review.decision
      && ["succeeded", "queued", "running"].includes(review.status);
  }

  function reviewColumns(names, { planVersion, sets = new Map() } = {}) {
    const setName = id => { const s = sets.get(id); return s ? `${s.name} (version ${s.version})` : `set #${id}`; };
    const recommended = s => s ? (s.comparison.find(c => c.plan === "recommended") || {}) : {};
    const kept = s => s ? (s.comparison.find(c => c.plan === "in_force") || {}) : {};
    return [
      { key: "id", label: "Review", format: v => el("a", { href: `/reviews/${v}` }, `#${v}`), sort: r => r.id },
      { key: "status", label: "Status", format: (v, r) => el("span", {}, el("span", { class: "badge " + v }, v),
          isStale(r, planVersion) ? el("span", { class: "badge stale", title: `computed against plan version ${r.plan_version}; version ${planVersion} is in force` }, " stale") : null) },
      { key: "assumption_set_id", label: "Assumptions", format: v => v ? el("a", { href: `/assumption-sets/${v}` }, setName(v)) : "—" },
      { key: "plan_version", label: "Plan version", num: true },
      { key: "summary", label: "Alignment", num: true, title: "recommended (keeping the plan in force)",
        format: s => s ? `${fmt.pct(recommended(s).alignment_efficiency)} (${fmt.pct(kept(s).alignment_efficiency)})` : "—",
        sort: r => recommended(r.summary).alignment_efficiency ?? null },
      { key: "margin", label: "Margin against keeping the plan", num: true,
        format: (v, r) => r.summary && r.summary.effect ? fmt.signedShort(r.summary.effect.margin, r.summary.currency) : "—",
        sort: r => r.summary && r.summary.effect ? r.summary.effect.margin : null },
      { key: "created_by", label: "Started by", format: v => names.person(v) },
      { key: "submitted_at", label: "Submitted", format: fmt.time, sort: r => r.submitted_at },
      { key: "decision", label: "Decision", format: d => d ? `${d.decision === "accept" ? "accepted" : "rejected"} by ${names.person(d.decided_by)}` : "—" }];
  }

  // ------------------------------------------------------------------------------------------
  // Downloads and queries

  // Downloads an API file (a CSV, a workbook) with the bearer token.
  async function download(path, filename, accept = "text/csv") {
    const response = await fetch(path, { headers: { "Authorization": "Bearer " + token(), "Accept": accept } });
    if (response.status === 401) { signOut("your token is no longer valid"); return false; }
    if (!response.ok) {
      const type = response.headers.get("content-type") || "";
      pageError({ status: response.status, data: type.includes("json") ? await response.json() : { detail: await response.text() } });
      return false;
    }
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: filename });
    document.body.append(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    return true;
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

  // Fills the header's "signed in as", hides the nav links above the role, and runs the page's
  // start function with the token's identity.
  async function start(run) {
    const who = await me();
    if (!who) return;
    document.querySelectorAll("header nav a[data-role]").forEach(link => { link.hidden = !has(who, link.dataset.role); });
    const box = document.getElementById("who");
    if (box) {
      const people = await names();
      fill(box, el("span", { id: "who-name", title: `token: ${who.name}` }, `${people.person(who.name, true)} · ${who.role}`),
           el("button", { type: "button", onclick: () => signOut(null) }, "Sign out"));
    }
    await run(who);
  }

  return { token, signOut, api, fetchAll, me, has, pageData, showErrors, clearErrors, pageError, fmt, el, fill,
           notAvailable, figure, confirm, names, words, pay, table, chart, bars, range, payoutCurve, PLAN_COLORS, GOOD, BAD,
           NEUTRAL, METRIC_UNITS, SEVERITY_RANK, picker, FACTORS, adjustmentWords, sweepFactorWords, isStale, reviewColumns, alarmGroups, alarmSentence, download, query, start, TOKEN, ME };
})();
