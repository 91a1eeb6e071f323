const { el, fmt, fill } = CT;
const PAGE = 25;
let offset = 0;

async function showReviews() {
  const response = await CT.api("/v1/reviews" + CT.query({ limit: PAGE, offset }));
  if (!response.ok) { CT.pageError(response); return; }
  const { data, count } = response.data;
  fill("reviews", data.length ? CT.table([
    { key: "id", label: "Review", format: v => el("a", { href: `/reviews/${v}` }, `#${v}`) },
    { key: "status", label: "Status", format: v => el("span", { class: "badge " + v }, v) },
    { key: "assumption_set_id", label: "Assumption set", format: v => v ? el("a", { href: `/assumption-sets/${v}` }, `#${v}`) : "—" },
    { key: "plan_version", label: "Plan version", num: true },
    { key: "created_by", label: "By" }, { key: "submitted_at", label: "Submitted", format: fmt.time },
    { key: "duration_s", label: "Duration (s)", num: true, format: v => fmt.num(v, 1) },
    { key: "decision", label: "Decision", format: d => d ? `${d.decision} by ${d.decided_by}` : "—" }], data)
    : el("p", { class: "na" }, "No review yet."));
  fill("pager",
    el("button", { type: "button", disabled: offset === 0, onclick: () => { offset -= PAGE; showReviews(); } }, "← newer"),
    el("span", { class: "muted" }, count ? `${offset + 1}–${offset + data.length} of ${count}` : ""),
    el("button", { type: "button", disabled: offset + PAGE >= count, onclick: () => { offset += PAGE; showReviews(); } }, "older →"));
}

CT.start(async (who) => {
  const sets = await CT.api("/v1/assumption-sets?limit=1000");
  if (sets.ok) {
    fill("set-select", sets.data.data.slice().reverse().map(s => el("option", { value: s.id }, `#${s.id} ${s.name} v${s.version}`)));
  }
  if (!CT.has(who, "analyst")) {
    document.getElementById("start-submit").disabled = true;
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
