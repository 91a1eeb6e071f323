const { el, fmt, fill } = CT;
const REVIEW_ID = {{ review_id }};
const PAGE = 50;
let who, review, recommendation = {}, adjustmentsOffset = 0;

// A result section (frontier, pay_impact, changes, attribution): from GET /v1/reviews/{id}/recommendation
// when the service has it, else at the review's top level or in its summary; null when absent.
function section(name) {
  for (const source of [recommendation, review, review.summary || {}]) {
    if (source[name] !== undefined && source[name] !== null) return source[name];
  }
  return null;
}

function showProgress() {
  const box = document.getElementById("progress-box");
  const running = review.status === "queued" || review.status === "running";
  box.hidden = !running;
  if (!running) return;
  const bar = document.getElementById("progress-bar");
  // progress is the share done (0–1) when the service reports it; a percentage is accepted too
  let progress = typeof review.progress === "number" ? review.progress : null;
  if (progress !== null && progress > 1) progress = progress / 100;
  document.getElementById("progress").classList.toggle("indeterminate", progress === null);
  bar.style.width = progress === null ? "" : `${Math.round(100 * Math.min(1, Math.max(0, progress)))}%`;
  fill("phase", review.phase ? `${review.status}: ${review.phase}` : review.status);
  const since = review.started_at || review.submitted_at;
  const seconds = since ? Math.max(0, (Date.now() - new Date(since).getTime()) / 1000) : 0;
  fill("progress-text", (progress === null ? "" : `${Math.round(100 * progress)} % done · `) + `${seconds.toFixed(0)} s`);
}

const PLAN_LABELS = { recommended: "recommended", in_force: "plan in force", flat_revenue: "flat revenue commission",
                      gross_margin_share: "equal share of gross margin" };

function barChart(id, rows, key, label, format) {
  CT.chart(id, {
    type: "bar",
    data: { labels: rows.map(r => PLAN_LABELS[r.plan] || r.plan), datasets: [{ label, data: rows.map(r => r[key]),
            backgroundColor: rows.map((r, i) => CT.PLAN_COLORS[i % CT.PLAN_COLORS.length]) }] },
    options: { plugins: { legend: { display: false }, tooltip: { callbacks: { label: c => format(c.raw) } } },
               scales: { y: { ticks: { callback: v => format(v) } } } },
  });
}

function showSummary() {
  const s = review.summary;
  const currency = s.currency;
  const recommended = s.comparison.find(c => c.plan === "recommended") || {};
  fill("figures",
    [["alignment efficiency (recommended)", fmt.pct(recommended.alignment_efficiency)],
     ["alignment gain vs keeping the plan", s.effect.alignment_efficiency === null ? "—" : `${s.effect.alignment_efficiency >= 0 ? "+" : ""}${(100 * s.effect.alignment_efficiency).toFixed(1)} pts`],
     ["margin gain vs keeping the plan", fmt.money(s.effect.margin, currency)],
     ["revenue gain vs keeping the plan", fmt.money(s.effect.revenue, currency)],
     ["solver status", s.solver_status], ["adjustment rows", s.adjustments]]
      .map(([label, value]) => el("div", { class: "figure" }, el("div", { class: "value" }, value), el("div", { class: "label" }, label))));
  if (s.selected || s.message) document.getElementById("figures").after(el("p", { class: "muted" }, [s.selected, s.message].filter(Boolean).join(" — ")));
  barChart("chart-alignment", s.comparison, "alignment_efficiency", "alignment efficiency", v => fmt.pct(v));
  barChart("chart-margin", s.comparison, "margin", "margin", v => fmt.money(v, currency));
  if (s.pay_visible && s.comparison.some(r => r.pay_cost !== null)) barChart("chart-pay", s.comparison, "pay_cost", "pay cost", v => fmt.money(v, currency));
  else CT.notAvailable("chart-pay", s.pay_visible ? "not available for this review" : `Pay figures are shown to approver and admin only (you are ${who.role}).`);

  const frontier = section("frontier");
  if (Array.isArray(frontier) && frontier.length) {
    CT.chart("chart-frontier", {
      type: "line",
      data: { labels: frontier.map(f => `${f.components} component${f.components === 1 ? "" : "s"}`),
              datasets: [{ label: "alignment efficiency", data: frontier.map(f => f.alignment), borderColor: CT.PLAN_COLORS[0], yAxisID: "y" },
                         { label: "margin", data: frontier.map(f => f.margin), borderColor: CT.PLAN_COLORS[3], yAxisID: "y1" }] },
      options: { scales: { y: { position: "left", ticks: { callback: v => fmt.pct(v, 0) } },
                           y1: { position: "right", grid: { drawOnChartArea: false }, ticks: { callback: v => fmt.money(v) } } } },
    });
  } else CT.notAvailable("chart-frontier");

  showPayImpact(currency);
  showAttribution();
  const changes = section("changes");
  if (Array.isArray(changes) && changes.length) {
    // plan-wide changes (components, curve) first, then the per-rep ones
    const ordered = changes.filter(c => !c.rep_id).concat(changes.filter(c => c.rep_id));
    const keys = [...new Set(ordered.slice(0, 200).flatMap(c => Object.keys(c)))].filter(k => k !== "reason");
    const show = v => v === null || v === undefined ? "—" : (typeof v === "object" ? JSON.stringify(v) : (typeof v === "number" ? fmt.num(v, 4) : v));
    const columns = [...keys.map(k => ({ key: k, label: k.replace(/_/g, " "), format: show })), { key: "reason", label: "reason" }];
    const shown = ordered.filter(c => !c.rep_id).slice(0, 40);
    const perRep = ordered.length - ordered.filter(c => !c.rep_id).length;
    fill("changes", CT.table(columns, shown.length ? shown : ordered.slice(0, 40)),
         el("p", { class: "muted" }, `${ordered.length} changes` + (perRep ? `, of which ${perRep} per-rep target changes: filter them in the adjustments table below` : "")));
  } else CT.notAvailable("changes");
}

function showPayImpact(currency) {
  if (!who.sees_pay) {
    fill("pay-impact-figures"); CT.notAvailable("chart-pay-impact", `Pay impact per rep is shown to approver and admin only (you are ${who.role}).`);
    return;
  }
  const impact = section("pay_impact");
  if (!impact || !Array.isArray(impact.reps) || !impact.reps.length) { fill("pay-impact-figures"); CT.notAvailable("chart-pay-impact"); return; }
  fill("pay-impact-figures", [["winners", impact.winners], ["losers", impact.losers], ["largest cut", fmt.pct(impact.max_cut)],
    ["median change", fmt.pct(impact.median_change)]].map(([label, value]) =>
      el("div", { class: "figure" }, el("div", { class: "value" }, value ?? "—"), el("div", { class: "label" }, label))));
  // histogram of change_share in about 20 bins of a round width (in points), losers red, winners green
  const shares = impact.reps.map(r => 100 * r.change_share).filter(v => Number.isFinite(v));
  const low = Math.min(...shares, 0), high = Math.max(...shares, 0);
  const width = [0.5, 1, 2, 5, 10, 20, 50, 100].find(w => (high - low) / w <= 24) || 200;
  const first = Math.floor(low / width) * width, count = Math.max(1, Math.ceil((high - first) / width + 1e-9));
  const bins = Array.from({ length: count }, (_, i) => ({ from: first + i * width, count: 0 }));
  for (const v of shares) bins[Math.min(count - 1, Math.floor((v - first) / width))].count += 1;
  CT.chart("chart-pay-impact", {
    type: "bar",
    data: { labels: bins.map(b => `${b.from} to ${b.from + width} %`), datasets: [{ label: "reps", data: bins.map(b => b.count),
            backgroundColor: bins.map(b => b.from + width <= 0 ? "#c62828" : (b.from >= 0 ? "#2e7d32" : "#8a99a8")) }] },
    options: { plugins: { legend: { display: false } },
               scales: { x: { title: { display: true, text: "change of expected variable pay (recommended vs in force)" } },
                         y: { title: { display: true, text: "reps" }, ticks: { precision: 0 } } } },
  });
}

function showAttribution() {
  // {markets: [{market_id, name, sentence, revenue: {assumptions_share, replanning_share, ...}}]}, or a list of such entries
  const attribution = section("attribution");
  const rows = Array.isArray(attribution) ? attribution : ((attribution && attribution.markets) || []);
  if (!rows.length) { CT.notAvailable("attribution", "attribution to the assumptions vs re-planning: not available for this review"); return; }
  const holder = fill("attribution", el("ul", { id: "attribution-sentences" }, rows.map(r => el("li", {}, r.sentence || r.market_id))),
                      attribution.reference ? el("p", { class: "muted" }, attribution.reference) : null);
  if (rows.some(r => r.revenue && typeof r.revenue.assumptions_share === "number")) {
    holder.append(el("div", { class: "chart", id: "chart-attribution" }));
    CT.chart("chart-attribution", {
      type: "bar",
      data: { labels: rows.map(r => r.name || r.market_id),
              datasets: [{ label: "the assumption set", data: rows.map(r => r.revenue ? r.revenue.assumptions_share : null), backgroundColor: CT.PLAN_COLORS[2] },
                         { label: "re-planning", data: rows.map(r => r.revenue ? r.revenue.replanning_share : null), backgroundColor: CT.PLAN_COLORS[0] }] },
      options: { plugins: { title: { display: true, text: "change of planned revenue vs the plan in force, by cause" },
                            tooltip: { callbacks: { label: c => `${c.dataset.label}: ${fmt.pct(c.raw)}` } } },
                 scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: v => fmt.pct(v, 0) } } } },
    });
  }
}

async function showMarketTargets() {
  // Σ recommended ÷ Σ in force − 1 of every component's targets, per market
  const response = await CT.api(`/v1/reviews/${REVIEW_ID}/adjustments` + CT.query({ limit: 100000 }));
  if (!response.ok) return;
  const totals = {};
  for (const row of response.data.data) {
    const key = `${row.market_id}|${row.component_id}`;
    totals[key] = totals[key] || { market: row.market_id, component: row.component_id, before: 0, after: 0 };
    totals[key].before += row.in_force || 0; totals[key].after += row.recommended || 0;
  }
  const markets = [...new Set(Object.values(totals).map(t => t.market))].sort();
  // components in force only: a new component has no target in force to compare with
  const components = [...new Set(Object.values(totals).filter(t => t.before > 0).map(t => t.component))];
  if (!markets.length || !components.length) { CT.notAvailable("chart-market-targets", "no target in force to compare with"); return; }
  CT.chart("chart-market-targets", {
    type: "bar",
    data: { labels: markets, datasets: components.map((c, i) => ({ label: c, backgroundColor: CT.PLAN_COLORS[i % CT.PLAN_COLORS.length],
            data: markets.map(m => { const t = totals[`${m}|${c}`]; return t && t.before ? t.after / t.before - 1 : null; }) })) },
    options: { plugins: { tooltip: { callbacks: { label: c => `${c.dataset.label}: ${fmt.pct(c.raw)}` } } },
               scales: { y: { title: { display: true, text: "target change, open periods" }, ticks: { callback: v => fmt.pct(v, 0) } } } },
  });
}

function filters() {
  const form = document.getElementById("filters");
  return { rep_id: form.rep_id.value.trim(), market_id: form.market_id.value.trim(), component_id: form.component_id.value.trim(),
           period: form.period.value.trim(), changed_only: form.changed_only.checked ? "true" : "" };
}

async function showAdjustments() {
  const form = document.getElementById("filters");
  CT.clearErrors(form);
  const response = await CT.api(`/v1/reviews/${REVIEW_ID}/adjustments` + CT.query({ ...filters(), limit: PAGE, offset: adjustmentsOffset }));
  if (!response.ok) { CT.showErrors(form, response); return; }
  const { data, total, weight_changes } = response.data;
  const count = total ?? response.data.count;
  fill("adjustments", CT.table([{ key: "rep_id", label: "Rep" }, { key: "market_id", label: "Market" },
    { key: "component_id", label: "Component" }, { key: "period", label: "Period" },
    { key: "in_force", label: "In force", num: true, format: v => fmt.num(v) },
    { key: "recommended", label: "Recommended", num: true, format: v => fmt.num(v) },
    { key: "delta", label: "Delta", num: true, format: v => fmt.num(v) }, { key: "reason", label: "Reason" }], data));
  fill("adjustments-pager",
    el("button", { type: "button", disabled: adjustmentsOffset === 0, onclick: () => { adjustmentsOffset = Math.max(0, adjustmentsOffset - PAGE); showAdjustments(); } }, "← previous"),
    el("span", { class: "muted", id: "adjustments-count" }, count ? `${adjustmentsOffset + 1}–${adjustmentsOffset + data.length} of ${count} rows` : "no rows"),
    el("button", { type: "button", disabled: adjustmentsOffset + PAGE >= count, onclick: () => { adjustmentsOffset += PAGE; showAdjustments(); } }, "next →"));
  fill("weights", weight_changes.length ? CT.table([{ key: "component_id", label: "Component" }, { key: "metric", label: "Metric" },
    { key: "products", label: "Products" }, { key: "in_force", label: "In force", num: true, format: v => fmt.pct(v) },
    { key: "recommended", label: "Recommended", num: true, format: v => fmt.pct(v) },
    { key: "delta", label: "Delta", num: true, format: v => fmt.pct(v) }], weight_changes) : el("p", { class: "na" }, "No weight change."));
}

async function showExplanation() {
  const response = await CT.api(`/v1/reviews/${REVIEW_ID}/explanation`);
  if (!response.ok) { CT.notAvailable("explanation"); return; }
  const messages = response.data.messages || [];
  fill("explanation", messages.length ? el("ul", {}, messages.slice(0, 15).map(m => el("li", {}, m))) : el("p", { class: "na" }, "Nothing binds."));
}

async function showDecision() {
  const form = document.getElementById("decision-form");
  const buttons = [document.getElementById("accept"), document.getElementById("reject")];
  let why = "";
  if (review.decision) {
    const d = review.decision;
    fill("decision-state", el("p", { id: "decision-taken" }, el("strong", {}, d.decision === "accept" ? "Accepted" : "Rejected"),
      ` by ${d.decided_by}, ${fmt.time(d.decided_at)}: “${d.reason}”` + (d.new_plan_version ? ` — plan version ${d.new_plan_version} is now in force.` : "")));
    form.hidden = true;
    return;
  }
  if (!CT.has(who, "approver")) why = `Accepting or rejecting needs the approver or admin role; you are signed in as ${who.role}.`;
  else if (review.status !== "succeeded") why = `The review is ${review.status}; only a succeeded review can be decided.`;
  buttons.forEach(b => { b.disabled = Boolean(why); });
  document.getElementById("decision-reason").disabled = Boolean(why);
  fill("decision-why", why);
}

async function decide(decision) {
  const form = document.getElementById("decision-form");
  CT.clearErrors(form);
  const plan = await CT.api("/v1/plans/current");
  const body = { decision, reason: form.reason.value.trim(), plan_version: plan.ok ? plan.data.version : review.plan_version };
  const response = await CT.api(`/v1/reviews/${REVIEW_ID}/decision`, { method: "POST", json: body });
  if (!response.ok) { CT.showErrors(form, response); return; }
  await load();
}

async function load() {
  const response = await CT.api(`/v1/reviews/${REVIEW_ID}`);
  if (!response.ok) { CT.pageError(response); return; }
  review = response.data;
  fill("review-title", el("span", {}, `Review #${review.id} `), el("span", { class: "badge " + review.status, id: "review-status" }, review.status));
  fill("review-meta", `Assumption set #${review.assumption_set_id} against plan version ${review.plan_version} · by ${review.created_by} · submitted ${fmt.time(review.submitted_at)}`
    + (review.duration_s ? ` · ran ${review.duration_s.toFixed(1)} s` : ""));
  showProgress();
  fill("review-outcome", review.error ? el("p", { class: "page-error" }, review.error) : "");
  await showDecision();
  if (review.status === "queued" || review.status === "running") { setTimeout(load, 1000); return; }
  if (review.status === "succeeded" && review.summary && document.getElementById("result").hidden) {
    const extra = await CT.api(`/v1/reviews/${REVIEW_ID}/recommendation`);
    recommendation = extra.ok && extra.data && typeof extra.data === "object" ? extra.data : {};
    document.getElementById("result").hidden = false;
    showSummary();
    await Promise.all([showAdjustments(), showExplanation(), showMarketTargets()]);
  }
}

CT.start(async (identity) => {
  who = identity;
  document.getElementById("decision-form").addEventListener("submit", (event) => {
    event.preventDefault();
    decide(event.submitter ? event.submitter.value : "accept");
  });
  document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); adjustmentsOffset = 0; showAdjustments(); });
  document.getElementById("download-csv").addEventListener("click", () =>
    CT.download(`/v1/reviews/${REVIEW_ID}/adjustments` + CT.query({ ...filters(), format: "csv" }), `review-${REVIEW_ID}-adjustments.csv`));
  await load();
});
