// One replay of the plan year: its progress while it runs; then the cumulative net margin per
// policy month by month (a chart with each line's value at its end, and the figures in a table),
// the policies over the year (margin, revenue, pay, net margin, reviews run, plans accepted, pay
// stability, share of the oracle's gain), the decisions and the gaming audit. Pay figures (pay, net
// margin, the audit's amounts) come from the API only for approver and admin; the others get the
// margin instead, and a sentence where a pay figure is withheld.
"use strict";

(() => {
  const { el, fmt, fill } = CT;
  const REPLAY_ID = Number(CT.pageData("id"));
  const POLICY_WORDS = { static: "static (keep the plan)", quarterly: "quarterly re-planning",
                         monthly: "monthly re-planning", oracle: "oracle (knows the world)" };
  const policyWords = p => POLICY_WORDS[p] || p;
  const POLICY_COLORS = { static: CT.NEUTRAL, quarterly: CT.PLAN_COLORS[2], monthly: CT.PLAN_COLORS[0], oracle: CT.GOOD };
  let names, who;

  // each line's last value beside its last point (CT.chart's own labels are for bars)
  const endLabels = {
    id: "endLabels",
    afterDatasetsDraw(chart, args, options) {
      if (!options || !options.format) return;
      const { ctx } = chart;
      ctx.save();
      ctx.font = "12px system-ui, sans-serif";
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      const labels = [];
      chart.data.datasets.forEach((dataset, i) => {
        const meta = chart.getDatasetMeta(i);
        const point = meta.data[meta.data.length - 1];
        const value = dataset.data[dataset.data.length - 1];
        if (meta.hidden || !point || value === null || value === undefined) return;
        labels.push({ text: options.format(value), color: dataset.borderColor, x: point.x, y: point.y });
      });
      labels.sort((a, b) => a.y - b.y);  // beside the last points, in the chart's right padding  // lines that end close together: their labels 13 px apart
      labels.forEach((label, i) => { if (i && label.y - labels[i - 1].y < 13) label.y = labels[i - 1].y + 13; });
      for (const label of labels) {
        ctx.fillStyle = label.color;
        ctx.fillText(label.text, label.x + 8, label.y);
      }
      ctx.restore();
    },
  };

  function cumulative(months, key) {
    let total = 0;
    return months.map(m => (m[key] === null || m[key] === undefined ? null : (total += m[key])));
  }

  function showChart(result, seesPay) {
    const currency = result.currency || names.currency;
    const key = seesPay ? "net_margin" : "margin";
    fill("chart-heading", seesPay ? "Cumulative net margin (margin − pay), month by month" : "Cumulative margin, month by month");
    fill("chart-note", seesPay ? `Mean over ${fmt.plural(result.options.seeds, "seed")}; ${currency}.`
      : CT.pay.note(who, "Net margin (margin − pay) and pay") + " The chart shows the margin.");
    const series = result.policies.map((p, i) => ({
      policy: p.policy, color: POLICY_COLORS[p.policy] || CT.PLAN_COLORS[(i + 4) % CT.PLAN_COLORS.length],
      values: seesPay ? p.months.map(m => m.cumulative_net_margin) : cumulative(p.months, key) }));
    const format = v => fmt.short(v);
    const describe = series.map(s => `${policyWords(s.policy)}: ${s.values.map((v, j) => `${result.periods[j]} ${format(v)}`).join(", ")}`).join("; ");
    CT.chart("chart-cumulative", {
      type: "line",
      data: { labels: result.periods, datasets: series.map(s => ({ label: policyWords(s.policy), data: s.values,
        borderColor: s.color, backgroundColor: s.color, tension: 0, pointRadius: 3,
        borderDash: s.policy === "oracle" ? [6, 4] : undefined })) },
      options: { layout: { padding: { top: 12, right: 64 } },
                 plugins: { endLabels: { format }, legend: { display: true },
                            tooltip: { callbacks: { label: c => `${c.dataset.label}: ${fmt.money(c.raw, currency)}` } } },
                 scales: { y: { title: { display: true, text: currency }, ticks: { callback: v => fmt.short(v) } } } },
      plugins: [endLabels],
    }, `${seesPay ? "cumulative net margin" : "cumulative margin"} per policy: ${describe}`);
    const rows = result.periods.map((period, j) => Object.fromEntries([["period", period],
      ...series.map(s => [s.policy, s.values[j]])]));
    fill("cumulative-table", CT.table([{ key: "period", label: "Month" },
      ...series.map(s => ({ key: s.policy, label: policyWords(s.policy), num: true, format: v => fmt.money(v) }))],
      rows, { id: "cumulative-figures" }));
  }

  function showPolicies(result, seesPay) {
    const currency = result.currency || names.currency;
    const money = (key, label) => ({ key, label, num: true, title: currency, format: (v, r) => fmt.money(r.total[key]),
                                     sort: r => r.total[key] });
    const columns = [
      { key: "policy", label: "Policy", format: v => el("span", { title: policyWords(v) }, v) },
      money("margin", "Margin"), money("revenue", "Revenue"),
      ...(seesPay ? [money("pay", "Variable pay"), money("net_margin", "Net margin")] : []),
      { key: "reviews_run", label: "Reviews", num: true, title: "reviews run" },
      { key: "plans_accepted", label: "Accepted", num: true, title: "plans accepted" },
      { key: "pay_stability", label: "Pay moves >10 %", num: true, title: "share of reps whose pay moves more than 10 % between consecutive months",
        format: v => fmt.pct(v, 0) },
      { key: "share_of_oracle_gain", label: "Of the oracle's gain", num: true, format: v => fmt.pct(v, 0) }];
    if (seesPay && result.options.seeds > 1) {
      columns.push({ key: "spread", label: `Net margin over seeds: sd, min – max (${currency})`, num: true,
        format: s => s ? `${fmt.short(s.net_margin_sd)}; ${fmt.short(s.net_margin_min)} – ${fmt.short(s.net_margin_max)}` : "—" });
    }
    fill("policies-note", seesPay ? `${currency}; totals over ${result.periods.length} open months, mean over ${fmt.plural(result.options.seeds, "seed")}; plan margin ${fmt.money(result.plan_margin, currency)}.`
      : `${currency}. ` + CT.pay.note(who, "Variable pay and net margin per policy"));
    fill("policies-table", CT.table(columns, result.policies, { id: "policies-figures", sortable: true }));
  }

  function showDecisions(result, seesPay) {
    const rows = result.policies.flatMap(p => (p.decisions || []).map(d => ({ ...d, policy: p.policy })));
    if (!rows.length) { CT.notAvailable("decisions", "No policy ran a review (static keeps the plan all year)."); return; }
    fill("decisions", CT.table([
      { key: "policy", label: "Policy", format: v => policyWords(v) },
      ...(result.options.seeds > 1 ? [{ key: "seed", label: "Seed", num: true }] : []),
      { key: "period", label: "Month" },
      { key: "accepted", label: "Decision", format: v => el("span", { class: "badge " + (v ? "accepted" : "rejected") }, v ? "accepted" : "kept the plan") },
      ...(seesPay ? [{ key: "expected_gain", label: "Expected gain in net margin", num: true, format: v => fmt.signedMoney(v, result.currency) }] : []),
      { key: "expected_gain_share", label: "Expected gain, % of plan margin", num: true, format: v => fmt.signedPct(v, 2) },
      { key: "components", label: "Components", num: true }], rows,
      { id: "decisions-table", sortable: true, filter: "Find", pageSize: 24 }),
      seesPay ? null : CT.pay.withheld(who, "Expected gains in net margin"));
  }

  function showGaming(result, seesPay) {
    const audits = result.gaming || [];
    if (!audits.length) {
      CT.notAvailable("gaming", result.options.gaming_reps ? "No re-planning policy was replayed: nothing to audit."
        : "No gaming audit was asked for (gaming reps 0).");
      return;
    }
    fill("gaming", audits.map(audit => {
      const rewarded = new Set(audit.rewarded || []);
      const rows = audit.reps || [];
      return el("div", { class: "gaming-audit" },
        el("h3", {}, policyWords(audit.policy)),
        el("p", { class: audit.rewarded_count ? "notice bad" : "notice" }, CT.words(audit.verdict || ""),
          ` — ${fmt.plural(audit.rewarded_count || 0, "rep")} of ${fmt.num(rows.length, 0)} rewarded.`),
        seesPay ? CT.table([
          { key: "rep_id", label: "Rep", format: v => el("span", {}, names.tag("rep", v), rewarded.has(v) ? el("strong", {}, " · rewarded") : null) },
          { key: "rep_id", label: "Market", format: v => names.market(names.repMarket(v)) },
          { key: "pay_honest", label: "Year pay, honest", num: true, format: v => fmt.money(v) },
          { key: "pay_holding_back", label: "Year pay, holding back", num: true, format: v => fmt.money(v) },
          { key: "gain", label: "Gain", num: true, format: v => fmt.signedMoney(v) }], rows,
          { sortable: true, pageSize: 20 })
          : CT.pay.withheld(who, "The reps' year pay with and without holding back"));
    }));
  }

  async function load() {
    if (CT.pageData("validId") !== "1") { fill("replay-meta", `There is no replay #${REPLAY_ID}.`); return; }
    const response = await CT.api(`/v1/replays/${REPLAY_ID}`);
    if (!response.ok) {
      fill("replay-meta", el("span", { class: "notice bad" }, response.status === 404 ? `There is no replay #${REPLAY_ID}.` : response.data.detail));
      return;
    }
    const job = response.data;
    const o = job.options;
    fill("page-title", `Replay #${job.id}: ${job.world.name} `, el("span", { class: "badge " + job.status, id: "replay-status" }, job.status));
    fill("replay-title", `World: `, job.world.assumption_set_id
      ? el("a", { href: `/assumption-sets/${job.world.assumption_set_id}` }, job.world.name) : job.world.name);
    fill("replay-meta", `${(o.policies || []).map(policyWords).join(", ")} · ${fmt.plural(o.seeds, "seed")}, noise σ ${fmt.num(o.noise, 2)}, `
      + `accept above ${fmt.pct(o.accept_threshold, 2)} of plan margin, gaming audit ${fmt.plural(o.gaming_reps, "rep")} · `
      + `started by ${names.person(job.created_by)}, ${fmt.time(job.submitted_at)}`
      + (job.duration_s != null ? ` · ${fmt.num(job.duration_s, 1)} s` : "")
      + (job.estimate && job.estimate.seconds != null ? ` (estimated ${fmt.num(job.estimate.seconds, 0)} s)` : ""));
    const running = job.status === "queued" || job.status === "running";
    document.getElementById("replay-progress").hidden = !running;
    if (running) {
      const bar = document.getElementById("replay-progress-bar");
      bar.classList.toggle("indeterminate", job.progress == null);
      document.getElementById("replay-bar").style.width = job.progress != null ? `${Math.round(100 * job.progress)}%` : "";
      fill("replay-phase", job.status === "queued" ? "queued: waiting for a worker…"
        : `${job.phase || "starting"}${job.progress != null ? ` · ${fmt.pct(job.progress, 0)} done` : ""}`);
      fill("replay-outcome", CT.has(who, "analyst") ? el("button", { type: "button", id: "replay-cancel", onclick: cancel }, "Cancel the replay") : null);
      setTimeout(load, 1500);
      return;
    }
    if (job.status !== "succeeded" || !job.result) {
      fill("replay-outcome", el("p", { class: "notice bad" }, `The replay ${job.status}${job.error ? ": " + job.error : "."}`));
      return;
    }
    const result = job.result;
    const seesPay = job.pay_visible;
    fill("replay-outcome", el("div", { class: "figures", id: "replay-figures" }, result.policies.map(p =>
      CT.figure(seesPay ? fmt.short(p.total.net_margin, result.currency) : fmt.short(p.total.margin, result.currency),
        `${policyWords(p.policy)}: ${seesPay ? "net margin" : "margin"}`,
        { note: p.share_of_oracle_gain != null && p.policy !== "static" && p.policy !== "oracle" ? `${fmt.pct(p.share_of_oracle_gain, 0)} of the oracle's gain` : null }))));
    document.getElementById("replay-result").hidden = false;
    showChart(result, seesPay);
    showPolicies(result, seesPay);
    showDecisions(result, seesPay);
    showGaming(result, seesPay);
  }

  async function cancel() {
    const response = await CT.api(`/v1/replays/${REPLAY_ID}/cancel`, { method: "POST" });
    if (!response.ok) CT.pageError(response);
  }

  CT.start(async (me) => { who = me; names = await CT.names(); await load(); });
})();
