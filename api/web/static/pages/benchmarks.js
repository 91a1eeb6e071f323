const { el, fmt, fill } = CT;

function size(params) { return `${params.reps ?? "?"} reps × ${params.products ?? "?"} products × ${params.periods ?? "?"} periods`; }

async function showBenchmarks() {
  const response = await CT.api("/v1/benchmarks?limit=100");
  if (!response.ok) { CT.pageError(response); return; }
  const runs = response.data.data;
  const figure = (key, digits = 3) => (v, row) => row.result ? fmt.num(row.result[key], digits) : "—";
  fill("benchmarks", runs.length ? CT.table([
    { key: "id", label: "Run" }, { key: "status", label: "Status", format: v => el("span", { class: "badge " + v }, v) },
    { key: "params", label: "Instance", format: size },
    { key: "variables", label: "Variables", num: true, format: figure("variables", 0) },
    { key: "build_s", label: "Build (s)", num: true, format: figure("build_s") },
    { key: "solve_s", label: "Solve (s)", num: true, format: figure("solve_s") },
    { key: "resolve_s", label: "Re-solve (s)", num: true, format: figure("resolve_s") },
    { key: "build_solve_ratio", label: "÷ HiGHS alone", num: true, format: figure("build_solve_ratio") },
    { key: "resolve_ratio", label: "re-solve ÷ HiGHS", num: true, format: figure("resolve_ratio") },
    { key: "peak_rss_mb", label: "Memory (MB)", num: true, format: figure("peak_rss_mb", 1) },
    { key: "submitted_at", label: "Submitted", format: fmt.time }], runs) : el("p", { class: "na" }, "No benchmark run yet."));
  if (runs.some(r => r.status === "queued" || r.status === "running")) setTimeout(showBenchmarks, 2000);
  const done = runs.filter(r => r.result).reverse();
  if (!done.length) { CT.notAvailable("chart-ratios", "no finished run yet"); return; }
  CT.chart("chart-ratios", {
    type: "bar",
    data: { labels: done.map(r => `#${r.id} ${size(r.params)}`),
            datasets: [{ label: "build+solve ÷ HiGHS alone", data: done.map(r => r.result.build_solve_ratio ?? null), backgroundColor: CT.PLAN_COLORS[0] },
                       { label: "re-solve ÷ HiGHS alone", data: done.map(r => r.result.resolve_ratio ?? null), backgroundColor: CT.PLAN_COLORS[2] }].map(d => ({ ...d, maxBarThickness: 60 })) },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: "ratio" } } } },
  });
}

CT.start(async (who) => {
  if (!CT.has(who, "analyst")) {
    document.getElementById("run-submit").disabled = true;
    const note = document.getElementById("run-note");
    note.hidden = false;
    note.textContent = `Running a benchmark needs the analyst role or above; you are signed in as ${who.role}.`;
  }
  document.getElementById("run-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    CT.clearErrors(form);
    const body = {};
    for (const name of ["reps", "products", "periods", "markets"]) body[name] = Number(form[name].value);
    const response = await CT.api("/v1/benchmarks", { method: "POST", json: body });
    if (!response.ok) { CT.showErrors(form, response); return; }
    await showBenchmarks();
  });
  await showBenchmarks();
});
