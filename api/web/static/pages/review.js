// The review page: the decision first (a summary in plain words beside the decision card), then
// the detail — plans compared, the frontier, the price of each rule, quotas against plan, the pay
// impact per rep, target changes per market with their causes, the plan's changes, every target,
// what binds. Each section reads what the API gives this role and says so when a figure is
// withheld (pay: approver and admin) or absent (an engine that does not report it).
"use strict";
const { el, fmt, fill } = CT;
const REVIEW_ID = Number(CT.pageData("id"));
const PAGE = matchMedia("(max-width: 600px)").matches ? 10 : 50;  // rows of the targets table (a phone shows them stacked)
let who, names, review, recommendation = {}, weights = [], allAdjustments = null, currentPlan = null, assumptionSet = null;
let adjustmentsOffset = 0, reviewedPlan = null;

const CAUSE_WORDS = {
  assumptions: "the assumption set", replanning: "re-planning", pay_cut_repair: "kept within the pay-cut rule",
  target_level: "target level", coverage: "raised to cover the plan", new_component: "new component", dropped: "component dropped",
};

// ------------------------------------------------------------------------------------------
// Reading the review

// A result section (frontier, pay_impact, changes, attribution, coverage, rule_prices, …): from
// GET /v1/reviews/{id}/recommendation when the service has it, else from the review's summary.
function section(name) {
  for (const source of [recommendation, review, review.summary || {}]) {
    if (source && source[name] !== undefined && source[name] !== null) return source[name];
  }
  return null;
}

function comparisonRow(plan) { return ((review.summary || {}).comparison || []).find(c => c.plan === plan) || {}; }

// net margin = margin − variable pay (DESIGN §4.9); the engine reports it, older reviews are
// completed from their margin and pay, both of which this role then sees
function netMargin(row) {
  if (typeof row.net_margin === "number") return row.net_margin;
  if (typeof row.margin === "number" && typeof row.pay_cost === "number") return row.margin - row.pay_cost;
  return null;
}

function stale() {
  return currentPlan && review.plan_version !== null && review.plan_version !== currentPlan.version && !review.decision;
}

// ------------------------------------------------------------------------------------------
// The head: status, progress, who and what

function showHead() {
  const decided = review.decision ? (review.decision.decision === "accept" ? "accepted" : "rejected") : null;
  const setName = assumptionSet ? assumptionSet.name : `assumption set #${review.assumption_set_id}`;
  document.title = `Review #${review.id}: ${setName} · comptune`;
  fill("page-title", el("span", {}, `Review #${review.id}: ${setName} `),
       el("span", { class: "badge " + review.status, id: "review-status" }, review.status),
       decided ? el("span", { class: "badge " + decided }, " " + decided) : null,
       stale() ? el("span", { class: "badge stale", id: "stale-badge" }, "stale") : null);
  const setText = assumptionSet ? `${assumptionSet.name} (version ${assumptionSet.version})` : `assumption set #${review.assumption_set_id}`;
  fill("review-meta", "Under ",
       el("a", { href: `/assumption-sets/${review.assumption_set_id}`, title: `assumption set #${review.assumption_set_id}` }, setText),
       `, against plan version ${review.plan_version} · started by `, el("span", { title: `token: ${review.created_by}` }, names.person(review.created_by)),
       ` · ${fmt.time(review.submitted_at)}` + (review.duration_s ? ` · ran ${review.duration_s.toFixed(1)} s` : ""),
       Object.keys(review.rules || {}).length ? ` · rules set for this review: ${Object.entries(review.rules).map(([k, v]) => `${k} ${v}`).join(", ")}` : "");
  showProgress();
  fill("review-outcome", review.error ? el("p", { class: "notice bad" }, `The review ${review.status}: ${review.error}`) : null);
}

function showProgress() {
  const box = document.getElementById("progress-box");
  const running = review.status === "queued" || review.status === "running";
  box.hidden = !running;
  if (!running) return;
  const bar = document.getElementById("progress-bar");
  let progress = typeof review.progress === "number" ? review.progress : null;
  if (progress !== null && progress > 1) progress = progress / 100;
  const holder = document.getElementById("progress");
  holder.classList.toggle("indeterminate", progress === null);
  bar.style.width = progress === null ? "" : `${Math.round(100 * Math.min(1, Math.max(0, progress)))}%`;
  if (progress === null) holder.removeAttribute("aria-valuenow"); else holder.setAttribute("aria-valuenow", Math.round(100 * progress));
  const PHASES = { plan_lp: "planning the most profitable mix", targets: "turning the plan into targets",
                   incentive_lp: "weighing the components", simulations: "simulating what the reps would sell",
                   selection: "choosing the plan that keeps the rules" };
  fill("phase", review.phase ? `${review.status}: ${PHASES[review.phase] || review.phase}` : review.status);
  const since = review.started_at || review.submitted_at;
  const seconds = since ? Math.max(0, (Date.now() - new Date(since).getTime()) / 1000) : 0;
  fill("progress-text", (progress === null ? "" : `${Math.round(100 * progress)} % done · `) + `${seconds.toFixed(0)} s`);
}

// ------------------------------------------------------------------------------------------
// The summary in plain words

function item(what, ...body) { return el("li", {}, el("span", { class: "what" }, what), ...body); }

function planChanges() {
  // components: weights in force → recommended, in words; the curve from the plan
  const kept = weights.filter(w => (w.in_force || 0) > 0 && (w.recommended || 0) > 0);
  const added = weights.filter(w => !(w.in_force > 0) && (w.recommended || 0) > 0);
  const dropped = weights.filter(w => (w.in_force || 0) > 0 && !(w.recommended > 0));
  const before = weights.filter(w => (w.in_force || 0) > 0).length, after = kept.length + added.length;
  const parts = [];
  if (!weights.length) return ["This review does not report its weights."];
  parts.push(after === before ? `Pays on ${after} measures, as today. ` : `Pays on ${after} measures instead of ${before}. `);
  if (kept.length) parts.push(kept.map(w => `${w.label || names.component(w.component_id)} ${fmt.pct(w.in_force, 0)} → ${fmt.pct(w.recommended, 0)}`).join(", ") + ". ");
  if (added.length) parts.push("New: " + added.map(w => `${w.label || names.component(w.component_id)} ${fmt.pct(w.recommended, 0)}`).join(", ") + ". ");
  if (dropped.length) parts.push("Dropped: " + dropped.map(w => w.label || names.component(w.component_id)).join(", ") + ". ");
  const curve = curveWords((section("plan") || {}).curve);
  const before_curve = curveWords(currentPlanCurve());
  if (curve && curve !== before_curve) parts.push(`Payout curve: ${curve} (today: ${before_curve || "—"}).`);
  else if (curve) parts.push(`Payout curve unchanged: ${curve}.`);
  return parts;
}

// the curve of the plan the review was computed against (the plan in force, unless the review is stale)
function currentPlanCurve() { return review.plan_version === (currentPlan || {}).version ? (currentPlan || {}).curve : reviewedPlan && reviewedPlan.curve; }

// a payout curve in words: its threshold, what it pays at target, the slope above and the cap
function curveWords(curve) {
  if (!Array.isArray(curve) || curve.length < 2) return null;
  const pct = v => `${Math.round(100 * v)} %`;
  const last = curve[curve.length - 1];
  const atTarget = interpolate(curve, 1);
  const parts = [];
  const firstPaying = curve.find(p => p.payout > 0);
  if (firstPaying && curve[curve.indexOf(firstPaying) - 1] && curve[curve.indexOf(firstPaying) - 1].attainment > 0) parts.push(`nothing below ${pct(curve[curve.indexOf(firstPaying) - 1].attainment)}`);
  parts.push(`${pct(atTarget)} at target`);
  parts.push(`capped at ${pct(last.payout)} from ${pct(last.attainment)} attainment`);
  return parts.join(", ");
}

function interpolate(curve, x) {
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1], b = curve[i];
    if (x <= b.attainment) return a.payout + (b.payout - a.payout) * (x - a.attainment) / ((b.attainment - a.attainment) || 1);
  }
  return curve[curve.length - 1].payout;
}

function showSummary() {
  const s = review.summary;
  const currency = s.currency || names.currency;
  const rec = comparisonRow("recommended"), kept = comparisonRow("in_force");
  const seesPay = CT.pay.visible(who);
  const items = [];

  // the headline figures: net margin (pay roles) or margin, alignment, targets
  const tiles = [];
  const netRec = netMargin(rec), netKept = netMargin(kept);
  if (seesPay && netRec !== null && netKept !== null) {
    tiles.push(CT.figure(fmt.signedShort(netRec - netKept, currency), "net margin against keeping the plan",
      { id: "tile-net-margin", tone: netRec >= netKept ? "good" : "bad", note: `${fmt.short(netRec, currency)} against ${fmt.short(netKept, currency)}` }));
  } else if (typeof rec.margin === "number" && typeof kept.margin === "number") {
    tiles.push(CT.figure(fmt.signedShort(rec.margin - kept.margin, currency), "margin against keeping the plan",
      { id: "tile-margin", tone: rec.margin >= kept.margin ? "good" : "bad", note: `${fmt.short(rec.margin, currency)} against ${fmt.short(kept.margin, currency)}` }));
  }
  if (typeof rec.alignment_efficiency === "number") {
    tiles.push(CT.figure(fmt.pct(rec.alignment_efficiency), "alignment efficiency",
      { id: "tile-alignment", note: `keeping the plan: ${fmt.pct(kept.alignment_efficiency)} (${fmt.pts(rec.alignment_efficiency - kept.alignment_efficiency)})` }));
  }
  const impact = section("pay_impact");
  if (seesPay && impact && Array.isArray(impact.reps) && impact.reps.length) {
    const { cut, raise } = extremes(impact);
    tiles.push(CT.figure(`${impact.losers ?? "—"} · ${impact.winners ?? "—"}`, "reps who earn less · more", { id: "tile-winners",
      note: `largest cut ${fmt.signedPct(cut ? cut.change_share : null)}, largest raise ${fmt.signedPct(raise ? raise.change_share : null)}` }));
  }
  fill("summary-figures", tiles);

  items.push(item("What changes", ...planChanges(), targetSentence()));

  const money = [];
  if (seesPay && netRec !== null && netKept !== null) {
    money.push(`Net margin (margin − variable pay) ${fmt.short(netRec, currency)} against ${fmt.short(netKept, currency)} when keeping the plan in force: `,
      el("strong", { id: "net-margin-sentence" }, `${fmt.signedShort(netRec - netKept, currency)} (${fmt.signedPct((netRec - netKept) / Math.abs(netKept || 1))})`), ". ");
  } else if (!seesPay) {
    money.push("Net margin (margin − pay) is a pay figure: shown to approver and admin only. ");
  }
  if (typeof rec.margin === "number" && typeof kept.margin === "number") {
    money.push(`Margin ${fmt.short(rec.margin, currency)} (${fmt.signedShort(rec.margin - kept.margin, currency)}), `);
  }
  if (typeof rec.revenue === "number" && typeof kept.revenue === "number") {
    const d = rec.revenue - kept.revenue;
    money.push(`revenue ${fmt.short(rec.revenue, currency)}: ${fmt.short(Math.abs(d), currency)} ${d >= 0 ? "more" : "less"} than keeping the plan (${fmt.signedPct(d / (kept.revenue || 1))}). `);
  }
  if (typeof rec.alignment_efficiency === "number") {
    money.push(`The reps would sell a mix that makes ${fmt.pct(rec.alignment_efficiency)} of the most profitable plan's margin, against ${fmt.pct(kept.alignment_efficiency)} today.`);
  }
  items.push(item("Net margin and alignment", ...money));

  if (!seesPay) items.push(item("Who gains and who loses", CT.pay.note(who, "Each rep's pay before and after")));
  else if (impact && Array.isArray(impact.reps) && impact.reps.length) {
    const { cut, raise } = extremes(impact);
    const rep = r => r ? `${names.rep(r.rep_id)}, ${names.market(r.market_id || names.repMarket(r.rep_id))}` : "";
    items.push(item("Who gains and who loses",
      `${fmt.plural(impact.losers ?? 0, "rep")} earn less`, cut && cut.change_share < 0 ? `, at most ${fmt.signedPct(cut.change_share)} (${rep(cut)})` : "", "; ",
      `${fmt.plural(impact.winners ?? 0, "rep")} earn more`, raise && raise.change_share > 0 ? el("span", { id: "largest-raise-sentence" }, `, up to ${fmt.signedPct(raise.change_share)} (${rep(raise)}: ${fmt.money(raise.in_force_pay, currency)} → ${fmt.money(raise.recommended_pay, currency)})`) : "",
      `. Expected variable pay over the open periods: ${fmt.money(impact.in_force_total, currency)} today → ${fmt.money(impact.recommended_total, currency)}. `,
      el("a", { href: "#pay-card" }, "every rep ↓")));
  } else items.push(item("Who gains and who loses", el("span", { class: "na" }, "not available for this review")));

  items.push(item("Quotas against plan", ...coverageSentence(currency)));

  const unmet = section("unmet") || [];
  if (unmet.length) {
    items.push(item("Rules it cannot keep", el("ul", { id: "unmet" }, unmet.map(u => el("li", {}, ruleMessage(u))))));
  }
  if (s.solver_status && s.solver_status !== "optimal") {
    items.push(item("Caution", `The planning solve stopped at its time limit (${s.solver_status}): the plan is feasible, not proven the best.`));
  }
  fill("summary", items);
}

function ruleMessage(u) { return say(u.message || `${u.rule}: not kept`); }

// an engine sentence in plain words, its component ids replaced by the components in words
function say(text) {
  if (text === null || text === undefined) return text;
  let out = CT.words(text);
  for (const [id, c] of names.components) {
    if (c.label && c.label !== id) out = out.replace(new RegExp(`(?<![\\w-])${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w-])`, "g"), c.label);
  }
  return out;
}

function extremes(impact) {
  const reps = impact.reps.filter(r => Number.isFinite(r.change_share));
  const cut = reps.reduce((a, r) => (!a || r.change_share < a.change_share ? r : a), null);
  const raise = reps.reduce((a, r) => (!a || r.change_share > a.change_share ? r : a), null);
  return { cut, raise };
}

// Σ targets per component, in force against recommended (from every adjustment row)
function targetTotals() {
  const totals = new Map();
  for (const row of allAdjustments || []) {
    const t = totals.get(row.component_id) || { component_id: row.component_id, before: 0, after: 0, changed: 0, reps: new Set() };
    t.before += row.in_force || 0; t.after += row.recommended || 0;
    if (Math.abs(row.delta || 0) >= 0.005) { t.changed += 1; t.reps.add(row.rep_id); }
    totals.set(row.component_id, t);
  }
  return [...totals.values()];
}

function targetSentence() {
  if (!allAdjustments) return null;
  const reps = new Set(allAdjustments.filter(r => Math.abs(r.delta || 0) >= 0.005).map(r => r.rep_id));
  const inForce = targetTotals().filter(t => t.before > 0 && t.after > 0);
  const unit = id => { const w = weights.find(x => x.component_id === id); return w && CT.METRIC_UNITS[w.metric] === "money" ? names.currency : (w ? w.metric : ""); };
  return el("span", {}, ` Targets move for ${fmt.plural(reps.size, "rep")}` + (inForce.length ? ": " + inForce.map(t =>
    `${names.component(t.component_id)} ${fmt.short(t.before)} → ${fmt.short(t.after, unit(t.component_id))} (${fmt.signedPct(t.after / t.before - 1)})`).join(", ") : "") + ".");
}

function coverageSentence(currency) {
  const coverage = section("coverage");
  if (Array.isArray(coverage) && coverage.length) {
    return [el("ul", { id: "coverage-sentences" }, coverage.map(c => {
      const ok = c.coverage === null || c.coverage === undefined || c.min_quota_coverage === undefined || c.coverage >= c.min_quota_coverage - 1e-9;
      return el("li", { class: ok ? null : "neg" }, `${names.component(c.component_id)}: the reps' targets add up to ${fmt.short(c.targets)} against ${fmt.short(c.planned)} planned — `,
        el("strong", {}, fmt.pct(c.coverage, 0)), c.min_quota_coverage !== undefined ? ` (the rule: at least ${fmt.pct(c.min_quota_coverage, 0)})` : "");
    }))];
  }
  return [el("span", { class: "na" }, "Quota coverage (targets against the plan's own figures) is not reported by this review's engine; "),
          "the targets' totals per component are under ", el("a", { href: "#targets-heading" }, "target changes ↓"), "."];
}

// ------------------------------------------------------------------------------------------
// The decision card

function showDecision() {
  const form = document.getElementById("decision-form");
  const accept = document.getElementById("accept"), reject = document.getElementById("reject");
  const staleBox = document.getElementById("stale-box");
  staleBox.hidden = true;
  if (review.decision) {
    const d = review.decision;
    fill("decision-state", el("p", { id: "decision-taken" }, el("strong", {}, d.decision === "accept" ? "Accepted" : "Rejected"),
      ` by ${names.person(d.decided_by)}, ${fmt.time(d.decided_at)}: “${d.reason}”` + (d.new_plan_version ? ` — plan version ${d.new_plan_version} is now in force.` : "")));
    form.hidden = true;
    return;
  }
  fill("decision-state");
  let why = "", acceptWhy = "";
  if (!CT.has(who, "approver")) why = `Accepting or rejecting needs the approver or admin role; you are signed in as ${who.role}.`;
  else if (review.status !== "succeeded") why = `The review is ${review.status}; only a succeeded review can be decided.`;
  if (stale()) {
    acceptWhy = `It was computed against plan version ${review.plan_version}; version ${currentPlan.version} is in force now, so it can no longer be accepted.`;
    fill(staleBox, el("p", {}, el("strong", {}, "Stale. "), acceptWhy, " Re-run it under the plan in force, or reject it to close it."),
         CT.has(who, "analyst") ? el("button", { type: "button", class: "primary", id: "rerun", onclick: rerun }, `Re-run under plan version ${currentPlan.version}`)
           : el("p", { class: "muted small" }, `Re-running needs the analyst role or above (you are ${who.role}).`));
    staleBox.hidden = false;
  }
  accept.disabled = Boolean(why || acceptWhy);
  reject.disabled = Boolean(why);
  document.getElementById("decision-reason").disabled = Boolean(why);
  fill("decision-why", why || acceptWhy || "You will be asked to confirm.");
}

async function rerun() {
  const body = { assumption_set_id: review.assumption_set_id, in_force_only: review.in_force_only, ...(review.rules || {}) };
  const response = await CT.api("/v1/reviews", { method: "POST", json: body });
  if (!response.ok) { CT.pageError(response); return; }
  location.assign(`/reviews/${response.data.id}`);
}

async function decide(decision) {
  const form = document.getElementById("decision-form");
  CT.clearErrors(form);
  const reason = form.reason.value.trim();
  if (!reason) {
    fill("reason-error", `Write why you ${decision} it: the reason is kept in the audit log with your name.`);
    form.reason.focus();
    return;
  }
  const plan = await CT.api("/v1/plans/current");
  const version = plan.ok ? plan.data.version : review.plan_version;
  const body = decision === "accept"
    ? [`Plan version ${version + 1} goes into force now, replacing version ${version}.`, planChanges().join(""),
       "The reps' targets for the open periods change as listed on this page."]
    : ["The plan in force stays as it is; the review is closed."];
  const confirmed = await CT.confirm({ title: decision === "accept" ? `Accept review #${REVIEW_ID}?` : `Reject review #${REVIEW_ID}?`,
    body: [...body, `Your reason: “${reason}”`], ok: decision === "accept" ? "Accept and put it in force" : "Reject", danger: decision === "reject" });
  if (!confirmed) return;
  const response = await CT.api(`/v1/reviews/${REVIEW_ID}/decision`, { method: "POST", json: { decision, reason, plan_version: version } });
  if (!response.ok) {
    // the schema's own words for an empty reason are not for people
    for (const e of response.data.errors || []) if (e.field === "reason") e.message = "Write a reason for the decision (it is kept in the audit log).";
    CT.showErrors(form, response);
    return;
  }
  await load();
}

// ------------------------------------------------------------------------------------------
// The detail

function showPlans() {
  const s = review.summary, currency = s.currency || names.currency;
  const rows = s.comparison || [];
  const label = r => names.plan(r.plan);
  CT.bars("chart-alignment", rows.map(r => ({ label: label(r), value: r.alignment_efficiency })), { format: v => fmt.pct(v) });
  CT.bars("chart-margin", rows.map(r => ({ label: label(r), value: r.margin })), { format: v => fmt.short(v), axis: currency });
  if (!CT.pay.visible(who)) {
    fill("chart-net-margin", CT.pay.withheld(who, "Net margin figures")).classList.add("empty");
    fill("chart-pay", CT.pay.withheld(who)).classList.add("empty");
  } else {
    if (rows.some(r => netMargin(r) !== null)) CT.bars("chart-net-margin", rows.map(r => ({ label: label(r), value: netMargin(r) })), { format: v => fmt.short(v), axis: currency });
    else CT.notAvailable("chart-net-margin");
    if (rows.some(r => typeof r.pay_cost === "number")) CT.bars("chart-pay", rows.map(r => ({ label: label(r), value: r.pay_cost })), { format: v => fmt.short(v), axis: currency });
    else CT.notAvailable("chart-pay");
  }
  const columns = [{ key: "plan", label: "Plan", format: (v, r) => label(r) },
    { key: "alignment_efficiency", label: "Alignment", num: true, format: v => fmt.pct(v) },
    { key: "margin", label: `Margin (${currency})`, num: true, format: v => fmt.money(v) },
    { key: "revenue", label: `Revenue (${currency})`, num: true, format: v => fmt.money(v) }];
  if (CT.pay.visible(who)) columns.push(
    { key: "net_margin", label: `Net margin (${currency})`, num: true, format: (v, r) => fmt.money(netMargin(r)) },
    { key: "pay_cost", label: `Variable pay (${currency})`, num: true, format: v => fmt.money(v) },
    { key: "pay_cost_share", label: "Pay ÷ revenue", num: true, format: v => fmt.pct(v) });
  fill("comparison-table", CT.table(columns, rows, { id: "comparison" }));
}

function showFrontier() {
  const frontier = section("frontier");
  const currency = names.currency;
  if (!Array.isArray(frontier) || !frontier.length) { CT.notAvailable("chart-frontier"); CT.notAvailable("chart-frontier-money", ""); fill("frontier-table"); return; }
  const seesPay = CT.pay.visible(who);
  const net = frontier.map(f => typeof f.net_margin === "number" ? f.net_margin : (typeof f.pay_cost === "number" ? f.margin - f.pay_cost : null));
  const showNet = seesPay && net.some(v => v !== null);
  const label = f => `at most ${fmt.plural(f.components, "component")}`;
  CT.bars("chart-frontier", frontier.map(f => ({ label: label(f), value: f.alignment, color: CT.PLAN_COLORS[0] })), { format: v => fmt.pct(v) });
  fill("frontier-money-heading", showNet ? `Net margin (${currency})` : `Margin (${currency})`);
  CT.bars("chart-frontier-money", frontier.map((f, i) => ({ label: label(f), value: showNet ? net[i] : f.margin, color: CT.PLAN_COLORS[3] })),
          { format: v => fmt.short(v) });
  const columns = [{ key: "components", label: "At most", num: true, format: v => fmt.plural(v, "component") },
    { key: "alignment", label: "Alignment", num: true, format: v => fmt.pct(v) },
    { key: "margin", label: `Margin (${currency})`, num: true, format: v => fmt.money(v) }];
  if (seesPay) columns.push({ key: "net_margin", label: `Net margin (${currency})`, num: true, format: (v, r) => fmt.money(net[frontier.indexOf(r)]) },
                            { key: "pay_cost", label: `Variable pay (${currency})`, num: true, format: v => fmt.money(v) });
  columns.push({ key: "within_budget", label: "Within budget", format: v => v === true ? "yes" : (v === false ? "no" : "—") },
               { key: "curve", label: "Payout curve" });
  fill("frontier-table", CT.table(columns, frontier, { id: "frontier" }), seesPay ? null : el("p", { class: "muted small" }, CT.pay.note(who, "Net margin and pay per row")));
}

function showRulePrices() {
  const prices = section("rule_prices");
  if (!Array.isArray(prices) || !prices.length) {
    const binding = section("binding") || [];
    CT.notAvailable("rule-prices", "The price of each rule (what lifting it would gain) is not reported by this review's engine."
      + (binding.length ? ` Rules that shape this plan: ${binding.join(", ")}.` : ""));
    return;
  }
  const currency = names.currency;
  const priced = prices.filter(p => typeof p.price === "number");
  const holder = fill("rule-prices");
  holder.classList.remove("empty");
  if (priced.length) {
    holder.append(el("div", { class: "chart", id: "chart-rule-prices" }));
    CT.bars("chart-rule-prices", priced.map(p => ({ label: p.rule, value: p.price })), { format: v => fmt.short(v, currency), zero: true, colors: [CT.PLAN_COLORS[2]] });
  }
  const lifted = key => (v, p) => fmt.money((p.lifted_plan || {})[key]);
  const value = v => v === null || v === undefined ? "—" : (Array.isArray(v) ? v.join(" – ")
    : (typeof v === "object" ? Object.entries(v).map(([k, x]) => `${k.replace(/_/g, " ")} ${Array.isArray(x) ? x.join("–") : x}`).join(", ") : String(v)));
  holder.append(CT.table([{ key: "rule", label: "Rule" }, { key: "value", label: "Value", format: value },
    { key: "lifted", label: "Lifted to", format: value },
    { key: "binds", label: "Binds", format: (v, p) => (typeof p.price === "number" ? p.price > 1e-6 : v) ? "yes" : "no" },
    ...(priced.length ? [{ key: "price", label: `Price (${currency})`, num: true, format: v => fmt.money(v) },
      { key: "price_share", label: "Share of plan margin", num: true, format: v => fmt.pct(v, 2) }] : []),
    ...(CT.pay.visible(who) && prices.some(p => p.lifted_plan) ? [
      { key: "lifted_net", label: `Lifted: net margin (${currency})`, num: true, format: lifted("net_margin") },
      { key: "lifted_pay", label: `Lifted: variable pay (${currency})`, num: true, format: lifted("pay_cost") }] : []),
    { key: "message", label: "What it costs", wide: true, format: v => say(v) }], prices, { id: "rule-prices-table" }));
  if (!CT.pay.visible(who)) holder.append(el("p", { class: "muted small" }, CT.pay.note(who, "The prices under the net-margin objective (they move with pay)")));
}

function showCoverage() {
  const coverage = section("coverage");
  if (!Array.isArray(coverage) || !coverage.length) {
    // the engine does not report coverage: the totals of the targets per component stand in
    const totals = targetTotals();
    if (!totals.length) { CT.notAvailable("coverage"); return; }
    fill("coverage", el("p", { class: "na" }, "Coverage against the plan's own figures is not reported by this review's engine. The targets' totals over the open periods:"),
      CT.table([{ key: "component_id", label: "Component", format: v => names.tag("component", v) },
        { key: "before", label: "Σ targets in force", num: true, format: v => fmt.money(v) },
        { key: "after", label: "Σ recommended", num: true, format: v => fmt.money(v) },
        { key: "share", label: "Change", num: true, format: (v, r) => r.before ? fmt.signedPct(r.after / r.before - 1) : "new" }], totals, { id: "coverage-table" }));
    return;
  }
  const holder = fill("coverage", el("div", { class: "chart", id: "chart-coverage" }));
  holder.classList.remove("empty");
  CT.bars("chart-coverage", coverage.map(c => ({ label: names.component(c.component_id), value: c.coverage,
    color: c.coverage + 1e-9 >= (c.min_quota_coverage ?? 0) ? CT.GOOD : CT.BAD })), { format: v => fmt.pct(v, 0), zero: true });
  holder.append(CT.table([{ key: "component_id", label: "Component", format: v => names.tag("component", v) },
    { key: "targets", label: "Σ reps' targets", num: true, format: v => fmt.money(v) },
    { key: "planned", label: "Planned", num: true, format: v => fmt.money(v) },
    { key: "coverage", label: "Coverage", num: true, format: v => fmt.pct(v, 1) },
    { key: "min_quota_coverage", label: "At least", num: true, format: v => fmt.pct(v, 0) }], coverage, { id: "coverage-table" }));
}

function showPayImpact() {
  const currency = names.currency;
  if (!CT.pay.visible(who)) {
    fill("pay-impact-figures"); fill("pay-impact-table", CT.pay.withheld(who, "Pay impact per rep"));
    fill("chart-pay-impact").classList.add("empty");
    return;
  }
  const impact = section("pay_impact");
  if (!impact || !Array.isArray(impact.reps) || !impact.reps.length) { fill("pay-impact-figures"); CT.notAvailable("pay-impact-table"); fill("chart-pay-impact").classList.add("empty"); return; }
  const { cut, raise } = extremes(impact);
  fill("pay-impact-figures",
    CT.figure(impact.losers ?? "—", "reps who earn less"), CT.figure(impact.winners ?? "—", "reps who earn more"),
    CT.figure(fmt.signedPct(cut && cut.change_share), "largest cut", { id: "largest-cut", tone: "bad", note: cut ? names.rep(cut.rep_id) : null }),
    CT.figure(fmt.signedPct(raise && raise.change_share), "largest raise", { id: "largest-raise", tone: "good", note: raise ? names.rep(raise.rep_id) : null }),
    CT.figure(fmt.signedPct(impact.median_change), "median change"));
  const rows = impact.reps.map(r => ({ ...r, market_id: r.market_id || names.repMarket(r.rep_id),
    change: typeof r.recommended_pay === "number" && typeof r.in_force_pay === "number" ? r.recommended_pay - r.in_force_pay : null }));
  fill("pay-impact-table", CT.table([
    { key: "rep_id", label: "Rep", format: v => names.tag("rep", v), sort: r => names.rep(r.rep_id) },
    { key: "market_id", label: "Market", format: v => names.tag("market", v), sort: r => names.market(r.market_id) },
    { key: "in_force_pay", label: `Today (${currency})`, num: true, format: v => fmt.money(v) },
    { key: "recommended_pay", label: `Recommended (${currency})`, num: true, format: v => fmt.money(v) },
    { key: "change", label: `Change (${currency})`, num: true, format: v => el("span", { class: v < 0 ? "neg" : (v > 0 ? "pos" : null) }, fmt.signedMoney(v)) },
    { key: "change_share", label: "Change", num: true, format: v => el("span", { class: v < 0 ? "neg" : (v > 0 ? "pos" : null) }, fmt.signedPct(v)) }],
    rows.sort((a, b) => a.change_share - b.change_share), { id: "pay-table", sortable: true, filter: "Find a rep or market", pageSize: 12,
      rowClass: r => r.change_share < 0 ? "loss" : (r.change_share > 0 ? "gain" : null) }));
  // histogram of the change in about 20 bins of a round width (in points), losers red, winners green
  const shares = impact.reps.map(r => 100 * r.change_share).filter(v => Number.isFinite(v));
  const low = Math.min(...shares, 0), high = Math.max(...shares, 0);
  const width = [0.5, 1, 2, 5, 10, 20, 50, 100].find(w => (high - low) / w <= 24) || 200;
  const first = Math.floor(low / width) * width, count = Math.max(1, Math.ceil((high - first) / width + 1e-9));
  const bins = Array.from({ length: count }, (_, i) => ({ from: first + i * width, count: 0 }));
  for (const v of shares) bins[Math.min(count - 1, Math.floor((v - first) / width))].count += 1;
  CT.chart("chart-pay-impact", {
    type: "bar",
    data: { labels: bins.map(b => `${b.from} to ${b.from + width} %`), datasets: [{ label: "reps", data: bins.map(b => b.count),
            backgroundColor: bins.map(b => b.from + width <= 0 ? CT.BAD : (b.from >= 0 ? CT.GOOD : CT.NEUTRAL)) }] },
    options: { plugins: { legend: { display: false }, valueLabels: { format: v => v ? String(v) : "" } },
               scales: { x: { title: { display: true, text: "change of expected variable pay, recommended against today (%)" }, ticks: { maxRotation: 0, autoSkip: true } },
                         y: { title: { display: true, text: "reps" }, ticks: { precision: 0 } } } },
  }, bins.filter(b => b.count).map(b => `${b.count} reps between ${b.from} and ${b.from + width} %`).join("; "));
}

function showAttribution() {
  const attribution = section("attribution");
  const rows = Array.isArray(attribution) ? attribution : ((attribution && attribution.markets) || []);
  if (!rows.length) { CT.notAvailable("attribution", "What the assumption set and re-planning each change per market: not available for this review."); return; }
  fill("attribution", el("p", {}, "How each market's planned revenue moves, and why:"),
       el("ul", { id: "attribution-sentences" }, rows.map(r => el("li", {}, r.sentence || names.market(r.market_id)))),
       attribution.reference ? el("p", { class: "muted small" }, CT.words(attribution.reference)) : null,
       el("p", { class: "muted small" }, "The plan is what the markets can absorb; the targets below are what the reps are asked for. Where a target moves differently from the plan, its cause says why — the pay-cut rule lowers quotas to keep each rep's pay within the limit; how far the quotas then fall short of the plan is under “Quotas against plan”."));
}

function showMarketTargets() {
  // Σ recommended ÷ Σ in force − 1 of each component's targets, per market: the same rows as the
  // attribution's cause, so the two agree
  if (!allAdjustments) { CT.notAvailable("chart-market-targets"); return; }
  const totals = {};
  for (const row of allAdjustments) {
    const market = row.market_id || names.repMarket(row.rep_id);
    const key = `${market}|${row.component_id}`;
    totals[key] = totals[key] || { market, component: row.component_id, before: 0, after: 0, causes: {} };
    totals[key].before += row.in_force || 0; totals[key].after += row.recommended || 0;
    if (row.cause && Math.abs(row.delta || 0) >= 0.005) totals[key].causes[row.cause] = (totals[key].causes[row.cause] || 0) + (row.delta || 0);
  }
  const markets = [...new Set(Object.values(totals).map(t => t.market))];
  const components = [...new Set(Object.values(totals).filter(t => t.before > 0).map(t => t.component))];
  if (!markets.length || !components.length) { CT.notAvailable("chart-market-targets", "no target in force to compare with"); return; }
  const share = (m, c) => { const t = totals[`${m}|${c}`]; return t && t.before ? t.after / t.before - 1 : null; };
  const values = markets.flatMap(m => components.map(c => share(m, c))).filter(v => v !== null);
  document.getElementById("chart-market-targets").style.height = `${Math.max(220, markets.length * components.length * 22 + 90)}px`;
  CT.chart("chart-market-targets", {
    type: "bar",
    data: { labels: markets.map(m => names.market(m)), datasets: components.map((c, i) => ({ label: names.component(c), backgroundColor: CT.PLAN_COLORS[i % CT.PLAN_COLORS.length],
            data: markets.map(m => share(m, c) === null ? null : 100 * share(m, c)), maxBarThickness: 22 })) },
    options: { indexAxis: "y",
               plugins: { valueLabels: { format: v => fmt.signedPct(v / 100, 0) }, tooltip: { callbacks: { label: c => `${c.dataset.label}: ${fmt.signedPct(c.raw / 100)}` } } },
               scales: { x: { ...CT.range(values.map(v => 100 * v), { zero: true, room: 0.25 }), title: { display: true, text: "change of the targets, open periods (%)" }, ticks: { callback: v => `${v} %` } } } },
  }, markets.map(m => `${names.market(m)}: ` + components.map(c => `${names.component(c)} ${fmt.signedPct(share(m, c))}`).join(", ")).join("; "));
  const rows = Object.values(totals).filter(t => t.before > 0 || t.after > 0);
  const causeText = t => Object.entries(t.causes).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).map(([k]) => CAUSE_WORDS[k] || k).join(", ");
  fill("market-targets-table", CT.table([{ key: "market", label: "Market", format: v => names.tag("market", v) },
    { key: "component", label: "Component", format: v => names.tag("component", v) },
    { key: "before", label: "Σ in force", num: true, format: v => fmt.money(v) },
    { key: "after", label: "Σ recommended", num: true, format: v => fmt.money(v) },
    { key: "change", label: "Change", num: true, format: (v, t) => t.before ? fmt.signedPct(t.after / t.before - 1) : "new", sort: t => t.before ? t.after / t.before : Infinity },
    ...(allAdjustments.some(r => r.cause) ? [{ key: "causes", label: "Causes (largest first)", format: (v, t) => causeText(t) }] : [])],
    rows, { id: "market-targets", sortable: true, pageSize: 12 }));
}

function showPlanChanges() {
  fill("weights", weights.length ? CT.table([{ key: "component_id", label: "Component", format: v => names.tag("component", v) },
    { key: "in_force", label: "Weight today", num: true, format: v => fmt.pct(v) },
    { key: "recommended", label: "Recommended", num: true, format: v => fmt.pct(v) },
    { key: "delta", label: "Change", num: true, format: v => fmt.pts(v) }], weights, { id: "weights-table" }) : el("p", { class: "na" }, "No weight change."));
  const plan = section("plan");
  const today = currentPlanCurve();
  if (plan && Array.isArray(plan.curve)) CT.payoutCurve("chart-curve", plan.curve, { label: "recommended", compare: today, compareLabel: "today" });
  else if (today) CT.payoutCurve("chart-curve", today, { label: "today" });
  else CT.notAvailable("chart-curve");
  const changes = (section("changes") || []).filter(c => !c.rep_id);
  const perRep = (section("changes") || []).length - changes.length;
  const show = (v, row) => typeof v === "number" ? (row.kind && row.kind.startsWith("curve") ? fmt.pct(v, 0) : (Math.abs(v) <= 1.0001 ? fmt.pct(v) : fmt.num(v))) : (v ?? "—");
  fill("changes", changes.length ? CT.table([{ key: "kind", label: "Change" },
    { key: "component_id", label: "Component or attainment", format: (v, r) => v ? names.tag("component", v) : (r.attainment !== undefined ? `at ${fmt.pct(r.attainment, 0)} attainment` : "—") },
    { key: "before", label: "Today", num: true, format: show }, { key: "after", label: "Recommended", num: true, format: show },
    { key: "reason", label: "Why", wide: true, format: v => say(v) }], changes, { id: "changes-table" }) : null,
    el("p", { class: "muted small" }, perRep ? `${fmt.plural(perRep, "per-rep target change")}: see the targets below, each with its reason.` : ""));
}

async function showAdjustments() {
  const form = document.getElementById("filters");
  CT.clearErrors(form);
  const response = await CT.api(`/v1/reviews/${REVIEW_ID}/adjustments` + CT.query({ ...filters(), limit: PAGE, offset: adjustmentsOffset }));
  if (!response.ok) { CT.showErrors(form, response); return; }
  const { data } = response.data;
  const count = response.data.total ?? response.data.count;
  const withCause = data.some(r => r.cause);
  fill("adjustments", CT.table([{ key: "rep_id", label: "Rep", format: v => names.tag("rep", v) },
    { key: "market_id", label: "Market", format: v => names.tag("market", v) },
    { key: "component_id", label: "Component", format: v => names.tag("component", v) }, { key: "period", label: "Period" },
    { key: "in_force", label: "Today", num: true, format: v => fmt.num(v) },
    { key: "recommended", label: "Recommended", num: true, format: v => fmt.num(v) },
    { key: "delta", label: "Change", num: true, format: (v, r) => r.in_force ? fmt.signedPct(r.recommended / r.in_force - 1) : fmt.num(v) },
    ...(withCause ? [{ key: "cause", label: "Cause", format: v => CAUSE_WORDS[v] || v }] : []),
    { key: "reason", label: "Why", wide: true, format: v => CT.words(v) }], data, { id: "adjustments-table", empty: "No target matches." }));
  fill("adjustments-pager",
    el("button", { type: "button", disabled: adjustmentsOffset === 0, onclick: () => { adjustmentsOffset = Math.max(0, adjustmentsOffset - PAGE); showAdjustments(); } }, "← previous"),
    el("span", { class: "muted", id: "adjustments-count", "aria-live": "polite" }, count ? `${adjustmentsOffset + 1}–${adjustmentsOffset + data.length} of ${count} targets` : "no targets"),
    el("button", { type: "button", disabled: adjustmentsOffset + PAGE >= count, onclick: () => { adjustmentsOffset += PAGE; showAdjustments(); } }, "next →"));
}

function filters() {
  const form = document.getElementById("filters");
  return { rep_id: form.rep_id.value, market_id: form.market_id.value, component_id: form.component_id.value,
           period: form.period.value, changed_only: form.changed_only.checked ? "true" : "" };
}

function fillFilters() {
  const options = (id, rows) => document.getElementById(id).append(...rows.map(([value, text]) => el("option", { value }, text)));
  options("filter-rep", [...names.reps.values()].sort((a, b) => a.name.localeCompare(b.name)).map(r => [r.id, `${r.name} (${r.id})`]));
  options("filter-market", [...names.markets.values()].map(m => [m.id, m.name]));
  options("filter-component", weights.map(w => [w.component_id, w.label || w.component_id]));
  const periods = [...new Set((allAdjustments || []).map(r => r.period))];
  options("filter-period", (periods.length ? periods : names.periods).map(p => [p, p]));
}

async function showExplanation() {
  const response = await CT.api(`/v1/reviews/${REVIEW_ID}/explanation`);
  if (!response.ok) { CT.notAvailable("explanation"); return; }
  const messages = response.data.messages || [];
  fill("explanation", messages.length ? el("ul", {}, messages.slice(0, 15).map(m => el("li", {}, CT.words(m)))) : el("p", { class: "na" }, "Nothing binds."));
  const s = review.summary || {};
  const lp = s.plan_lp || {};
  fill("how-body", el("ul", {},
    el("li", {}, `Planning solve: ${s.solver_status}` + (lp.seconds ? `, ${fmt.num(lp.seconds, 2)} s` : "") + (lp.warm ? ", warm-started" : "")),
    s.selected ? el("li", {}, `Chosen: ${s.selected}`) : null,
    s.message ? el("li", {}, `Engine notes: ${s.message}`) : null,
    el("li", {}, `${fmt.plural(s.adjustments || 0, "target row")} (rep × component × period).`)));
}

// ------------------------------------------------------------------------------------------

async function load() {
  const response = await CT.api(`/v1/reviews/${REVIEW_ID}`);
  if (!response.ok) {
    CT.pageError(response);
    fill("review-meta", response.status === 404 ? `There is no review #${REVIEW_ID}.` : "");
    fill("summary", el("li", { class: "na" }, "Nothing to decide."));
    document.querySelectorAll("#decision-form button, #decision-form textarea").forEach(b => { b.disabled = true; });
    fill("decision-why", "There is no review to decide.");
    return;
  }
  review = response.data;
  const [plan, aset] = await Promise.all([CT.api("/v1/plans/current"), assumptionSet ? null : CT.api(`/v1/assumption-sets/${review.assumption_set_id}`)]);
  currentPlan = plan.ok ? plan.data : null;
  if (aset && aset.ok) assumptionSet = aset.data;
  if (!reviewedPlan && currentPlan && review.plan_version !== currentPlan.version) {
    const old = await CT.api(`/v1/plans/${review.plan_version}`);
    reviewedPlan = old.ok ? old.data : null;
  }
  showHead();
  showDecision();
  if (review.status === "queued" || review.status === "running") { setTimeout(load, 1000); return; }
  if (review.status === "succeeded" && review.summary && document.getElementById("result").hidden) {
    const [extra, adjustments] = await Promise.all([CT.api(`/v1/reviews/${REVIEW_ID}/recommendation`),
      CT.fetchAll(`/v1/reviews/${REVIEW_ID}/adjustments`, {}, { page: 100000 })]);
    recommendation = extra.ok && extra.data && typeof extra.data === "object" ? extra.data : {};
    if (adjustments.ok) { allAdjustments = adjustments.data.data; weights = adjustments.data.weight_changes || []; names.addComponents(weights); }
    document.getElementById("result").hidden = false;
    document.getElementById("export-xlsx").disabled = false;
    showSummary(); showDecision();
    showPlans(); showFrontier(); showRulePrices(); showCoverage(); showPayImpact(); showAttribution(); showMarketTargets(); showPlanChanges();
    fillFilters();
    await Promise.all([showAdjustments(), showExplanation()]);
  } else if (review.status !== "succeeded") {
    fill("summary", el("li", { class: "na" }, review.status === "failed" ? "The review failed: there is no recommendation to decide on." : `The review is ${review.status}.`));
  }
}

CT.start(async (identity) => {
  who = identity;
  names = await CT.names();
  document.getElementById("decision-form").addEventListener("submit", (event) => {
    event.preventDefault();
    decide(event.submitter ? event.submitter.value : "accept");
  });
  document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); adjustmentsOffset = 0; showAdjustments(); });
  document.getElementById("download-csv").addEventListener("click", () =>
    CT.download(`/v1/reviews/${REVIEW_ID}/adjustments` + CT.query({ ...filters(), format: "csv" }), `review-${REVIEW_ID}-adjustments.csv`));
  document.getElementById("export-xlsx").addEventListener("click", () =>
    CT.download(`/v1/reviews/${REVIEW_ID}/export.xlsx`, `review-${REVIEW_ID}.xlsx`, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
  await load();
});
