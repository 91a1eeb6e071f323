"""Build the shipped sample company ``datasets/sample/`` deterministically: Kestrel Automation, a European
industrial-automation vendor with 50 named reps in 6 markets, 8 products (legacy, core, new), a 2026 plan in
force that pays mostly on revenue, Q1 closed with actuals (Southern Europe lags, legacy is over-sold), two
assumption sets and a README whose figures are computed from the written tables. Run it from anywhere with
``.venv/bin/python scripts/build_sample.py [OUT_DIR]``; the same code always writes the same files.
"""

from __future__ import annotations

import pathlib
import shutil
import sys

import numpy as np
import pandas as pd
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.synthetic import (  # noqa: E402
    Blueprint,
    base_hours_per_order,
    derive_plan,
    draw_funnel,
    draw_product_mix,
    draw_rep_products,
    period_labels,
    tables_from_blueprint,
    write_tables,
)

SEED = 2026
CLOSED = 3  # Q1 closed: current_period 2026-03
# Territories are mostly exclusive, with some overlap: a rep can reach 1.0-1.3x their fair (hours) share of
# the market's potential (rep_products.max_share). The generator's default (2.5-4x) lets the ~8 reps of a
# market chase the same products, and the pro-rata scaling of DESIGN.md §4.5 then eats any plan's margin.
REACH = (1.0, 1.3)
# EUR per hour of felt discomfort (DESIGN.md §4.5): a rep with comfort 1.6 feels an hour on a new product as
# 9 EUR less - about a quarter (to a third) of variable pay per hour - noticeable, but a plan can outweigh it.
EFFORT_AVERSION = 15.0

MARKETS = [  # id, name, monthly on-target earnings, potential ÷ selling capacity, Q1 performance vs plan
    ("nordics", "Nordics", 10500, 1.25, 1.12),
    ("dach", "DACH", 11000, 1.40, 1.02),
    ("ukie", "UK & Ireland", 10000, 1.20, 1.04),
    ("south", "Southern Europe", 7800, 1.30, 0.55),
    ("us", "United States", 13000, 1.50, 1.05),
    ("apac", "APAC", 9000, 1.20, 1.06),
]

PRODUCTS = [  # id, name, group, list price before calibration, margin rate, monthly trend of potential
    ("plc-classic", "PLC Classic S5 controller", "legacy", 22000, 0.24, -0.012),
    ("scada-7", "SCADA Suite 7 (perpetual licence)", "legacy", 48000, 0.30, -0.010),
    ("hmi-pro", "HMI Pro operator panels", "core", 30000, 0.38, 0.003),
    ("mes-core", "MES Core", "core", 50000, 0.42, 0.004),
    ("edge-gw", "Edge IoT Gateway fleet", "core", 40000, 0.42, 0.006),
    ("predict-ai", "Predictive Maintenance AI", "new", 80000, 0.58, 0.025),
    ("twin-cloud", "Digital Twin Cloud", "new", 120000, 0.60, 0.030),
    ("vision-qc", "Vision QC Inspection", "new", 95000, 0.55, 0.020),
]

TEAMS = {  # market -> [(team, rep names)]
    "nordics": [("Nordics", ["Astrid Lindqvist", "Mikko Nieminen", "Sofie Hansen", "Erik Berg",
                             "Freja Jensen", "Oskar Nilsson", "Ingrid Solberg"])],
    "dach": [("DACH North", ["Jonas Keller", "Lena Fischer", "Felix Wagner", "Miriam Becker", "Tobias Krause"]),
             ("DACH South", ["Katharina Huber", "Lukas Gruber", "Sabine Schmid", "Reto Meier", "Anja Bauer"])],
    "ukie": [("UK & Ireland", ["Oliver Walsh", "Chloe Evans", "James Murphy", "Grace O'Brien", "Harry Taylor",
                               "Emily Clarke", "Sean Doyle", "Priya Shah"])],
    "south": [("Iberia", ["Lucia Garcia", "Pedro Ferreira", "Carmen Lopez", "Joao Costa"]),
              ("Italy", ["Marco Rossi", "Giulia Romano", "Luca Bianchi", "Chiara Conti"])],
    "us": [("US East", ["Ethan Miller", "Ava Johnson", "Noah Davis", "Madison Brooks", "Tyler Reed", "Olivia Carter"]),
           ("US West", ["Liam Anderson", "Sophia Martinez", "Mason Clark", "Zoe Nguyen", "Ryan Patel"])],
    "apac": [("APAC", ["Hiroshi Tanaka", "Mei Chen", "Arjun Sharma", "Jiwoo Kim", "Chloe Wong", "Lachlan Scott"])],
}

ASSUMPTIONS = {
    "south-freeze.yaml": {
        "name": "south-freeze",
        "adjustments": [
            {
                "markets": ["south"],
                "periods": {"from": "2026-04"},
                "demand": 0.5,
                "reason": "Southern Europe freezes: Q1 closed well under two thirds of plan and the Italian and "
                          "Spanish automotive suppliers have paused capital spending; plan on half the "
                          "potential for the rest of the year.",
            }
        ],
    },
    "us-upturn.yaml": {
        "name": "us-upturn",
        "adjustments": [
            {
                "markets": ["us"],
                "periods": {"from": "2026-05"},
                "demand": 1.2,
                "reason": "US reshoring incentives lift factory investment from May: 20 % more potential.",
            },
            {
                "markets": ["us"],
                "products": ["group:new"],
                "periods": {"from": "2026-05"},
                "conversion": 1.05,
                "reason": "Reference customers for the AI and cloud products shorten US sales cycles "
                          "(funnel rates +5 %).",
            },
        ],
    },
}


def blueprint() -> Blueprint:
    rng = np.random.default_rng(SEED)
    market_ids = [m[0] for m in MARKETS]
    groups = [p[2] for p in PRODUCTS]
    rep_market, rep_team, rep_names = [], [], []
    for mi, mid in enumerate(market_ids):
        for team, names in TEAMS[mid]:
            rep_market += [mi] * len(names)
            rep_team += [team] * len(names)
            rep_names += names
    rep_market = np.array(rep_market)
    n_reps = len(rep_names)
    hours = np.round(rng.uniform(100, 140, size=n_reps))
    ote = np.array([m[2] for m in MARKETS])[rep_market] * np.exp(rng.normal(0.0, 0.1, size=n_reps))
    var_share = rng.uniform(0.31, 0.39, size=n_reps)
    tvp = np.round(ote * var_share, -1)
    base = np.round(ote - tvp, -1)
    cm, mq, qo = draw_funnel(rng, groups, len(MARKETS))
    # Territories are mostly exclusive: a rep reaches 1.0-1.3x their hours share of the market's potential.
    skill, comfort, max_share = draw_rep_products(rng, groups, hours, rep_market, champion_rate=0.15,
                                                  reach=REACH)
    return Blueprint(
        name="Kestrel Automation",
        market_ids=market_ids,
        market_names=[m[1] for m in MARKETS],
        product_ids=[p[0] for p in PRODUCTS],
        product_names=[p[1] for p in PRODUCTS],
        groups=groups,
        rel_price=np.array([p[3] for p in PRODUCTS], dtype=float),
        margin_rate=np.array([p[4] for p in PRODUCTS]),
        product_mix=draw_product_mix(rng, groups, len(MARKETS)),
        trend=np.array([p[5] for p in PRODUCTS]),
        demand_ratio=np.array([m[3] for m in MARKETS]),
        call_to_meeting=cm,
        meeting_to_quote=mq,
        quote_to_order=qo,
        rep_ids=[f"R{i + 1:02d}" for i in range(n_reps)],
        rep_names=rep_names,
        rep_market=rep_market,
        rep_team=rep_team,
        hours=hours,
        base_pay=base,
        target_variable_pay=tvp,
        skill=skill,
        comfort=comfort,
        max_share=max_share,
        company={
            "hours_per_call": 0.15,
            "hours_per_meeting": 1.5,
            "hours_per_quote": 3.5,
            "hours_per_order": 2.0,
            "effort_aversion": EFFORT_AVERSION,
            "change_penalty": 0.05,
            "max_weight_change": 0.3,
            "soft_penalty": 10.0,
            "weeks_per_period": 4.345,
        },
        ccos_target=0.065,
        actual_market_factor=np.array([m[4] for m in MARKETS]),
        # Reps lean on what they know: legacy over plan, new products well under.
        actual_group_factor={"legacy": 1.3, "core": 1.0, "new": 0.65},
        actual_noise=0.15,
    )


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _money(x: float) -> str:
    return f"EUR {x / 1e6:,.1f} M"


def figures(tables: dict, bp: Blueprint) -> dict:
    """Key figures, all recomputed from the tables as written (plus the plan's mix for the legacy story)."""
    company = tables["company.yaml"]
    products = tables["products.csv"].set_index("product_id")
    reps = tables["reps.csv"].set_index("rep_id")
    funnel = tables["funnel.csv"]
    targets = tables["plan/targets.csv"]
    actuals = tables["actuals.csv"]
    n_t = len(company["periods"])
    closed = company["periods"][: company["periods"].index(company["current_period"]) + 1]

    rev_t = targets[targets.component_id == "revenue"]
    planned_revenue = rev_t.target.sum()
    pay = (reps.base_pay + reps.target_variable_pay) * n_t
    ccos = pay.sum() / planned_revenue
    rev_by_market = rev_t.assign(market=rev_t.rep_id.map(reps.market_id)).groupby("market").target.sum()
    ccos_market = pay.groupby(reps.market_id).sum() / rev_by_market
    var_share = reps.target_variable_pay / (reps.base_pay + reps.target_variable_pay)
    h = base_hours_per_order(company, funnel.call_to_meeting, funnel.meeting_to_quote, funnel.quote_to_order)

    # Q1 attainment per market: revenue vs revenue target, new-product orders vs their target.
    act = actuals.assign(
        market=actuals.rep_id.map(reps.market_id),
        revenue=actuals.orders * actuals.product_id.map(products.unit_price),
        group=actuals.product_id.map(products.group),
    )
    q1_t = targets[targets.period.isin(closed)].assign(market=lambda d: d.rep_id.map(reps.market_id))
    tgt = q1_t.pivot_table(index="market", columns="component_id", values="target", aggfunc="sum")
    att = pd.DataFrame(
        {
            "revenue": act.groupby("market").revenue.sum() / tgt["revenue"],
            "new_orders": act[act.group == "new"].groupby("market").orders.sum() / tgt["new_orders"],
        }
    )
    # The plan's own orders (behind the targets) to show how far the actual mix drifted to legacy.
    derived = derive_plan(bp, company["periods"])
    plan = derived["plan"][:, :, : len(closed)]
    plan_orders_m = pd.Series(
        np.bincount(bp.rep_market, weights=plan.sum(axis=(1, 2)), minlength=len(bp.market_ids)),
        index=bp.market_ids,
    )
    att["orders"] = act.groupby("market").orders.sum() / plan_orders_m
    g = np.array(bp.groups)
    plan_rev_group = {k: float((plan.sum(axis=(0, 2)) * derived["price"])[g == k].sum()) for k in ("legacy", "core", "new")}
    act_rev_group = act.groupby("group").revenue.sum()
    plan_orders_group = {k: float(plan.sum(axis=(0, 2))[g == k].sum()) for k in ("legacy", "core", "new")}
    act_orders_group = act.groupby("group").orders.sum()

    # Potential vs selling capacity: hours the potential asks for ÷ the reps' hours, per market.
    demand = tables["demand.csv"].merge(funnel.assign(h=h), on=["market_id", "product_id"])
    rp = tables["rep_products.csv"].assign(market_id=lambda d: d.rep_id.map(reps.market_id))
    skill = rp.groupby(["market_id", "product_id"]).skill.mean().rename("skill_mean").reset_index()
    demand = demand.merge(skill, on=["market_id", "product_id"])
    need = (demand.potential_orders * demand.h / demand.skill_mean).groupby(demand.market_id).sum()
    capacity = reps.groupby("market_id").hours_per_period.sum() * n_t
    unit_margin = products.unit_price - products.unit_cost
    # Reach: max_share as a multiple of the rep's fair (hours) share of the market's potential.
    fair = reps.hours_per_period / reps.groupby("market_id").hours_per_period.transform("sum")
    rp_all = tables["rep_products.csv"]
    reach = rp_all.max_share / rp_all.rep_id.map(fair)
    reach_sum = rp_all.assign(market_id=rp_all.rep_id.map(reps.market_id)).groupby(
        ["market_id", "product_id"]).max_share.sum()
    var_per_hour = reps.target_variable_pay / reps.hours_per_period
    return {
        "planned_revenue": planned_revenue,
        "revenue_goal": company["revenue_goal"],
        "margin_goal": company["margin_goal"],
        "ccos": ccos,
        "ccos_market": ccos_market,
        "budget_rate": company["comp_budget_rate"],
        "tvp_rate": reps.target_variable_pay.sum() * n_t / planned_revenue,
        "var_share": (var_share.min(), var_share.max(), var_share.mean()),
        "ote": ((pay / n_t).min(), (pay / n_t).max()),
        "hours": (reps.hours_per_period.min(), reps.hours_per_period.max()),
        "funnel": {c: (funnel[c].min(), funnel[c].max()) for c in ("call_to_meeting", "meeting_to_quote", "quote_to_order")},
        "h": (h.min(), h.max()),
        "h_product": h.groupby(funnel.product_id).mean(),
        "gm": ((unit_margin / products.unit_price).min(), (unit_margin / products.unit_price).max()),
        "attainment": att,
        "plan_rev_group": plan_rev_group,
        "act_rev_group": act_rev_group,
        "plan_orders_group": plan_orders_group,
        "act_orders_group": act_orders_group,
        "demand_ratio": need / capacity,
        "reach": (reach.min(), reach.max()),
        "reach_sum": (reach_sum.min(), reach_sum.max()),
        "var_per_hour": (var_per_hour.min(), var_per_hour.max(), var_per_hour.mean()),
        "hard_new_reps": int((tables["rep_products.csv"].merge(products.group.reset_index(), on="product_id")
                              .query("group == 'new'").groupby("rep_id").comfort.min() >= 1.3).sum()),
        "comfort_new": tables["rep_products.csv"].merge(products.group.reset_index(), on="product_id")
        .query("group == 'new'").comfort,
    }


def readme(tables: dict, f: dict, bp: Blueprint) -> str:
    company = tables["company.yaml"]
    products = tables["products.csv"]
    reps = tables["reps.csv"]
    markets = tables["markets.csv"].set_index("market_id").name
    att = f["attainment"]
    others = att.drop(index="south")
    h_p = f["h_product"]
    prod_lines = "\n".join(
        f"| `{r.product_id}` | {r.name} | {r.group} | {r.unit_price:,.0f} | {r.unit_cost:,.0f} | "
        f"{(r.unit_price - r.unit_cost) / r.unit_price:.0%} | {h_p[r.product_id]:.0f} | "
        f"{(r.unit_price - r.unit_cost) / h_p[r.product_id]:,.0f} | {r.unit_price / h_p[r.product_id]:,.0f} |"
        for r in products.itertuples()
    )
    market_lines = "\n".join(
        f"| `{m}` | {markets[m]} | {(reps.market_id == m).sum()} | "
        f"{', '.join(sorted(reps[reps.market_id == m].team.unique()))} | {f['demand_ratio'][m]:.2f} | "
        f"{_pct(f['ccos_market'][m])} | {_pct(att.loc[m, 'revenue'])} | {_pct(att.loc[m, 'orders'])} | "
        f"{_pct(att.loc[m, 'new_orders'])} |"
        for m in markets.index
    )
    fun = f["funnel"]
    cn = f["comfort_new"]
    tot_plan_o = sum(f["plan_orders_group"].values())
    tot_act_o = f["act_orders_group"].sum()
    tot_plan_r = sum(f["plan_rev_group"].values())
    tot_act_r = f["act_rev_group"].sum()
    group_lines = "\n".join(
        f"| {k} | {f['plan_orders_group'][k] / tot_plan_o:.0%} | {f['act_orders_group'].get(k, 0) / tot_act_o:.0%} | "
        f"{f['plan_rev_group'][k] / tot_plan_r:.0%} | {f['act_rev_group'].get(k, 0) / tot_act_r:.0%} | "
        f"{f['act_orders_group'].get(k, 0) / f['plan_orders_group'][k]:.0%} |"
        for k in ("legacy", "core", "new")
    )
    return f"""# Sample dataset: Kestrel Automation

A fictional European industrial-automation vendor, built by `scripts/build_sample.py` (deterministic,
seed {SEED}; re-run `.venv/bin/python scripts/build_sample.py` to rebuild it - do not edit the files by
hand). It is the ≈50-rep, 8-product, 12-month company of DESIGN.md §6 and the worked example of the
tactical review: Q1 2026 is closed, Southern Europe is lagging, reps keep selling the legacy controllers
they know instead of the high-margin AI and cloud products, and two market assumptions are ready to be
reviewed.

- **{len(reps)} reps** in **{len(markets)} markets** and {reps.team.nunique()} teams, paid monthly in {company['currency']};
- **{len(products)} products**: two legacy lines (PLC hardware, a perpetual SCADA licence), three core
  products, three new ones (predictive maintenance AI, digital twin cloud, vision inspection) with the best
  unit margin but that most reps find harder to sell (`comfort` of the new products 1.3-{cn.max():.2f} for
  {f['hard_new_reps']} of the {len(reps)} reps; the others are champions at ease with them);
- **12 monthly periods** 2026-01 ... 2026-12, `current_period: {company['current_period']}` (Q1 closed, with actuals);
- **the plan in force** pays {tables['plan/components.csv'].weight.iloc[0]:.0%} on revenue (all products)
  and {tables['plan/components.csv'].weight.iloc[1]:.0%} on orders of the new products, through a payout
  curve with a decelerator below 50 % attainment, accelerators above 100 % and a cap at 250 % of target
  variable pay.

## Files

| file | content |
| --- | --- |
| `company.yaml` | name, currency, periods, `current_period`, activity hours (call {company['hours_per_call']} h, meeting {company['hours_per_meeting']} h, quote {company['hours_per_quote']} h, order {company['hours_per_order']} h), `comp_budget_rate` {company['comp_budget_rate']}, `effort_aversion` {company['effort_aversion']:.0f} EUR/h, `change_penalty` {company['change_penalty']}, `max_weight_change` {company['max_weight_change']}, `soft_penalty` {company['soft_penalty']:.0f}, `weeks_per_period` {company['weeks_per_period']}, annual `revenue_goal` and `margin_goal` (= the plan's) |
| `products.csv` | 8 products: id, name, group (legacy / core / new), unit price and cost, `strategic` (1 for the new group) |
| `markets.csv` | the 6 markets |
| `reps.csv` | 50 named reps `R01`...`R50`: market, team, selling hours per month, `target_variable_pay` and `base_pay` per month |
| `funnel.csv` | call→meeting, meeting→quote, quote→order for each of the 48 market × product pairs |
| `rep_products.csv` | every rep × product pair (400 rows): `skill`, `comfort`, `max_share` ({f['reach'][0]:.2f}-{f['reach'][1]:.2f}× the rep's fair share of the market's potential, see below) |
| `demand.csv` | `potential_orders` per market × product × month (576 rows): seasonality, legacy shrinking ~1 %/month, new growing 2-3 %/month |
| `plan/components.csv` | the plan in force: `revenue` (metric revenue, products `*`) and `new_orders` (metric orders, `group:new`) |
| `plan/curve.csv` | payout curve (0,0), (0.5,0.25), (1,1), (1.25,1.5), (2,2.5) |
| `plan/targets.csv` | a target per rep × component × month (1,200 rows) from the annual plan: each rep's hours share of the market's potential at the reps' comfortable mix, capped at {bp.plan_utilization:.0%} of selling hours |
| `actuals.csv` | Q1 (2026-01...2026-03) orders, calls, meetings and quotes per rep × product × month (1,200 rows) |
| `assumptions/south-freeze.yaml` | Southern Europe demand × 0.5 from 2026-04 |
| `assumptions/us-upturn.yaml` | US demand × 1.2 from 2026-05, and the new products' US funnel rates × 1.05 |

### Products

| id | name | group | unit price | unit cost | gross margin | hours per order | margin per hour | revenue per hour |
| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
{prod_lines}

Hours per order follow DESIGN.md §3 from the funnel, averaged over the markets (before skill). The new
products earn the company the most margin per selling hour; under a plan that pays on revenue, the legacy
SCADA licence brings a rep the most revenue per hour and feels easy - hence the drift to legacy below.

### Markets and Q1 2026

"Potential ÷ capacity" is the selling time the year's potential asks for over the reps' selling hours. It is
above 1 in every market ({f['demand_ratio'].min():.2f}-{f['demand_ratio'].max():.2f}): the reps cannot serve
the whole potential, their hours bind, and the question a plan answers is which products they spend their
scarce hours on. Q1 attainment compares actuals with the plan: revenue with the revenue targets, orders with the
annual plan's orders behind the targets, new-product orders with the `new_orders` targets.

| id | market | reps | teams | potential ÷ capacity | comp cost of sales | Q1 revenue attainment | Q1 order attainment | Q1 new-product orders |
| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |
{market_lines}

**Southern Europe lags clearly**: {_pct(att.loc['south', 'revenue'])} of its Q1 revenue target and
{_pct(att.loc['south', 'orders'])} of its planned orders, against {_pct(others.revenue.min())}-{_pct(others.revenue.max())}
and {_pct(others.orders.min())}-{_pct(others.orders.max())} in the other markets.

**Reps over-sell legacy**: Q1 mix against the plan, all markets:

| group | plan share of orders | actual share of orders | plan share of revenue | actual share of revenue | actual ÷ plan orders |
| --- | ---: | ---: | ---: | ---: | ---: |
{group_lines}

## Modelling choices

- **Territories are mostly exclusive, with some overlap.** A rep's `max_share` (rep_products.csv) is their
  fair share of the market's potential (their share of the market's selling hours) times a factor drawn from
  {REACH[0]}-{REACH[1]}: {f['reach'][0]:.2f}-{f['reach'][1]:.2f}× the fair share, so the reps of a market together can reach
  {f['reach_sum'][0]:.2f}-{f['reach_sum'][1]:.2f}× a product's potential. Real sales territories (named accounts,
  regions) rarely overlap much. With wide reach (the synthetic generator's default, 2.5-4× the fair share)
  the ~8 reps of a market all chase the same products, their orders are scaled down pro rata (DESIGN.md
  §4.5), and every plan loses margin to the overlap rather than to misalignment.
- **Effort aversion is moderate.** `effort_aversion` is {company['effort_aversion']:.0f} EUR per felt hour: a rep with
  comfort 1.6 feels an hour on a new product as {company['effort_aversion'] * 0.6:.0f} EUR less - about a quarter to a
  third of variable pay per hour (target variable pay ÷ selling hours is EUR
  {f['var_per_hour'][0]:.0f}-{f['var_per_hour'][1]:.0f} per hour, mean {f['var_per_hour'][2]:.0f}, so
  {100 * company['effort_aversion'] * 0.6 / f['var_per_hour'][2]:.0f} % of the mean). Reps feel it and drift to what they
  know, but a plan that pays for the new products can outweigh it. At 50 EUR per felt hour the same hour would
  feel {50 * 0.6:.0f} EUR less, {100 * 50 * 0.6 / f['var_per_hour'][2]:.0f} % of the mean variable pay per hour - as if the
  rep earned nothing on it.
- **Hours bind everywhere.** Potential ÷ capacity is {f['demand_ratio'].min():.2f}-{f['demand_ratio'].max():.2f}
  (table above), so selling hours, not potential, are the reps' scarce resource in every market.

## Figures against published ranges

Sources are those of `research/comp_anchors.md` §4 (shared research notes).

| figure | this dataset | published range | source |
| --- | --- | --- | --- |
| comp cost of sales = (base + target variable pay) ÷ planned revenue | {_pct(f['ccos'])} company-wide; {_pct(f['ccos_market'].min())}-{_pct(f['ccos_market'].max())} by market | 3-9 % median for B2B | Sibson Perspectives 2010 (CCOS factors); ZS, "Putting CCOS to work" ("generally between 3 and 9 %") |
| pay mix (base / variable at target) | variable {_pct(f['var_share'][0])}-{_pct(f['var_share'][1])} of on-target pay (mean {_pct(f['var_share'][2])}) | 60/40-70/30 for most B2B roles, 70/30 traditional | WorldatWork 2010 via compensationforce.com |
| quote → order | {fun['quote_to_order'][0]:.3f}-{fun['quote_to_order'][1]:.3f} | 0.15-0.35 (opportunity/quote → win 20-30 % mid-market, 10-20 % enterprise; win rates 20-46 %) | firstsales.io, b2blead.io; CSO Insights 2015 via strategicdynamicsfirm.com |
| meeting → quote | {fun['meeting_to_quote'][0]:.3f}-{fun['meeting_to_quote'][1]:.3f} | 0.30-0.60 (SQL → opportunity 40-80 %) | firstsales.io, b2blead.io |
| call → meeting | {fun['call_to_meeting'][0]:.3f}-{fun['call_to_meeting'][1]:.3f} | 0.05-0.20 (10-15 % of conversations on average, 20-35 % for top SDRs) | Gong Labs via 30mpc.com; Bridge Group/Gong via getgangly.com |
| gross margin by product | {_pct(f['gm'][0])}-{_pct(f['gm'][1])} | 15-60 % spread across a B2B portfolio | comp_anchors.md §4 suggested defaults |
| hours per order (before skill) | {f['h'][0]:.0f}-{f['h'][1]:.0f} h | follows from the funnel and activity hours (DESIGN.md §3) | - |
| selling hours per rep and month | {f['hours'][0]:.0f}-{f['hours'][1]:.0f} h | 100-140 h | project convention |
| on-target pay per rep and month | EUR {f['ote'][0]:,.0f}-{f['ote'][1]:,.0f} | - | by market: Southern Europe lowest, US highest |

Other plan figures: planned revenue {_money(f['planned_revenue'])} for 2026 (`revenue_goal`
{_money(f['revenue_goal'])}, `margin_goal` {_money(f['margin_goal'])}); target variable pay ÷ planned
revenue {_pct(f['tvp_rate'])}, so `comp_budget_rate` {company['comp_budget_rate']} leaves about 20 % headroom
and the budget does not bind by default.

## Assumption sets

`assumptions/*.yaml` follow DESIGN.md §2 (`{{name, parent, adjustments: [{{markets, products, reps,
periods, demand, price, cost, conversion, hours, reason}}]}}`; an omitted scope means all, an omitted factor 1):

- `south-freeze`: Southern Europe's potential halves from 2026-04 (the Q1 lag is the signal);
- `us-upturn`: US potential × 1.2 from 2026-05, and the US funnel of the new products × 1.05.
"""


def main(out_dir: str | None = None) -> None:
    out = pathlib.Path(out_dir) if out_dir else ROOT / "datasets" / "sample"
    bp = blueprint()
    tables = tables_from_blueprint(bp, periods=12, seed=SEED, closed_periods=CLOSED, start="2026-01")
    if out.exists():
        shutil.rmtree(out)  # a rebuild must not leave stale files behind
    write_tables(tables, out)
    (out / "assumptions").mkdir()
    for name, body in ASSUMPTIONS.items():
        with (out / "assumptions" / name).open("w", encoding="utf-8") as fh:
            yaml.safe_dump(body, fh, sort_keys=False, allow_unicode=True, width=100)
    f = figures(tables, bp)
    (out / "README.md").write_text(readme(tables, f, bp), encoding="utf-8")
    print(f"wrote {out}")
    print(f"planned revenue {_money(f['planned_revenue'])}, comp cost {_pct(f['ccos'])}, "
          f"variable share {_pct(f['var_share'][0])}-{_pct(f['var_share'][1])}")
    print(f["attainment"].round(3).to_string())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
