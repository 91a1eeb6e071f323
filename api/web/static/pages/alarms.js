const { el, fmt, fill } = CT;
const PAGE = 50;
let offset = 0;

function filters() {
  const form = document.getElementById("filters");
  return { severity: [...form.querySelectorAll("input[name=severity]:checked")].map(i => i.value),
           level: form.level.value, kind: form.kind.value, market: form.market.value.trim(),
           team: form.team.value.trim(), product: form.product.value.trim() };
}

async function showAlarms() {
  const form = document.getElementById("filters");
  CT.clearErrors(form);
  const response = await CT.api("/v1/alarms" + CT.query({ ...filters(), limit: PAGE, offset }));
  if (!response.ok) { CT.showErrors(form, response); return; }
  const { data, total } = response.data;
  const count = total ?? response.data.count;
  fill("alarms", data.length ? CT.table([
    { key: "severity", label: "Severity", format: v => el("span", { class: "badge " + v }, v) },
    { key: "level", label: "Level" }, { key: "scope_id", label: "Scope" }, { key: "market_id", label: "Market" },
    { key: "kpi", label: "KPI" },
    { key: "pace", label: "Pace", num: true, format: v => fmt.pct(v, 0) },
    { key: "forecast_attainment", label: "Forecast", num: true, format: v => fmt.pct(v, 0) },
    { key: "message", label: "Alarm" },
    { key: "review_id", label: "Review", format: v => v ? el("a", { href: `/reviews/${v}` }, `#${v}`) : "—" }], data)
    : el("p", { class: "na" }, "No alarm matches."));
  fill("pager",
    el("button", { type: "button", disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE); showAlarms(); } }, "← previous"),
    el("span", { class: "muted", id: "alarm-count" }, count ? `${offset + 1}–${offset + data.length} of ${count} alarms` : "0 alarms"),
    el("button", { type: "button", disabled: offset + PAGE >= count, onclick: () => { offset += PAGE; showAlarms(); } }, "next →"));
}

async function showPace() {
  const response = await CT.api("/v1/alarms" + CT.query({ level: "market", kind: "pace", severity: ["critical", "warning", "watch", "ok"], limit: 100000 }));
  if (!response.ok) { CT.notAvailable("chart-pace", response.data.detail); return; }
  const rows = response.data.data;
  const markets = [...new Set(rows.map(r => r.market_id))].sort();
  const kpis = [...new Set(rows.map(r => r.kpi))];
  if (!markets.length) { CT.notAvailable("chart-pace", "no closed period yet: no pace to show"); return; }
  CT.chart("chart-pace", {
    type: "bar",
    data: { labels: markets, datasets: kpis.map((kpi, i) => ({ label: kpi, backgroundColor: CT.PLAN_COLORS[i % CT.PLAN_COLORS.length],
            data: markets.map(m => { const r = rows.find(x => x.market_id === m && x.kpi === kpi); return r ? r.pace : null; }) })) },
    options: { plugins: { tooltip: { callbacks: { label: c => `${c.dataset.label}: ${fmt.pct(c.raw, 0)}` } } },
               scales: { y: { ticks: { callback: v => fmt.pct(v, 0) }, title: { display: true, text: "actual ÷ target to date" } } } },
  });
}

CT.start(async () => {
  document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); offset = 0; showAlarms(); });
  await Promise.all([showPace(), showAlarms()]);
});
