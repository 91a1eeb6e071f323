// The calibration page: run a calibration, list them, read one report (summary, what is not
// identified, holdout errors, the estimates per rep and product, the funnel rates) and start a
// review that uses it. Shared helpers come from app.js (CT).
"use strict";

(() => {
  const { el, fmt, fill } = CT;
  const PAGE = 50;
  const state = { id: null, offset: 0, filters: {} };

  function selected() {  // /calibrations/7 shows calibration 7; /calibrations the latest that succeeded
    const match = location.pathname.match(/^\/calibrations\/(\d+)$/);
    return match ? Number(match[1]) : null;
  }

  async function showList() {
    const response = await CT.api("/v1/calibrations?limit=50");
    if (!response.ok) { CT.pageError(response); return []; }
    const rows = response.data.data;
    fill("calibrations", rows.length ? CT.table([
      { key: "id", label: "Calibration", format: v => el("a", { href: `/calibrations/${v}` }, `#${v}`) },
      { key: "status", label: "Status", format: v => el("span", { class: "badge " + v }, v) },
      { key: "params", label: "Months", num: true, format: p => (p.plans || []).reduce((n, s) => n + s.periods.length, 0) },
      { key: "params", label: "Holdout", num: true, format: p => p.holdout },
      { key: "summary", label: "In-sample WAPE", num: true, format: s => s && s.in_sample_wape != null ? fmt.pct(s.in_sample_wape) : "—" },
      { key: "created_by", label: "By" }, { key: "submitted_at", label: "Submitted", format: fmt.time },
      { key: "error", label: "Error" }], rows) : el("p", { class: "na" }, "No calibration yet."));
    return rows;
  }

  function counts(title, table) {
    const entries = Object.entries(table || {});
    return el("div", { class: "figure" }, el("div", { class: "label" }, title),
      el("div", {}, entries.length ? entries.map(([k, v]) => el("div", {}, `${k}: ${fmt.num(v, 0)}`)) : "—"));
  }

  function holdoutTable(wape) {
    const names = { calibrated: "calibrated model", uncalibrated: "dataset as given", average_mix: "each rep's average mix",
                    last_month: "last month repeated" };
    return CT.table([{ key: "name", label: "Forecast" }, { key: "wape", label: "WAPE", num: true, format: v => fmt.pct(v) }],
      Object.entries(wape).map(([name, value]) => ({ name: names[name] || name, wape: value })));
  }

  async function showReport(id) {
    const section = document.getElementById("report");
    section.hidden = false;
    const response = await CT.api(`/v1/calibrations/${id}`);
    if (!response.ok) { CT.pageError(response); return; }
    const job = response.data;
    fill("report-title", `Calibration #${job.id} `, el("span", { class: "badge " + job.status }, job.status));
    const progress = document.getElementById("report-progress");
    if (job.status === "queued" || job.status === "running") {
      progress.hidden = false;
      progress.classList.toggle("indeterminate", job.progress == null);
      document.getElementById("report-bar").style.width = job.progress != null ? `${Math.round(100 * job.progress)}%` : "";
      fill("report-figures", el("p", { class: "muted" }, `${job.phase || job.status}…`));
      setTimeout(() => showReport(id), 1500);
      return;
    }
    progress.hidden = true;
    await showList();  // the list's badge follows the job that just finished
    if (job.status !== "succeeded") {
      fill("report-figures", el("p", { class: "na" }, job.error || `the calibration is ${job.status}`));
      ["report-status", "report-holdout", "estimates", "funnel"].forEach(n => fill(n));
      return;
    }
    const s = job.summary;
    fill("report-figures",
      el("div", { class: "figure" }, el("div", { class: "value" }, fmt.num(s.history.months, 0)), el("div", { class: "label" }, "closed months")),
      el("div", { class: "figure" }, el("div", { class: "value" }, fmt.num(s.history.orders, 1)), el("div", { class: "label" }, "orders in the history")),
      el("div", { class: "figure" }, el("div", { class: "value" }, s.in_sample_wape != null ? fmt.pct(s.in_sample_wape) : "—"),
        el("div", { class: "label" }, "in-sample WAPE of the calibrated reps")),
      el("div", { class: "figure" }, el("div", { class: "value" }, fmt.num(s.effort_aversion.value)), el("div", { class: "label" }, "effort_aversion (kept: not identified)")));
    fill("report-status", el("div", { class: "figures" },
      counts("skill per rep × product", s.skill_status), counts("comfort per rep × product", s.comfort_status),
      counts("funnel per market × product", s.funnel_status)),
      el("p", { class: "muted" }, s.effort_aversion.status),
      s.hours_inconsistent_count ? el("p", { class: "notice" },
        `${s.hours_inconsistent_count} rep(s) whose history needs more than their selling hours at the estimated skill: ${s.hours_inconsistent_reps.join(", ")}`) : []);
    const h = s.holdout;
    if (!h) CT.notAvailable("report-holdout", "no holdout asked for (holdout 0)");
    else fill("report-holdout", el("p", {}, `${h.test_periods.join(", ")} predicted from ${h.fit_periods.length} months`), holdoutTable(h.wape),
      h.new_plan ? [el("p", {}, `Under a plan no fit month saw (${h.new_plan.periods.join(", ")}):`), holdoutTable(h.new_plan.wape)] : []);
    await showEstimates();
    await showFunnel();
  }

  async function showEstimates() {
    const query = CT.query({ ...state.filters, limit: PAGE, offset: state.offset });
    const response = await CT.api(`/v1/calibrations/${state.id}/rep_products${query}`);
    if (!response.ok) { CT.pageError(response); return; }
    const { data, count } = response.data;
    const range = (v, row) => row.comfort_low == null ? "—" : `${fmt.num(row.comfort_low, 3)} – ${row.comfort_high == null ? "∞" : fmt.num(row.comfort_high, 3)}`;
    fill("estimates", data.length ? CT.table([
      { key: "rep_id", label: "Rep" }, { key: "product_id", label: "Product" },
      { key: "orders", label: "Orders", num: true, format: v => fmt.num(v, 1) }, { key: "months_sold", label: "Months sold", num: true },
      { key: "skill", label: "Skill", num: true, format: (v, r) => `${fmt.num(v, 3)}${r.skill_se != null ? " ± " + fmt.num(r.skill_se, 3) : ""}` },
      { key: "skill_status", label: "Skill status" },
      { key: "comfort", label: "Comfort", num: true, format: v => fmt.num(v, 3) },
      { key: "comfort_low", label: "Consistent range", format: range }, { key: "comfort_status", label: "Comfort status" }], data)
      : el("p", { class: "na" }, "No estimate matches."));
    fill("estimates-pager",
      el("button", { type: "button", disabled: state.offset === 0, onclick: () => { state.offset -= PAGE; showEstimates(); } }, "← previous"),
      el("span", { class: "muted" }, count ? `${state.offset + 1}–${state.offset + data.length} of ${count}` : ""),
      el("button", { type: "button", disabled: state.offset + PAGE >= count, onclick: () => { state.offset += PAGE; showEstimates(); } }, "next →"));
  }

  async function showFunnel() {
    const response = await CT.api(`/v1/calibrations/${state.id}/funnel?limit=500`);
    if (!response.ok) { CT.pageError(response); return; }
    const rate = name => ({ key: name, label: name.replace(/_/g, " "), num: true, format: (v, r) => `${fmt.num(v, 3)} ± ${fmt.num(r[name + "_se"], 3)}` });
    fill("funnel", CT.table([{ key: "market_id", label: "Market" }, { key: "product_id", label: "Product" },
      rate("call_to_meeting"), rate("meeting_to_quote"), rate("quote_to_order"),
      { key: "calls", label: "Calls", num: true, format: v => fmt.num(v, 0) }, { key: "orders", label: "Orders", num: true, format: v => fmt.num(v, 1) },
      { key: "status", label: "Status" }], response.data.data));
  }

  CT.start(async (who) => {
    const analyst = CT.has(who, "analyst");
    if (!analyst) {
      for (const [button, note] of [["run-submit", "run-note"], ["review-submit", "review-note"]]) {
        document.getElementById(button).disabled = true;
        const box = document.getElementById(note);
        box.hidden = false;
        box.textContent = `This needs the analyst role or above; you are signed in as ${who.role}.`;
      }
    }
    document.getElementById("run-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      CT.clearErrors(form);
      const body = { holdout: Number(form.holdout.value || 0), polish_rounds: Number(form.polish_rounds.value || 0) };
      const response = await CT.api("/v1/calibrations", { method: "POST", json: body });
      if (!response.ok) { CT.showErrors(form, response); return; }
      location.assign(`/calibrations/${response.data.id}`);
    });
    document.getElementById("filter-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      state.filters = { rep_id: form.rep_id.value.trim(), product_id: form.product_id.value.trim(), status: form.status.value };
      state.offset = 0;
      showEstimates();
    });
    document.getElementById("download-estimates").addEventListener("click", () =>
      CT.download(`/v1/calibrations/${state.id}/rep_products${CT.query({ ...state.filters, format: "csv" })}`,
                  `calibration-${state.id}-rep_products.csv`));
    document.getElementById("review-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      CT.clearErrors(form);
      const response = await CT.api("/v1/reviews", { method: "POST", json: {
        assumption_set_id: Number(form.assumption_set_id.value), calibration_id: state.id } });
      if (!response.ok) { CT.showErrors(form, response); return; }
      location.assign(`/reviews/${response.data.id}`);
    });
    const sets = await CT.api("/v1/assumption-sets?limit=1000");
    if (sets.ok) fill("set-select", sets.data.data.slice().reverse().map(s => el("option", { value: s.id }, `#${s.id} ${s.name} v${s.version}`)));
    const rows = await showList();
    state.id = selected() || (rows.find(r => r.status === "succeeded") || rows[0] || {}).id || null;
    if (state.id) await showReport(state.id);
  });
})();
