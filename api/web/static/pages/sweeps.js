// The sweeps page: run a scenario sweep from a small grid form (factors scoped to markets and
// products, each with its values) or a sweep file, and the list of sweeps.
"use strict";
const { el, fmt, fill } = CT;
let names;

function factorNode(index, f = {}) {
  const key = k => `sweep.factors[${index}].${k}`;
  const groups = (names.data.groups || []).map(g => ({ value: `group:${g}`, label: `${g} products`, hint: " (group)" }));
  return el("div", { class: "adjustment-block", "data-index": index },
    el("div", { class: "head" }, el("h3", {}, `Factor ${index + 1}`),
       el("button", { type: "button", class: "remove", onclick: () => render(read().filter((_, i) => i !== index)) }, "Remove")),
    el("div", { class: "row" },
      el("label", {}, "Factor", el("select", { "data-key": "factor" }, ["demand", "price", "conversion"].map(x => el("option", { value: x, selected: f.factor === x ? true : null }, x))),
         el("span", { class: "field-error", "data-error-for": key("factor") })),
      el("label", { class: "grow" }, "Values (× 1 = unchanged), separated by commas",
         el("input", { "data-key": "values", value: (f.values || [0.8, 1, 1.2]).join(", "), inputmode: "decimal" }),
         el("span", { class: "field-error", "data-error-for": key("values") }))),
    el("div", { class: "row" },
      CT.picker({ name: key("markets"), legend: "Markets", all: "every market", selected: f.markets || [],
                  options: [...names.markets.values()].map(m => ({ value: m.id, label: m.name })) }),
      CT.picker({ name: key("products"), legend: "Products", all: "every product", selected: f.products || [],
                  options: [...groups, ...[...names.products.values()].map(p => ({ value: p.id, label: p.name }))] })));
}

function read() {
  return [...document.querySelectorAll("#factors .adjustment-block")].map(block => {
    const factor = { factor: block.querySelector("[data-key=factor]").value,
                     values: block.querySelector("[data-key=values]").value.split(",").map(s => s.trim()).filter(Boolean).map(Number) };
    for (const scope of ["markets", "products"]) {
      const picked = block.querySelector(`[data-picker-name$=".${scope}"]`).values();
      if (picked.length) factor[scope] = picked;
    }
    return factor;
  });
}

function render(factors) {
  fill("factors", factors.map((f, i) => factorNode(i, f)));
  document.querySelectorAll("#factors .remove").forEach(b => { b.hidden = factors.length === 1; });
}

async function submit(sweep, form) {
  const response = await CT.api("/v1/sweeps", { method: "POST", json: { sweep } });
  if (!response.ok) { CT.showErrors(form, response); return; }
  location.assign(`/sweeps/${response.data.id}`);
}

async function showSweeps() {
  const response = await CT.api("/v1/sweeps" + CT.query({ limit: 50 }));
  if (!response.ok) {
    // a service without the sweep list: open one by its id
    fill("sweeps", el("p", { class: "na" }, response.status === 405 || response.status === 404
      ? "This service does not list sweeps yet: open one by its number (shown when you run it, and in the audit log)." : response.data.detail));
    return;
  }
  const rows = response.data.data || [];
  fill("sweeps", rows.length ? CT.table([
    { key: "id", label: "Sweep", format: v => el("a", { href: `/sweeps/${v}` }, `#${v}`) },
    { key: "status", label: "Status", format: v => el("span", { class: "badge " + v }, v) },
    { key: "params", label: "Name", format: p => (p && p.sweep && p.sweep.name) || "—" },
    { key: "summary", label: "Scenarios", num: true, format: (s, r) => (s && s.n_scenarios) ?? (r.params && r.params.n_scenarios) ?? "—" },
    { key: "choice", label: "Choice", format: (v, r) => r.summary && r.summary.choice ? candidateWords(r.summary.choice.candidate) : "—" },
    { key: "created_by", label: "By", format: v => names.person(v) },
    { key: "submitted_at", label: "Submitted", format: fmt.time }], rows, { id: "sweeps-table" }) : el("p", { class: "na" }, "No sweep yet."));
}

function candidateWords(c) { return c === "base" ? "the plan of the base case" : `the plan of scenario ${c}`; }

CT.start(async (who) => {
  names = await CT.names();
  render([{ factor: "demand", markets: [], values: [0.5, 0.75, 1] }]);
  document.getElementById("add-factor").addEventListener("click", () => render([...read(), {}]));
  document.querySelectorAll("#add-factor, #sweep-submit").forEach(b => { b.disabled = false; });
  if (!CT.has(who, "analyst")) {
    document.querySelectorAll("#sweep-form input, #sweep-form select, #sweep-form button, #sweep-upload input, #sweep-upload button").forEach(n => { n.disabled = true; });
    const note = document.getElementById("run-note");
    note.hidden = false;
    note.textContent = `Running a sweep needs the analyst role or above; you are signed in as ${who.role}.`;
  }
  document.getElementById("sweep-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    CT.clearErrors(form);
    const factors = read();
    const errors = [];
    factors.forEach((f, i) => {
      if (!f.values.length) errors.push({ field: `sweep.factors[${i}].values`, message: "list at least one value" });
      else if (f.values.some(v => !Number.isFinite(v) || v <= 0)) errors.push({ field: `sweep.factors[${i}].values`, message: "every value must be a number > 0 (1 = unchanged)" });
    });
    if (errors.length) { CT.showErrors(form, { status: 422, data: { detail: "", errors } }); return; }
    await submit({ name: form.name.value.trim() || "what-if", mode: "grid", criterion: form.criterion.value, factors }, form);
  });
  document.getElementById("sweep-upload").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = document.getElementById("sweep-file").files[0];
    const box = document.getElementById("upload-error");
    box.textContent = "";
    if (!file) { box.textContent = "Choose a file."; return; }
    let sweep;
    try { sweep = file.name.toLowerCase().endsWith(".json") ? JSON.parse(await file.text()) : null; } catch (err) { box.textContent = `${file.name}: not JSON (${err.message})`; return; }
    if (sweep === null) { box.textContent = "The page sends JSON: convert a YAML sweep file, or run it with `comptune sweep`."; return; }
    await submit(sweep, event.target);
  });
  document.getElementById("open-form").addEventListener("submit", event => {
    event.preventDefault();
    location.assign(`/sweeps/${Number(document.getElementById("open-id").value)}`);
  });
  await showSweeps();
});
