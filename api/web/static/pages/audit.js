// The audit log (approver and admin): every write and decision in words — who (the person behind
// the token), what, on which review, set or sweep (linked), and the particulars — filtered and paged.
"use strict";
const { el, fmt, fill } = CT;
const PAGE = 50;
let names, offset = 0;

const ACTIONS = {
  "decision.accept": "accepted a review", "decision.reject": "rejected a review", "review.create": "started a review",
  "review.cancel": "canceled a review", "review.succeeded": "review finished", "review.failed": "review failed",
  "review.canceled": "review canceled", "assumption_set.create": "stored an assumption set", "actuals.upsert": "posted actuals",
  "sweep.create": "started a sweep", "sweep.succeeded": "sweep finished", "sweep.failed": "sweep failed",
  "benchmark.create": "ran a benchmark", "benchmark.cancel": "canceled a benchmark", "benchmark.succeeded": "benchmark finished",
  "benchmark.failed": "benchmark failed", "dataset.load": "loaded a dataset", "dataset.select": "switched the dataset",
  "token.create": "created a token", "token.revoke": "revoked a token", "job.interrupted": "a job was interrupted",
  "replay.create": "started a replay", "replay.cancel": "canceled a replay", "replay.succeeded": "replay finished",
  "replay.failed": "replay failed", "correction.create": "ran the correction system", "correction.cancel": "canceled a correction",
  "correction.succeeded": "correction finished", "correction.failed": "correction failed",
  "correction.store": "stored a correction as an assumption set",
};
const PAGES = { review: "/reviews/", assumption_set: "/assumption-sets/", sweep: "/sweeps/", replay: "/replays/" };

function target(text) {
  const [kind, id] = String(text || "").split(":");
  const words = { review: "review", assumption_set: "assumption set", sweep: "sweep", benchmark: "benchmark", token: "token", dataset: "dataset", replay: "replay", correction: "correction" }[kind] || kind;
  return PAGES[kind] && id ? el("a", { href: PAGES[kind] + id }, `${words} #${id}`) : (id ? `${words} #${id}` : text);
}

function detail(d) {
  const entries = Object.entries(d || {}).filter(([, v]) => v !== null && v !== undefined && v !== "");
  if (!entries.length) return "—";
  return el("span", { class: "small" }, entries.map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · "));
}

function filters() {
  const form = document.getElementById("audit-filters");
  return { action: form.action.value, actor: form.actor.value };
}

async function show() {
  const form = document.getElementById("audit-filters");
  CT.clearErrors(form);
  const response = await CT.api("/v1/audit" + CT.query({ ...filters(), limit: PAGE, offset }));
  if (response.status === 403) {
    const note = document.getElementById("audit-note");
    note.hidden = false;
    note.textContent = response.data.detail || "The audit log is shown to approver and admin only.";
    form.hidden = true;
    return;
  }
  if (!response.ok) { CT.showErrors(form, response); return; }
  const { data, count } = response.data;
  fill("audit", CT.table([{ key: "at", label: "When", format: fmt.time },
    { key: "actor", label: "Who", format: (v, r) => el("span", { title: `token: ${v}` }, names.person(v, true), el("span", { class: "muted small" }, ` · ${r.role}`)) },
    { key: "action", label: "What", format: v => el("span", { title: v }, ACTIONS[v] || v) },
    { key: "target", label: "On", format: target }, { key: "detail", label: "Particulars", format: detail }], data, { id: "audit-table", empty: "No entry matches." }));
  fill("audit-pager",
    el("button", { type: "button", disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE); show(); } }, "← newer"),
    el("span", { class: "muted", id: "audit-count" }, count ? `${offset + 1}–${offset + data.length} of ${count} entries` : "no entries"),
    el("button", { type: "button", disabled: offset + PAGE >= count, onclick: () => { offset += PAGE; show(); } }, "older →"));
}

CT.start(async () => {
  names = await CT.names();
  document.getElementById("filter-action").append(...Object.entries(ACTIONS).map(([value, text]) => el("option", { value }, text)));
  document.getElementById("filter-actor").append(...[...names.people.values()].map(p => el("option", { value: p.name }, names.person(p.name))));
  document.getElementById("audit-filters").addEventListener("submit", event => { event.preventDefault(); offset = 0; show(); });
  await show();
});
