// The overview: what needs a decision this month (the alarms with the most margin at stake, stale
// reviews, reviews waiting for a decision), the plan in force with its components in words and its
// whole payout curve, alarms by severity and market, the last reviews.
"use strict";
const { el, fmt, fill } = CT;
let who, names, plan = null;

async function showPlan() {
  const response = await CT.api("/v1/plans/current");
  if (!response.ok) { fill("plan", el("p", { class: "na" }, response.data.detail)); CT.notAvailable("curve-chart", "no plan in force"); return; }
  plan = response.data;
  fill("plan",
    el("p", {}, el("strong", { id: "plan-version" }, `Version ${plan.version}`),
       ` · ${plan.review_id ? "" : ""}${plan.origin} · by ${names.person(plan.created_by)} · ${fmt.time(plan.created_at)}`),
    CT.table([{ key: "component_id", label: "Pays on", format: v => names.tag("component", v) },
              { key: "weight", label: "Weight", num: true, format: v => fmt.pct(v) }], plan.components || [], { id: "plan-components" }));
  CT.payoutCurve("curve-chart", plan.curve || []);
}

async function showAlarms() {
  const response = await CT.fetchAll("/v1/alarms", {}, { page: 5000 });
  if (!response.ok) { fill("alarm-figures", el("p", { class: "na" }, response.data.detail)); return []; }
  const alarms = response.data.data;
  const severities = ["critical", "warning", "watch"];
  const markets = {};
  for (const alarm of alarms) {
    const market = alarm.market_id || "*";
    markets[market] = markets[market] || { market, critical: 0, warning: 0, watch: 0, stake: 0 };
    markets[market][alarm.severity] += 1;
  }
  const groups = CT.alarmGroups(alarms);
  for (const g of groups) if (markets[g.market_id || "*"]) markets[g.market_id || "*"].stake += g.stake || 0;
  fill("alarm-figures", severities.map(s => CT.figure(alarms.filter(a => a.severity === s).length, el("span", { class: "badge " + s }, s))),
    CT.figure(response.data.current_period || "—", "last closed period"));
  const rows = Object.values(markets).sort((a, b) => b.stake - a.stake);
  fill("alarm-markets", CT.table([{ key: "market", label: "Market", format: v => v === "*" ? "whole company or across markets" : names.tag("market", v) },
    ...severities.map(s => ({ key: s, label: s, num: true })),
    { key: "stake", label: `Margin at stake (${names.currency})`, num: true, format: v => fmt.money(v) }], rows, { id: "alarm-markets-table" }));
  return groups;
}

async function showReviews() {
  const [response, sets] = await Promise.all([CT.api("/v1/reviews?limit=5"), CT.fetchAll("/v1/assumption-sets", {}, { page: 1000 })]);
  if (!response.ok) { fill("reviews", el("p", { class: "na" }, response.data.detail)); return []; }
  const setMap = new Map(sets.ok ? sets.data.data.map(s => [s.id, s]) : []);
  if (!response.data.data.length) { fill("reviews", el("p", { class: "na" }, "No review yet.")); return []; }
  fill("reviews", CT.table(CT.reviewColumns(names, { planVersion: plan && plan.version, sets: setMap }), response.data.data, { id: "last-reviews" }));
  return response.data.data;
}

function showDecide(groups, reviews) {
  const urgent = groups.filter(g => g.worst === "critical" || g.worst === "warning");
  const waiting = reviews.filter(r => r.status === "succeeded" && !r.decision && !CT.isStale(r, plan && plan.version));
  const stale = reviews.filter(r => r.status === "succeeded" && CT.isStale(r, plan && plan.version));
  const items = [];
  if (urgent.length) items.push(el("li", {}, `${fmt.plural(urgent.length, "market KPI")} behind plan, ${fmt.short(urgent.reduce((s, g) => s + (g.stake || 0), 0), names.currency)} of margin at stake; the largest: ${CT.alarmSentence(urgent[0], names)} `,
    el("a", { href: "/alarms" }, "the alarms →")));
  for (const r of waiting) items.push(el("li", {}, el("a", { href: `/reviews/${r.id}` }, `Review #${r.id}`), " waits for a decision.",
    r.summary && r.summary.effect ? ` Alignment ${fmt.pts(r.summary.effect.alignment_efficiency)}, margin ${fmt.signedShort(r.summary.effect.margin, r.summary.currency)} against keeping the plan.` : ""));
  for (const r of stale) items.push(el("li", {}, el("a", { href: `/reviews/${r.id}` }, `Review #${r.id}`), ` is stale: computed against plan version ${r.plan_version}; re-run it under version ${plan.version} to decide on it.`));
  fill("decide", items.length ? el("ul", { id: "decide-list" }, items) : el("p", { class: "na" }, "Nothing waits for a decision."));
}

CT.start(async (identity) => {
  who = identity;
  names = await CT.names();
  await showPlan();
  const [groups, reviews] = await Promise.all([showAlarms(), showReviews()]);
  showDecide(groups, reviews);
});
