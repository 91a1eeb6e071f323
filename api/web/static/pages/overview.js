const { el, fmt, fill } = CT;

async function showPlan() {
  const response = await CT.api("/v1/plans/current");
  if (!response.ok) { fill("plan", el("p", { class: "na" }, response.data.detail)); return; }
  const plan = response.data;
  fill("plan",
    el("p", {}, el("strong", { id: "plan-version" }, `Version ${plan.version}`), ` · ${plan.origin} · by ${plan.created_by} · ${fmt.time(plan.created_at)}`),
    CT.table([{ key: "component_id", label: "Component" }, { key: "metric", label: "Metric" },
              { key: "products", label: "Products" },
              { key: "weight", label: "Weight", num: true, format: v => fmt.pct(v) }], plan.components || []));
  const curve = plan.curve || [];
  CT.chart("curve-chart", {
    type: "line",
    data: { datasets: [{ label: "payout", data: curve.map(p => ({ x: p.attainment, y: p.payout })),
                         borderColor: CT.PLAN_COLORS[0], tension: 0, pointRadius: 3 }] },
    options: { plugins: { legend: { display: false } }, parsing: false,
               scales: { x: { type: "linear", title: { display: true, text: "attainment (actual ÷ target)" } },
                         y: { title: { display: true, text: "payout (share of target pay)" } } } },
  });
}

async function showAlarms() {
  const response = await CT.api("/v1/alarms" + CT.query({ limit: 100000 }));
  if (!response.ok) { fill("alarm-figures", el("p", { class: "na" }, response.data.detail)); return; }
  const alarms = response.data.data;
  const severities = ["critical", "warning", "watch"];
  fill("alarm-figures", severities.map(s => el("div", { class: "figure" },
    el("div", { class: "value" }, alarms.filter(a => a.severity === s).length),
    el("div", { class: "label" }, el("span", { class: "badge " + s }, s)))),
    el("div", { class: "figure" }, el("div", { class: "value" }, response.data.current_period || "—"),
       el("div", { class: "label" }, "last closed period")));
  const markets = {};
  for (const alarm of alarms) {
    const market = alarm.market_id || "(company)";
    markets[market] = markets[market] || { market, critical: 0, warning: 0, watch: 0 };
    markets[market][alarm.severity] += 1;
  }
  const rows = Object.values(markets).sort((a, b) => b.critical - a.critical || b.warning - a.warning);
  fill("alarm-markets", CT.table([{ key: "market", label: "Market" },
    ...severities.map(s => ({ key: s, label: s, num: true }))], rows));
}

async function showReviews() {
  const response = await CT.api("/v1/reviews?limit=5");
  if (!response.ok) { fill("reviews", el("p", { class: "na" }, response.data.detail)); return; }
  if (!response.data.data.length) { fill("reviews", el("p", { class: "na" }, "No review yet.")); return; }
  fill("reviews", CT.table([
    { key: "id", label: "Review", format: v => el("a", { href: `/reviews/${v}` }, `#${v}`) },
    { key: "status", label: "Status", format: v => el("span", { class: "badge " + v }, v) },
    { key: "assumption_set_id", label: "Assumption set" },
    { key: "summary", label: "Alignment (recommended)", num: true,
      format: s => s ? fmt.pct((s.comparison.find(c => c.plan === "recommended") || {}).alignment_efficiency) : "—" },
    { key: "decision", label: "Decision", format: d => d ? `${d.decision} by ${d.decided_by}` : "—" },
    { key: "submitted_at", label: "Submitted", format: fmt.time }], response.data.data));
}

CT.start(async () => { await Promise.all([showPlan(), showAlarms(), showReviews()]); });
