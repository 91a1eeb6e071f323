// The assumption sets page: a new set from a form whose scopes are pickers of the dataset's
// markets, products and reps (ids sent, names shown), every error shown at once next to its field;
// an upload of the YAML/JSON file; the stored sets in words. `?from_alarm=ID` starts the form from
// that alarm's suggested adjustment.
"use strict";
const { el, fmt, fill } = CT;
let names;

function blockNode(index, adj = {}) {
  const key = k => `adjustments[${index}].${k}`;
  const periods = names.periods;
  const periodSelect = (which, value) => el("select", { "data-key": which, name: key(which) },
    el("option", { value: "" }, which === "from" ? "the first period" : "the last period"),
    periods.map(p => el("option", { value: p, selected: value === p ? true : null }, p)));
  const groups = (names.data.groups || []).map(g => ({ value: `group:${g}`, label: `${g} products`, hint: " (group)" }));
  const products = [...names.products.values()].map(p => ({ value: p.id, label: p.name, hint: ` · ${p.group}` }));
  const reps = [...names.reps.values()].sort((a, b) => a.name.localeCompare(b.name))
    .map(r => ({ value: r.id, label: r.name, hint: ` · ${names.market(r.market_id)}` }));
  const range = adj.periods && !Array.isArray(adj.periods) ? adj.periods : {};
  return el("div", { class: "adjustment-block", "data-index": index },
    el("div", { class: "head" }, el("h3", {}, `Adjustment ${index + 1}`),
       el("button", { type: "button", class: "remove", onclick: () => removeBlock(index) }, "Remove")),
    el("div", { class: "row" },
      CT.picker({ name: key("markets"), legend: "Markets", all: "every market", selected: adj.markets || [],
                  options: [...names.markets.values()].map(m => ({ value: m.id, label: m.name })) }),
      CT.picker({ name: key("products"), legend: "Products", all: "every product", selected: adj.products || [], options: [...groups, ...products] }),
      CT.picker({ name: key("reps"), legend: "Reps (narrow selling hours only)", all: "every rep", selected: adj.reps || [], options: reps })),
    el("div", { class: "row" },
      el("label", {}, "From", periodSelect("from", range.from), el("span", { class: "field-error", "data-error-for": key("periods.from") })),
      el("label", {}, "To", periodSelect("to", range.to), el("span", { class: "field-error", "data-error-for": key("periods.to") }),
         el("span", { class: "field-error", "data-error-for": key("periods") }))),
    el("div", { class: "row" }, CT.FACTORS.map(f => el("label", {}, `${f} ×`,
      el("input", { type: "number", step: "any", min: "0", name: key(f), "data-key": f, placeholder: "1", value: adj[f] ?? null, inputmode: "decimal" }),
      el("span", { class: "field-error", "data-error-for": key(f) })))),
    el("label", {}, "Reason (what happened in the market)",
      el("input", { "data-key": "reason", name: key("reason"), value: adj.reason || null, placeholder: "Southern Europe freezes: capital spending paused." }),
      el("span", { class: "field-error", "data-error-for": key("reason") })),
    el("span", { class: "field-error", "data-error-for": `adjustments[${index}]` }));
}

function readBlock(block) {
  const value = k => (block.querySelector(`[data-key="${k}"]`) || {}).value?.trim() || "";
  const adjustment = {};
  for (const scope of ["markets", "products", "reps"]) {
    const picked = block.querySelector(`[data-picker-name$=".${scope}"]`).values();
    if (picked.length) adjustment[scope] = picked;
  }
  if (value("from") || value("to")) {
    adjustment.periods = {};
    if (value("from")) adjustment.periods.from = value("from");
    if (value("to")) adjustment.periods.to = value("to");
  }
  for (const f of CT.FACTORS) if (value(f) !== "") adjustment[f] = Number(value(f));
  if (value("reason")) adjustment.reason = value("reason");
  return adjustment;
}

function blocks() { return [...document.querySelectorAll("#adjustments .adjustment-block")]; }

function render(adjustments) {
  fill("adjustments", adjustments.map((adj, i) => blockNode(i, adj)));
  document.querySelectorAll("#adjustments .remove").forEach(b => { b.hidden = adjustments.length === 1; });
}

function addBlock() { render([...blocks().map(readBlock), {}]); }
function removeBlock(index) { render(blocks().map(readBlock).filter((_, i) => i !== index)); }

function bodyFromForm(form) {
  const body = { name: form.name.value.trim(), adjustments: blocks().map(readBlock) };
  if (form.parent.value) body.parent = Number(form.parent.value);
  return body;
}

// what the form can tell before asking the service, all at once (the service checks again)
function localErrors(body) {
  const errors = [];
  if (!body.name) errors.push({ field: "name", message: "Give the set a name (a new version of an existing name revises it)." });
  body.adjustments.forEach((adj, i) => {
    for (const f of CT.FACTORS) {
      if (adj[f] === undefined) continue;
      if (!Number.isFinite(adj[f]) || adj[f] <= 0) errors.push({ field: `adjustments[${i}].${f}`, message: `${f} must be a number > 0 (1 = unchanged, 0.5 = half)` });
    }
    const p = adj.periods || {};
    if (p.from && p.to && names.periods.indexOf(p.from) > names.periods.indexOf(p.to)) errors.push({ field: `adjustments[${i}].periods`, message: "`from` comes after `to`" });
    if (!CT.FACTORS.some(f => adj[f] !== undefined && adj[f] !== 1)) errors.push({ field: `adjustments[${i}]`, message: "Set at least one factor other than 1: this adjustment changes nothing." });
  });
  return errors;
}

async function fromAlarm(alarmId) {
  const response = await CT.fetchAll("/v1/alarms", { severity: ["critical", "warning", "watch", "ok"] }, { page: 5000 });
  const alarm = response.ok ? response.data.data.find(a => a.alarm_id === alarmId) : null;
  const note = document.getElementById("from-alarm-note");
  note.hidden = false;
  if (!alarm || !alarm.suggested_adjustment) { note.textContent = `Alarm ${alarmId} has no suggested adjustment any more: start from an empty form.`; return null; }
  note.textContent = `Started from the alarm “${CT.alarmSentence({ market_id: alarm.market_id, kpi: alarm.kpi, pace: alarm.kind === "pace" ? alarm : null,
    funnel: alarm.kind === "funnel" ? alarm : null, stake: alarm.at_stake }, names)}” Check the factor before storing: it is the pace to date, an estimate.`;
  document.querySelector("#create-form [name=name]").value = `alarm-${alarm.scope_id}-${alarm.kpi}`.replace(/[^A-Za-z0-9_.-]+/g, "-").toLowerCase();
  return alarm.suggested_adjustment;
}

async function showSets() {
  const response = await CT.fetchAll("/v1/assumption-sets", {}, { page: 1000 });
  if (!response.ok) { CT.pageError(response); return; }
  const sets = response.data.data;
  const select = document.getElementById("parent-select");
  select.replaceChildren(el("option", { value: "" }, "— a new set —"),
    ...sets.slice().reverse().map(s => el("option", { value: s.id }, `${s.name} (version ${s.version})`)));
  if (!sets.length) { fill("sets", el("p", { class: "na" }, "No assumption set yet.")); return; }
  fill("sets", CT.table([
    { key: "name", label: "Set", format: (v, s) => el("a", { href: `/assumption-sets/${s.id}`, title: `#${s.id}` }, `${v} (version ${s.version})`) },
    { key: "body", label: "What it assumes", format: b => el("ul", { class: "plain" }, (b.adjustments || []).map(a => el("li", {}, CT.adjustmentWords(a, names)))) },
    { key: "parent_id", label: "Revises", format: v => v ? el("a", { href: `/assumption-sets/${v}` }, (sets.find(s => s.id === v) || { name: `#${v}` }).name + ` (version ${(sets.find(s => s.id === v) || {}).version ?? "?"})`) : "—" },
    { key: "created_by", label: "By", format: v => names.person(v) },
    { key: "created_at", label: "Stored", format: fmt.time, sort: s => s.created_at }], sets.slice().reverse(), { id: "sets-table", sortable: true, filter: "Find a set", pageSize: 25 }));
}

CT.start(async (who) => {
  names = await CT.names();
  const alarmId = new URLSearchParams(location.search).get("from_alarm");
  render([alarmId ? (await fromAlarm(alarmId)) || {} : {}]);
  document.getElementById("add-adjustment").addEventListener("click", addBlock);
  // the form's buttons work once its blocks are built (disabled in the page until then)
  document.querySelectorAll("#add-adjustment, #create-submit").forEach(b => { b.disabled = false; });
  if (!CT.has(who, "analyst")) {
    for (const node of document.querySelectorAll("#create-form button, #create-form input, #create-form select, #upload-form input, #upload-form button")) node.disabled = true;
    const note = document.getElementById("create-role-note");
    note.hidden = false;
    note.textContent = `Storing an assumption set needs the analyst role or above; you are signed in as ${who.role}.`;
  }
  document.getElementById("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    CT.clearErrors(form);
    const body = bodyFromForm(form);
    const errors = localErrors(body);
    if (errors.length) { CT.showErrors(form, { status: 422, data: { detail: "Fix the fields marked in red.", errors } }); return; }
    const response = await CT.api("/v1/assumption-sets", { method: "POST", json: body });
    if (!response.ok) { CT.showErrors(form, response); return; }
    location.assign(`/assumption-sets/${response.data.id}`);
  });
  document.getElementById("upload-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = document.getElementById("upload-file").files[0];
    const box = document.getElementById("upload-error");
    box.textContent = "";
    if (!file) { box.textContent = "Choose a file."; return; }
    const json = file.name.toLowerCase().endsWith(".json");
    const response = await CT.api("/v1/assumption-sets", { method: "POST", body: await file.text(),
                                                             contentType: json ? "application/json" : "application/yaml" });
    if (!response.ok) {
      const errors = (response.data.errors || []).map(e => (e.field ? `${e.field}: ` : "") + e.message);
      box.textContent = `${file.name}: ` + (errors.length ? errors.join("\n") : response.data.detail);
      return;
    }
    location.assign(`/assumption-sets/${response.data.id}`);
  });
  await showSets();
});
