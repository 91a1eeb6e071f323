const { el, fmt, fill } = CT;
const SET_ID = {{ set_id }};

function show(value) { return value === null || value === undefined ? "—" : (typeof value === "object" ? JSON.stringify(value) : String(value)); }

CT.start(async (who) => {
  const response = await CT.api(`/v1/assumption-sets/${SET_ID}`);
  if (!response.ok) { CT.pageError(response); return; }
  const set = response.data;
  fill("set-title", `${set.name} · version ${set.version} (#${set.id})`);
  fill("set-meta", el("p", {}, `By ${set.created_by}, ${fmt.time(set.created_at)}. Parent: `,
    set.parent_id ? el("a", { href: `/assumption-sets/${set.parent_id}` }, `#${set.parent_id}`) : "none (every adjustment is new)"));
  fill("set-diff", set.diff.length ? CT.table([{ key: "op", label: "Change" }, { key: "path", label: "Key" },
    { key: "old", label: "Parent", format: show }, { key: "new", label: "This set", format: show }], set.diff)
    : el("p", { class: "na" }, "No change against the parent."));
  fill("set-body", JSON.stringify(set.body, null, 2));
  const form = document.getElementById("review-form");
  if (!CT.has(who, "analyst")) {
    document.getElementById("start-review").disabled = true;
    fill("review-note", ` Starting a review needs the analyst role or above; you are signed in as ${who.role}.`);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const started = await CT.api("/v1/reviews", { method: "POST", json: { assumption_set_id: SET_ID } });
    if (!started.ok) { CT.showErrors(form, started); return; }
    location.assign(`/reviews/${started.data.id}`);
  });
});
