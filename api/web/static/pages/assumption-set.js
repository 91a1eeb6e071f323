// One assumption set in words: each adjustment's scope and factors as a table, the changes against
// the set it revises as sentences, the reviews run under it, and "start a review" (analyst and up).
// A set that does not exist says so, and nothing can be started from it.
"use strict";
const { el, fmt, fill } = CT;
const SET_ID = Number(CT.pageData("id"));
let names;

function scopeText(adj, key) {
  const v = adj[key];
  if (v === undefined || v === null) return key === "reps" ? "every rep" : `every ${key.replace(/s$/, "")}`;
  if (key === "markets") return v.map(m => names.market(m)).join(", ");
  if (key === "products") return names.scope(v);
  if (key === "reps") return v.map(r => names.rep(r)).join(", ");
  if (Array.isArray(v)) return v.join(", ");
  return v.from && v.to ? `${v.from} to ${v.to}` : (v.from ? `from ${v.from}` : (v.to ? `until ${v.to}` : "every period"));
}

function factorText(adj) {
  const set = CT.FACTORS.filter(f => adj[f] !== undefined && adj[f] !== null && adj[f] !== 1);
  return set.length ? set.map(f => `${f} × ${fmt.num(adj[f], 3)}`).join(", ") : "no change";
}

// "adjustments[0].demand" changed 0.5 → 0.4 … as a sentence
function diffSentence(change, set) {
  const match = /^adjustments\[(\d+)\](?:\.(.+))?$/.exec(change.path || "");
  if (!match) return `${change.path}: ${JSON.stringify(change.old)} → ${JSON.stringify(change.new)}`;
  const n = Number(match[1]) + 1, field = match[2];
  if (!field) {
    if (change.op === "added") return `Adjustment ${n} is new: ${CT.adjustmentWords(change.new || {}, names)}.`;
    if (change.op === "removed") return `Adjustment ${n} of the revised set is gone: ${CT.adjustmentWords(change.old || {}, names)}.`;
  }
  const words = v => v === null || v === undefined ? "(not set)" : (typeof v === "object" ? (Array.isArray(v) ? v.join(", ") : JSON.stringify(v)) : String(v));
  const top = field.split(/[.[]/)[0];
  if (CT.FACTORS.includes(top)) {
    if (change.op === "added") return `Adjustment ${n}: ${top} × ${words(change.new)} (was unchanged).`;
    if (change.op === "removed") return `Adjustment ${n}: ${top} back to unchanged (was × ${words(change.old)}).`;
    return `Adjustment ${n}: ${top} × ${words(change.old)} → × ${words(change.new)}.`;
  }
  if (top === "reason") return `Adjustment ${n}: the reason now reads “${words(change.new)}”.`;
  const label = { markets: "markets", products: "products", reps: "reps", periods: "periods" }[top] || top;
  if (change.op === "added") return `Adjustment ${n}: ${label} narrowed to ${words(change.new)}.`;
  if (change.op === "removed") return `Adjustment ${n}: ${label} no longer narrowed (was ${words(change.old)}).`;
  return `Adjustment ${n}: ${label} ${words(change.old)} → ${words(change.new)}.`;
}

function missing(response) {
  const text = response.status === 404 ? `There is no assumption set #${SET_ID}.` : ((response.data && response.data.detail) || `error ${response.status}`);
  fill("set-title", response.status === 404 ? "No such assumption set" : "Assumption set");
  fill("set-meta", el("p", { class: "notice bad", id: "set-missing" }, text, " ", el("a", { href: "/assumption-sets" }, "See the stored sets.")));
  fill("set-body"); fill("set-diff");
  document.getElementById("start-review").disabled = true;
  fill("review-note", "Nothing to review.");
}

CT.start(async (who) => {
  names = await CT.names();
  if (CT.pageData("validId") !== "1") { missing({ status: 404 }); return; }
  const response = await CT.api(`/v1/assumption-sets/${SET_ID}`);
  if (!response.ok) { missing(response); return; }
  const set = response.data;
  document.title = `${set.name} (version ${set.version}) · comptune`;
  fill("page-title", `Assumption set: ${set.name}`);
  fill("set-title", `${set.name} · version ${set.version}`);
  const [parent, reviews] = await Promise.all([set.parent_id ? CT.api(`/v1/assumption-sets/${set.parent_id}`) : null,
                                               CT.fetchAll("/v1/reviews", {}, { page: 500, max: 2000 })]);
  fill("set-meta", el("p", {}, `Stored by ${names.person(set.created_by)}, ${fmt.time(set.created_at)}. `,
    set.parent_id ? el("span", {}, "It revises ", el("a", { href: `/assumption-sets/${set.parent_id}` },
      parent && parent.ok ? `${parent.data.name} (version ${parent.data.version})` : `set #${set.parent_id}`), ".") : "It revises no other set."));
  const adjustments = set.body.adjustments || [];
  fill("set-body", adjustments.length ? CT.table([
    { key: "n", label: "#", num: true },
    { key: "markets", label: "Markets", format: (v, a) => scopeText(a, "markets") },
    { key: "products", label: "Products", format: (v, a) => scopeText(a, "products") },
    { key: "reps", label: "Reps", format: (v, a) => scopeText(a, "reps") },
    { key: "periods", label: "Periods", format: (v, a) => scopeText(a, "periods") },
    { key: "factors", label: "Factors", format: (v, a) => factorText(a) },
    { key: "reason", label: "Reason" }], adjustments.map((a, i) => ({ ...a, n: i + 1 })), { id: "set-table" })
    : el("p", { class: "na" }, "No adjustment: the dataset as it is."));
  fill("set-diff", !set.parent_id ? el("p", { class: "na" }, "Nothing to compare: every adjustment is new.")
    : (set.diff.length ? el("ul", { id: "diff-sentences" }, set.diff.map(c => el("li", {}, diffSentence(c, set))))
       : el("p", { class: "na" }, "No change against the set it revises.")));
  fill("set-json", JSON.stringify(set.body, null, 2));
  const under = reviews.ok ? reviews.data.data.filter(r => r.assumption_set_id === SET_ID) : [];
  fill("set-reviews", under.length ? CT.table([
    { key: "id", label: "Review", format: v => el("a", { href: `/reviews/${v}` }, `#${v}`) },
    { key: "status", label: "Status", format: v => el("span", { class: "badge " + v }, v) },
    { key: "plan_version", label: "Against plan version", num: true },
    { key: "decision", label: "Decision", format: d => d ? `${d.decision === "accept" ? "accepted" : "rejected"} by ${names.person(d.decided_by)}` : "—" },
    { key: "submitted_at", label: "Submitted", format: fmt.time }], under) : el("p", { class: "na" }, "No review yet."));
  const button = document.getElementById("start-review");
  button.disabled = !CT.has(who, "analyst");
  if (!CT.has(who, "analyst")) fill("review-note", `Starting a review needs the analyst role or above; you are signed in as ${who.role}.`);
  document.getElementById("review-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    const started = await CT.api("/v1/reviews", { method: "POST", json: { assumption_set_id: SET_ID } });
    if (!started.ok) { button.disabled = false; CT.showErrors(event.target, started); return; }
    location.assign(`/reviews/${started.data.id}`);
  });
});
