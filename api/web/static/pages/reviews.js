// The reviews page: start one (analyst and up), and the list, newest first, stale ones marked.
"use strict";
const { el, fmt, fill } = CT;
const PAGE = 25;
let offset = 0, names, planVersion = null, sets = new Map();

async function showReviews() {
  const response = await CT.api("/v1/reviews" + CT.query({ limit: PAGE, offset }));
  if (!response.ok) { CT.pageError(response); return; }
  const { data, count } = response.data;
  fill("reviews", data.length ? CT.table(CT.reviewColumns(names, { planVersion, sets }), data, { id: "reviews-table", sortable: true })
    : el("p", { class: "na" }, "No review yet."));
  fill("pager",
    el("button", { type: "button", disabled: offset === 0, onclick: () => { offset -= PAGE; showReviews(); } }, "← newer"),
    el("span", { class: "muted" }, count ? `${offset + 1}–${offset + data.length} of ${count}` : ""),
    el("button", { type: "button", disabled: offset + PAGE >= count, onclick: () => { offset += PAGE; showReviews(); } }, "older →"));
}

CT.start(async (who) => {
  names = await CT.names();
  const [all, plan] = await Promise.all([CT.fetchAll("/v1/assumption-sets", {}, { page: 1000 }), CT.api("/v1/plans/current")]);
  planVersion = plan.ok ? plan.data.version : null;
  if (all.ok) {
    sets = new Map(all.data.data.map(s => [s.id, s]));
    fill("set-select", all.data.data.slice().reverse().map(s => el("option", { value: s.id }, `${s.name} (version ${s.version}) — ${(s.body.adjustments || []).map(a => CT.adjustmentWords(a, names)).join("; ").slice(0, 120)}`)));
  }
  document.getElementById("start-submit").disabled = !(all.ok && all.data.data.length);  // enabled once the sets are there
  if (!CT.has(who, "analyst")) {
    document.querySelectorAll("#start-form select, #start-form input, #start-form button").forEach(n => { n.disabled = true; });
    const note = document.getElementById("start-note");
    note.hidden = false;
    note.textContent = `Starting a review needs the analyst role or above; you are signed in as ${who.role}.`;
  }
  document.getElementById("start-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = { assumption_set_id: Number(form.assumption_set_id.value), in_force_only: form.in_force_only.checked };
    if (form.time_limit_s.value !== "") body.time_limit_s = Number(form.time_limit_s.value);
    const response = await CT.api("/v1/reviews", { method: "POST", json: body });
    if (!response.ok) { CT.showErrors(form, response); return; }
    location.assign(`/reviews/${response.data.id}`);
  });
  await showReviews();
});
