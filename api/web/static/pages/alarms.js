// The alarms page: what needs a decision this month (the market × KPI groups with the most margin
// at stake, and whether a review already covers them), every alarm grouped by market and KPI with
// the columns of its own kind (pace: pace and forecast; funnel: what the activity covers), and the
// pace to plan per market.
"use strict";
const { el, fmt, fill } = CT;
let who, names;

function filters() {
  const form = document.getElementById("filters");
  return { severity: [...form.querySelectorAll("input[name=severity]:checked")].map(i => i.value),
           kind: form.kind.value, market: form.market.value, team: form.team.value, product: form.product.value };
}

// the columns of an alarm's own kind
const PACE_COLUMNS = () => [
  { key: "pace", label: "Pace to date", num: true, format: v => fmt.pct(v, 0) },
  { key: "forecast_attainment", label: "Forecast for the year", num: true, format: v => fmt.pct(v, 0) }];
const FUNNEL_COLUMNS = () => [
  { key: "funnel_coverage", label: "Activity covers", num: true, format: v => fmt.pct(v, 0) },
  { key: "needed_per_period", label: "Needed per period", num: true, format: v => fmt.num(v, 1) },
  { key: "activity_per_period", label: "Activity leads to", num: true, format: v => fmt.num(v, 1) }];

function scopeCell(a) {
  if (a.level === "rep") return el("span", {}, names.tag("rep", a.rep_id), el("span", { class: "muted small" }, ` · ${a.team || ""}`));
  if (a.level === "team") return `team ${a.team || a.scope_id}`;
  if (a.level === "market") return `all of ${names.market(a.market_id)}`;
  return "the whole company";
}

function kindTable(rows, kind) {
  if (!rows.length) return null;
  return el("div", {}, el("h3", {}, kind === "pace" ? "Pace: actual ÷ target to date" : "Funnel: does the activity reach the rest of the year's target?"),
    CT.table([{ key: "severity", label: "Severity", format: v => el("span", { class: "badge " + v }, v), sort: r => CT.SEVERITY_RANK[r.severity] },
      { key: "scope_id", label: "Who", format: (v, a) => scopeCell(a), sort: a => `${a.level}|${names.rep(a.rep_id || "")}` },
      ...(kind === "pace" ? PACE_COLUMNS() : FUNNEL_COLUMNS()),
      { key: "at_stake", label: `At stake (${names.currency})`, num: true, format: v => fmt.money(v) }],
      rows.slice().sort((a, b) => (b.at_stake ?? -1) - (a.at_stake ?? -1)), { sortable: true, pageSize: 10, id: `alarms-${kind}` }));
}

function groupNode(g, i) {
  const pace = g.rows.filter(a => a.kind === "pace"), funnel = g.rows.filter(a => a.kind === "funnel");
  const reps = g.reps.size;
  return el("details", { class: "group", id: `group-${i}`, open: i === 0 ? true : null },
    el("summary", {}, el("span", { class: "badge " + g.worst }, g.worst),
      el("strong", {}, `${g.market_id ? names.market(g.market_id) : "Whole company"} · ${names.component(g.kpi)}`),
      g.pace ? el("span", {}, `pace ${fmt.pct(g.pace.pace, 0)}, forecast ${fmt.pct(g.pace.forecast_attainment, 0)}`) : null,
      g.funnel && Number.isFinite(g.funnel.funnel_coverage) ? el("span", {}, `activity covers ${fmt.pct(g.funnel.funnel_coverage, 0)}`) : null,
      reps ? el("span", { class: "muted" }, `${fmt.plural(reps, "rep")} behind`) : null,
      el("span", { class: "stake" }, g.stake !== null ? `${fmt.short(g.stake, names.currency)} at stake` : "")),
    el("div", { class: "body" }, kindTable(pace, "pace"), kindTable(funnel, "funnel")));
}

function reviewLink(g) {
  if (g.review_id) return el("span", {}, " A review covers it: ", el("a", { href: `/reviews/${g.review_id}` }, `review #${g.review_id}`), ".");
  if (!g.suggestion) return null;
  if (!CT.has(who, "analyst")) return el("span", { class: "muted" }, " No review covers it yet.");
  return el("span", {}, " No review covers it yet: ",
    el("a", { href: `/assumption-sets?from_alarm=${encodeURIComponent((g.pace || g.funnel).alarm_id)}`, class: "draft" }, "draft an assumption set from it"), ".");
}

function showDecide(groups, response) {
  const urgent = groups.filter(g => g.worst === "critical" || g.worst === "warning");
  const period = response.data.current_period;
  const head = el("p", {}, `After ${period || "the last closed period"}: `,
    el("strong", {}, fmt.plural(urgent.length, "market KPI")), ` critical or in warning, with `,
    el("strong", {}, fmt.short(urgent.reduce((s, g) => s + (g.stake || 0), 0), names.currency)), " of margin at stake.");
  fill("decide", head, urgent.length ? el("ol", { id: "decide-list" }, urgent.slice(0, 3).map(g => el("li", {}, CT.alarmSentence(g, names), reviewLink(g))))
    : el("p", { class: "na" }, "Nothing is behind plan enough to need a decision."));
}

async function showAlarms() {
  const form = document.getElementById("filters");
  CT.clearErrors(form);
  fill("alarm-count", "loading…");
  const response = await CT.fetchAll("/v1/alarms", filters(), { page: 5000 });
  if (!response.ok) { CT.showErrors(form, response); fill("alarm-count", ""); return; }
  const rows = response.data.data;
  const groups = CT.alarmGroups(rows);
  const t = response.data.thresholds || {};
  if (t.critical_below !== undefined) fill("thresholds", `Severity: below ${fmt.pct(t.critical_below, 0)} of pace (or of the activity needed) is critical, below ${fmt.pct(t.warning_below, 0)} a warning, below ${fmt.pct(t.watch_below, 0)} watch; above ${fmt.pct(t.ahead_watch_above, 0)} of pace (far ahead: targets too low) is watched. Margin at stake = the year's shortfall × the margin one unit of the KPI has brought so far.`);
  fill("alarm-count", `${fmt.plural(rows.length, "alarm")} in ${fmt.plural(groups.length, "group")} (market × KPI)` + (response.data.truncated ? " — the first ones only" : ""));
  fill("groups", groups.length ? groups.map(groupNode) : el("p", { class: "na" }, "No alarm matches."));
  if (filters().severity.join() === "critical,warning,watch" && !filters().market && !filters().team && !filters().product && !filters().kind) showDecide(groups, response);
}

async function showPace() {
  const response = await CT.api("/v1/alarms" + CT.query({ level: "market", kind: "pace", severity: ["critical", "warning", "watch", "ok"], limit: 10000 }));
  if (!response.ok) { CT.notAvailable("chart-pace", response.data.detail); return; }
  const rows = response.data.data;
  const markets = [...new Set(rows.map(r => r.market_id))];
  const kpis = [...new Set(rows.map(r => r.kpi))];
  if (!markets.length) { CT.notAvailable("chart-pace", "no closed period yet: no pace to show"); return; }
  const pace = (m, k) => { const r = rows.find(x => x.market_id === m && x.kpi === k); return r ? 100 * r.pace : null; };
  document.getElementById("chart-pace").style.height = `${Math.max(220, markets.length * kpis.length * 22 + 90)}px`;
  CT.chart("chart-pace", {
    type: "bar",
    data: { labels: markets.map(m => names.market(m)), datasets: kpis.map((k, i) => ({ label: names.component(k), backgroundColor: CT.PLAN_COLORS[i % CT.PLAN_COLORS.length],
            data: markets.map(m => pace(m, k)), maxBarThickness: 22 })) },
    options: { indexAxis: "y", plugins: { valueLabels: { format: v => `${v.toFixed(0)} %` }, tooltip: { callbacks: { label: c => `${c.dataset.label}: ${c.raw.toFixed(0)} %` } } },
               scales: { x: { min: 0, suggestedMax: 120, ticks: { callback: v => `${v} %` }, title: { display: true, text: "actual ÷ target to date (%)" } } } },
  }, markets.map(m => `${names.market(m)}: ` + kpis.map(k => `${names.component(k)} ${pace(m, k) === null ? "—" : pace(m, k).toFixed(0) + " %"}`).join(", ")).join("; "));
}

CT.start(async (identity) => {
  who = identity;
  names = await CT.names();
  const options = (id, rows) => document.getElementById(id).append(...rows.map(([value, text]) => el("option", { value }, text)));
  options("filter-market", [...names.markets.values()].map(m => [m.id, m.name]));
  options("filter-team", (names.data.teams || []).map(t => [t, t]));
  options("filter-product", [...names.products.values()].map(p => [p.id, p.name]));
  document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); showAlarms(); });
  await Promise.all([showPace(), showAlarms()]);
});
