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

  CT.start(async (who) => {
    const names = await CT.names();
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
