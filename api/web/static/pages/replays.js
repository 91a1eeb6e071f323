// The replays page: start a replay of the plan year (a world from the stored assumption sets, the
// policies and options) and list the replays with their outcome per policy. One replay is read on
// /replays/{id} (replay.js). Shared helpers come from app.js (CT).
"use strict";

(() => {
  const { el, fmt, fill } = CT;

  function outcome(summary, who) {  // the best re-planning policy's share of the oracle's gain, in words
    if (!summary || !summary.policies) return "—";
    const shares = summary.policies.filter(p => p.share_of_oracle_gain !== null && p.share_of_oracle_gain !== undefined
      && p.policy !== "oracle" && p.policy !== "static");
    if (!shares.length) return "—";
    const best = shares.reduce((a, b) => (b.share_of_oracle_gain > a.share_of_oracle_gain ? b : a));
    return `${best.policy}: ${fmt.pct(best.share_of_oracle_gain, 0)} of the oracle's gain`;
  }

  async function showList(who, names) {
    const response = await CT.api("/v1/replays?limit=100");
    if (!response.ok) { CT.pageError(response); return; }
    const rows = response.data.data;
    fill("replays", rows.length ? CT.table([
      { key: "id", label: "Replay", format: v => el("a", { href: `/replays/${v}` }, `#${v}`), sort: r => r.id },
      { key: "status", label: "Status", format: (v, r) => el("span", {}, el("span", { class: "badge " + v }, v),
          r.status === "running" && r.progress != null ? ` ${fmt.pct(r.progress, 0)}` : "") },
      { key: "world", label: "World", format: w => w.assumption_set_id ? el("a", { href: `/assumption-sets/${w.assumption_set_id}` }, w.name) : w.name },
      { key: "options", label: "Policies", format: o => (o.policies || []).join(", ") },
      { key: "seeds", label: "Seeds × noise", format: (v, r) => `${r.options.seeds} × σ ${fmt.num(r.options.noise, 2)}` },
      { key: "summary", label: "Outcome", format: s => outcome(s, who) },
      { key: "created_by", label: "Started by", format: v => names.person(v) },
      { key: "submitted_at", label: "Submitted", format: fmt.time, sort: r => r.submitted_at },
      { key: "duration_s", label: "Seconds", num: true, format: v => fmt.num(v, 1) },
      { key: "error", label: "Error" }], rows, { id: "replays-table", sortable: true, pageSize: 25 })
      : el("p", { class: "na" }, "No replay yet."));
  }

  async function showCorrection(id, names, who) {
    const box = document.getElementById("correction");
    box.hidden = false;
    const response = await CT.api(`/v1/corrections/${id}`);
    if (!response.ok) { CT.pageError(response); return; }
    const job = response.data;
    if (job.status === "queued" || job.status === "running") {
      fill("correction-status", `correction #${job.id}: ${job.status}…`);
      setTimeout(() => showCorrection(id, names, who), 1000);
      return;
    }
    if (job.status !== "succeeded") { fill("correction-status", el("span", { class: "notice bad" }, `correction #${job.id} ${job.status}: ${job.error || ""}`)); return; }
    const { assumptions, evidence } = job.result;
    fill("correction-status", `Correction #${job.id}: “${assumptions.name}”, ${fmt.plural(assumptions.adjustments.length, "adjustment")} `
      + `from ${fmt.plural(evidence.length, "factor")} considered.`);
    fill("correction-adjustments", assumptions.adjustments.length
      ? el("ul", { id: "correction-list" }, assumptions.adjustments.map(a => el("li", {}, CT.adjustmentWords(a, names))))
      : el("p", { class: "na" }, "The closed months give no reason to change the assumptions."));
    fill("correction-evidence", CT.table([
      { key: "market", label: "Market", format: v => names.tag("market", v) },
      { key: "product", label: "Product", format: v => names.tag("product", v) },
      { key: "factor", label: "Factor" }, { key: "value", label: "Proposed", num: true, format: v => fmt.num(v, 2) },
      { key: "months", label: "Months", num: true },
      { key: "orders_actual", label: "Orders actual", num: true, format: v => fmt.num(v, 1) },
      { key: "orders_expected", label: "Orders expected", num: true, format: v => fmt.num(v, 1) },
      { key: "shrinkage", label: "Shrinkage", num: true, format: v => fmt.num(v, 2) },
      { key: "reason", label: "Why", wide: true }], evidence, { id: "evidence-table", sortable: true, filter: "Find", pageSize: 20 }));
    const storeButton = document.getElementById("correction-store");
    const stored = setId => fill("correction-stored", "stored as ", el("a", { href: `/assumption-sets/${setId}`, id: "correction-set-link" }, `assumption set #${setId}`),
      " — start a review or a replay from it");
    if (job.assumption_set_id) { storeButton.hidden = true; stored(job.assumption_set_id); return; }
    storeButton.hidden = !CT.has(who, "analyst");
    storeButton.onclick = async () => {
      const answer = await CT.api(`/v1/corrections/${job.id}/assumption-set`, { method: "POST" });
      if (!answer.ok) { CT.pageError(answer); return; }
      storeButton.hidden = true;
      stored(answer.data.id);
    };
  }

  CT.start(async (who) => {
    const names = await CT.names();
    const correctForm = document.getElementById("correct-form");
    if (!CT.has(who, "analyst")) {
      document.getElementById("correct-submit").disabled = true;
      const note = document.getElementById("correct-note");
      note.hidden = false;
      note.textContent = `Running the correction system needs the analyst role or above; you are signed in as ${who.role}.`;
    }
    correctForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      CT.clearErrors(correctForm);
      const name = correctForm.name.value.trim();
      const response = await CT.api("/v1/corrections", { method: "POST", json: name ? { name } : {} });
      if (!response.ok) { CT.showErrors(correctForm, response); return; }
      await showCorrection(response.data.id, names, who);
    });
    const form = document.getElementById("replay-form");
    if (!CT.has(who, "analyst")) {
      document.getElementById("replay-submit").disabled = true;
      const note = document.getElementById("run-note");
      note.hidden = false;
      note.textContent = `Starting a replay needs the analyst role or above; you are signed in as ${who.role}.`;
    }
    const sets = await CT.fetchAll("/v1/assumption-sets");
    if (sets.ok) {
      const rows = sets.data.data.slice().reverse();
      fill("world-select", rows.length ? rows.map(s => el("option", { value: s.id }, `${s.name} (version ${s.version}, #${s.id})`))
        : el("option", { value: "" }, "no stored assumption set: store one first"));
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      CT.clearErrors(form);
      const number = (name, fallback) => (form[name].value === "" ? fallback : Number(form[name].value));
      const body = {
        world_id: form.world_id.value ? Number(form.world_id.value) : null,
        policies: [...form.querySelectorAll("input[name=policies]:checked")].map(box => box.value),
        noise: number("noise", 0), seeds: number("seeds", 1), accept_threshold: number("accept_threshold", 0.5) / 100,
        gaming_reps: number("gaming_reps", 0), seed: number("seed", 0),
      };
      if (body.world_id === null) delete body.world_id;
      const response = await CT.api("/v1/replays", { method: "POST", json: body });
      if (!response.ok) { CT.showErrors(form, response); return; }
      location.assign(`/replays/${response.data.id}`);
    });
    await showList(who, names);
  });
})();
