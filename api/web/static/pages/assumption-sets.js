const { el, fmt, fill } = CT;

function addAdjustment() {
  const blocks = document.getElementById("adjustments");
  const index = blocks.children.length;
  const block = document.getElementById("adjustment-template").content.firstElementChild.cloneNode(true);
  // every error slot in the block names the adjustment's key path, e.g. adjustments[1].demand
  block.querySelectorAll("[data-error-for]").forEach(slot => {
    const key = slot.dataset.errorFor;
    slot.dataset.errorFor = `adjustments[${index}]` + (key ? "." + key : "");
  });
  block.querySelectorAll("input").forEach(input => { input.name = `adjustments[${index}].${input.dataset.key}`; });
  blocks.append(block);
}

function ids(text) { return text.split(",").map(s => s.trim()).filter(Boolean); }

function bodyFromForm(form) {
  const body = { name: form.name.value.trim(), adjustments: [] };
  if (form.parent.value) body.parent = Number(form.parent.value);
  for (const block of document.querySelectorAll("#adjustments .adjustment-block")) {
    const value = key => block.querySelector(`[data-key="${key}"]`).value.trim();
    const adjustment = {};
    for (const key of ["markets", "products", "reps"]) if (value(key)) adjustment[key] = ids(value(key));
    if (value("from") || value("to")) {
      adjustment.periods = {};
      if (value("from")) adjustment.periods.from = value("from");
      if (value("to")) adjustment.periods.to = value("to");
    }
    for (const key of ["demand", "price", "cost", "conversion", "hours"]) if (value(key) !== "") adjustment[key] = Number(value(key));
    if (value("reason")) adjustment.reason = value("reason");
    body.adjustments.push(adjustment);
  }
  return body;
}

async function showSets() {
  const response = await CT.api("/v1/assumption-sets?limit=1000");
  if (!response.ok) { CT.pageError(response); return; }
  const sets = response.data.data;
  const select = document.getElementById("parent-select");
  select.replaceChildren(el("option", { value: "" }, "— none —"),
    ...sets.map(s => el("option", { value: s.id }, `#${s.id} ${s.name} v${s.version}`)));
  if (!sets.length) { fill("sets", el("p", { class: "na" }, "No assumption set yet.")); return; }
  fill("sets", CT.table([
    { key: "id", label: "Id", format: v => el("a", { href: `/assumption-sets/${v}` }, `#${v}`) },
    { key: "name", label: "Name" }, { key: "version", label: "Version", num: true },
    { key: "parent_id", label: "Parent", format: v => v ? el("a", { href: `/assumption-sets/${v}` }, `#${v}`) : "—" },
    { key: "body", label: "Adjustments", format: b => (b.adjustments || []).map(a => a.reason || JSON.stringify(a)).join(" · ") },
    { key: "diff", label: "Changes vs parent", num: true, format: d => d.length },
    { key: "created_by", label: "By" }, { key: "created_at", label: "At", format: fmt.time }], sets.slice().reverse()),
    el("p", { class: "muted" }, `${response.data.count} sets`));
}

CT.start(async (who) => {
  addAdjustment();
  document.getElementById("add-adjustment").addEventListener("click", addAdjustment);
  if (!CT.has(who, "analyst")) {
    for (const button of document.querySelectorAll("#create-submit, #upload-submit")) button.disabled = true;
    const note = document.getElementById("create-role-note");
    note.hidden = false;
    note.textContent = `Storing an assumption set needs the analyst role or above; you are signed in as ${who.role}.`;
  }
  document.getElementById("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    CT.clearErrors(form);
    const response = await CT.api("/v1/assumption-sets", { method: "POST", json: bodyFromForm(form) });
    if (!response.ok) { CT.showErrors(form, response); return; }
    location.assign(`/assumption-sets/${response.data.id}`);
  });
  document.getElementById("upload-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = document.getElementById("upload-file").files[0];
    const box = document.getElementById("upload-error");
    box.textContent = "";
    if (!file) { box.textContent = "choose a file"; return; }
    const json = file.name.toLowerCase().endsWith(".json");
    const response = await CT.api("/v1/assumption-sets", { method: "POST", body: await file.text(),
                                                             contentType: json ? "application/json" : "application/yaml" });
    if (!response.ok) {
      const errors = (response.data.errors || []).map(e => (e.field ? `${e.field}: ` : "") + e.message);
      box.textContent = `${file.name}: ` + (errors.length ? errors.join("; ") : response.data.detail);
      return;
    }
    location.assign(`/assumption-sets/${response.data.id}`);
  });
  await showSets();
});
