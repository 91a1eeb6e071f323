// One scenario sweep: its status, the robust choice, the plans compared across the scenarios
// (expected and worst-case margin, efficiency), the scenarios in words and the score matrix.
"use strict";
const { el, fmt, fill } = CT;
const SWEEP_ID = Number(CT.pageData("id"));
let names;

const candidateWords = c => c === "base" ? "base-case plan" : `plan of ${c}`;

function scenarioWords(s, columns) {
  return columns.map(c => `${CT.sweepFactorWords(c, names)} × ${fmt.num(s[c], 3)}`).join(", ");
}

async function load() {
  if (CT.pageData("validId") !== "1") { fill("sweep-meta", `There is no sweep #${SWEEP_ID}.`); return; }
  const response = await CT.api(`/v1/sweeps/${SWEEP_ID}?full=true`);
  if (!response.ok) { fill("sweep-meta", el("span", { class: "notice bad" }, response.status === 404 ? `There is no sweep #${SWEEP_ID}.` : response.data.detail)); return; }
  const sweep = response.data;
  const name = (sweep.params.sweep || {}).name || `#${sweep.id}`;
  fill("page-title", `Sweep #${sweep.id}: ${name} `, el("span", { class: "badge " + sweep.status, id: "sweep-status" }, sweep.status));
  fill("sweep-title", `${(sweep.params.sweep || {}).mode === "monte_carlo" ? "Monte Carlo" : "Grid"}: ${fmt.plural(sweep.params.n_scenarios || 0, "scenario")}`);
  fill("sweep-meta", `Started by ${names.person(sweep.created_by)}, ${fmt.time(sweep.submitted_at)}` + (sweep.summary && sweep.summary.seconds ? ` · ${fmt.num(sweep.summary.seconds, 1)} s` : ""));
  const running = sweep.status === "queued" || sweep.status === "running";
  document.getElementById("sweep-progress").hidden = !running;
  if (running) { setTimeout(load, 1500); return; }
  if (sweep.status !== "succeeded" || !sweep.result) { fill("sweep-choice", el("p", { class: "notice bad" }, `The sweep ${sweep.status}: ${sweep.error || ""}`)); return; }
  const { candidates, scenarios, scores, choice } = sweep.result;
  const factorColumns = Object.keys(scenarios[0] || {}).filter(k => /\[/.test(k));
  const currency = names.currency;
  fill("sweep-choice", el("p", { id: "sweep-choice-text" }, el("strong", {}, `Choice: the ${candidateWords(choice.candidate)}`),
    ` — ${choice.reason}: expected margin ${fmt.short(choice.expected_margin, currency)}, worst case ${fmt.short(choice.worst_margin, currency)}.`,
    choice.candidate !== "base" && scenarios.find(s => s.scenario === choice.candidate)
      ? ` (${choice.candidate}: ${scenarioWords(scenarios.find(s => s.scenario === choice.candidate), factorColumns)})` : ""),
    el("p", { class: "muted small" }, "Review the chosen plan's alignment with a review under that scenario: a sweep scores margins, not what the reps would sell."));
  document.getElementById("sweep-result").hidden = false;
  const shown = candidates.slice().sort((a, b) => b.expected_margin - a.expected_margin).slice(0, 12);
  const color = c => c.candidate === choice.candidate ? CT.PLAN_COLORS[0] : (c.candidate === "base" ? CT.PLAN_COLORS[1] : CT.PLAN_COLORS[6]);
  CT.bars("chart-candidates", shown.map(c => ({ label: candidateWords(c.candidate), value: c.expected_margin, color: color(c) })), { format: v => fmt.short(v), axis: currency });
  CT.bars("chart-worst", shown.map(c => ({ label: candidateWords(c.candidate), value: c.worst_margin, color: color(c) })), { format: v => fmt.short(v), axis: currency });
  fill("candidates", CT.table([{ key: "candidate", label: "Plan", format: v => candidateWords(v) + (v === choice.candidate ? " ✓ chosen" : "") },
    { key: "expected_margin", label: `Expected margin (${currency})`, num: true, format: v => fmt.money(v) },
    { key: "worst_margin", label: `Worst case (${currency})`, num: true, format: v => fmt.money(v) },
    { key: "mean_efficiency", label: "Mean efficiency", num: true, format: v => fmt.pct(v) },
    { key: "worst_efficiency", label: "Worst efficiency", num: true, format: v => fmt.pct(v) }], candidates, { id: "candidates-table", sortable: true, pageSize: 20 }));
  fill("scenarios", CT.table([{ key: "scenario", label: "Scenario" },
    { key: "factors", label: "What it assumes", format: (v, s) => scenarioWords(s, factorColumns) },
    { key: "optimal_margin", label: `Its best margin (${currency})`, num: true, format: v => fmt.money(v) },
    { key: "revenue", label: `Revenue (${currency})`, num: true, format: v => fmt.money(v) },
    { key: "status", label: "Solve" }], scenarios, { id: "scenarios-table", sortable: true, filter: "Find", pageSize: 20 }));
  const scenarioIds = scenarios.slice(0, 12).map(s => s.scenario);
  const byPair = new Map(scores.map(s => [`${s.candidate}|${s.scenario}`, s]));
  fill("scores", CT.table([{ key: "candidate", label: "Plan \\ scenario", format: v => candidateWords(v) },
    ...scenarioIds.map(id => ({ key: id, label: id, num: true, format: (v, r) => fmt.pct((byPair.get(`${r.candidate}|${id}`) || {}).efficiency) }))],
    shown, { id: "scores-table" }), scenarios.length > 12 || candidates.length > 12 ? el("p", { class: "muted small" }, "The first 12 plans and scenarios; the CSV files hold all.") : null);
  document.querySelectorAll("[data-table]").forEach(button => button.addEventListener("click", () =>
    CT.download(`/v1/sweeps/${SWEEP_ID}/${button.dataset.table}?format=csv`, `sweep-${SWEEP_ID}-${button.dataset.table}.csv`)));
}

CT.start(async () => { names = await CT.names(); await load(); });
