"""A review as an Excel workbook for the comp committee: the summary, the changes, the weights, every
target with its reason, the attribution per market and — for the roles that see pay — the pay
impact per rep.

The workbook is built from what the API answers the caller (`ReviewPublic`, `RecommendationPublic`
and the adjustments as `read_adjustments` filters them), so it never holds a figure the caller's
role may not read: the pay sheet exists only for approver and admin, and every pay field the API
withholds is absent here too. Money is written as numbers with a thousands format, shares as
percentages, ids beside the names. Text is always written as text: a reason starting with `=`
is not a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from api.names import actor_words, component_words

MONEY = "#,##0"
SHARE = "0.0%"
WEIGHT = "0.000"
NUMBER = "#,##0.00"
PLAN_WORDS = {"recommended": "recommended plan", "in_force": "keep the plan in force",
              "flat_revenue": "flat revenue commission", "gross_margin_share": "equal share of gross margin"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Sheet:
    """A write-only worksheet with typed cells: a title, blank lines, header rows and data rows."""

    def __init__(self, book: Workbook, title: str, widths: Iterable[int]):
        self.ws = book.create_sheet(title)
        for i, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(i)].width = width

    def cell(self, value: Any, number_format: str | None = None, *, bold: bool = False) -> WriteOnlyCell:
        if isinstance(value, float) and value != value:  # NaN: an empty cell, not an error value
            value = None
        cell = WriteOnlyCell(self.ws, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula, whatever the text starts with
        if number_format and isinstance(value, (int, float)):
            cell.number_format = number_format
        if bold:
            cell.font = Font(bold=True)
        return cell

    def title(self, text: str) -> None:
        cell = self.cell(text)
        cell.font = Font(bold=True, size=14)
        self.ws.append([cell])

    def blank(self) -> None:
        self.ws.append([])

    def header(self, labels: Iterable[str]) -> None:
        cells = []
        for label in labels:
            cell = self.cell(label, bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cells.append(cell)
        self.ws.append(cells)

    def row(self, values: Iterable[tuple[Any, str | None] | Any]) -> None:
        cells = []
        for value in values:
            value, number_format = value if isinstance(value, tuple) else (value, None)
            cells.append(self.cell(value, number_format))
        self.ws.append(cells)


def review_workbook(*, review: Mapping, recommendation: Mapping, adjustments: list[dict], weights: list[dict],
                    tables: Mapping[str, Any], assumption_set: Mapping | None, sees_pay: bool) -> bytes:
    """The workbook's bytes. `review` and `recommendation` are the API's answers for the caller
    (ReviewPublic, RecommendationPublic as dicts), `adjustments` the rows with market_id, `tables`
    the dataset's tables (for names)."""
    company = tables["company.yaml"]
    currency = review["summary"]["currency"] if review.get("summary") else company.get("currency", "")
    products = tables["products.csv"]
    product_names = dict(zip(products["product_id"].astype(str), products["name"].astype(str)))
    groups: dict[str, list[str]] = {}
    for product_id, group in zip(products["product_id"].astype(str), products["group"].astype(str)):
        groups.setdefault(group, []).append(product_id)
    reps = tables["reps.csv"].astype({"rep_id": str})
    rep_of = {r.rep_id: r for r in reps.itertuples(index=False)}
    market_names = dict(zip(tables["markets.csv"]["market_id"].astype(str), tables["markets.csv"]["name"].astype(str)))
    labels = {w["component_id"]: component_words(w["metric"], w["products"], groups=groups,
                                                 product_names=product_names) for w in weights}

    def component(component_id: str | None) -> str | None:
        return labels.get(component_id, component_id) if component_id else None

    def rep_name(rep_id: str | None) -> str | None:
        row = rep_of.get(str(rep_id)) if rep_id else None
        return str(row.name) if row is not None else rep_id

    book = Workbook(write_only=True)
    summary_sheet(book, review=review, recommendation=recommendation, company=company, currency=currency,
                  assumption_set=assumption_set, component=component, sees_pay=sees_pay)
    changes = Sheet(book, "Changes", (22, 34, 18, 26, 12, 12, 16, 90))
    changes.header(["change", "component", "component id", "rep", "before", "after", "cause", "reason"])
    for change in recommendation.get("changes") or []:
        number = NUMBER if change.get("rep_id") else WEIGHT  # a rep's target, else a weight or a curve point
        changes.row([change.get("kind"), component(change.get("component_id")), change.get("component_id"),
                     rep_name(change.get("rep_id")), (change.get("before"), number), (change.get("after"), number),
                     change.get("cause"), change.get("reason")])
    weight_sheet = Sheet(book, "Weights", (34, 18, 10, 16, 12, 12, 12))
    weight_sheet.header(["component", "component id", "metric", "products", "in force", "recommended", "change"])
    for w in weights:
        weight_sheet.row([labels[w["component_id"]], w["component_id"], w["metric"], w["products"],
                          (w.get("in_force"), SHARE), (w.get("recommended"), SHARE), (w.get("delta"), SHARE)])
    targets = Sheet(book, "Targets", (22, 8, 18, 14, 34, 18, 10, 14, 14, 14, 10, 16, 70))
    targets.header(["rep", "rep id", "market", "team", "component", "component id", "period",
                    f"in force ({currency})", f"recommended ({currency})", "change", "change %", "cause", "reason"])
    for a in adjustments:
        rep = rep_of.get(str(a["rep_id"]))
        before, after = a.get("in_force"), a.get("recommended")
        share = (after / before - 1) if isinstance(before, (int, float)) and before and isinstance(after, (int, float)) else None
        targets.row([rep_name(a["rep_id"]), a["rep_id"], market_names.get(str(a.get("market_id")), a.get("market_id")),
                     str(rep.team) if rep is not None else None, component(a["component_id"]), a["component_id"],
                     a["period"], (before, NUMBER), (after, NUMBER), (a.get("delta"), NUMBER), (share, SHARE),
                     a.get("cause"), a.get("reason")])
    attribution_sheet(book, recommendation.get("attribution") or {}, market_names, currency)
    if sees_pay and recommendation.get("pay_impact"):
        pay_sheet(book, recommendation["pay_impact"], rep_name=rep_name, rep_of=rep_of,
                  market_names=market_names, currency=currency)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def summary_sheet(book: Workbook, *, review: Mapping, recommendation: Mapping, company: Mapping, currency: str,
                  assumption_set: Mapping | None, component, sees_pay: bool) -> None:
    sheet = Sheet(book, "Summary", (34, 18, 18, 18, 18, 18, 16))
    sheet.title(f"{company.get('name', '')} — review #{review['id']}")
    set_words = (f"{assumption_set['name']} (version {assumption_set['version']}, #{assumption_set['id']})"
                 if assumption_set else f"#{review.get('assumption_set_id')}")
    decision = review.get("decision")
    for label, value in (
            ("assumption set", set_words), ("against plan version", review.get("plan_version")),
            ("started by", actor_words(review.get("created_by", ""))), ("submitted (UTC)", str(review.get("submitted_at", ""))),
            ("status", review.get("status")),
            ("decision", f"{decision['decision']} by {actor_words(decision['decided_by'])}: {decision['reason']}"
             if decision else "not decided yet"),
            ("pay figures", "shown (approver or admin)" if sees_pay else "withheld for this role (approver and admin only)")):
        sheet.row([label, value])
    summary = review.get("summary") or {}
    sheet.blank()
    money_columns = [("margin", "margin"), ("revenue", "revenue")]
    if sees_pay:
        money_columns += [("net_margin", "net margin"), ("pay_cost", "variable pay")]
    sheet.header(["plan", "alignment efficiency"] + [f"{label} ({currency})" for _, label in money_columns]
                 + (["pay ÷ revenue"] if sees_pay else []))
    for row in summary.get("comparison", []):
        if sees_pay and row.get("net_margin") is None and row.get("margin") is not None and row.get("pay_cost") is not None:
            row = {**row, "net_margin": row["margin"] - row["pay_cost"]}  # net margin = margin − variable pay (§4.9)
        values = [PLAN_WORDS.get(row["plan"], row["plan"]), (row.get("alignment_efficiency"), SHARE)]
        values += [(row.get(key), MONEY) for key, _ in money_columns]
        if sees_pay:
            values.append((row.get("pay_cost_share"), SHARE))
        sheet.row(values)
    unmet = recommendation.get("unmet") or []
    if unmet:
        sheet.blank()
        shortfall = any(row.get("shortfall") is not None for row in unmet)  # money below the pay floor: pay roles only
        sheet.header(["rule not kept", "amount"] + ([f"pay below the floor ({currency})"] if shortfall else []) + ["why"])
        for row in unmet:
            sheet.row([row.get("rule"), (row.get("amount"), MONEY)]
                      + ([(row.get("shortfall"), MONEY)] if shortfall else []) + [row.get("message")])
    coverage = recommendation.get("coverage") or []
    if coverage:
        sheet.blank()
        sheet.header(["quota against plan", "component id", "Σ targets", "planned", "coverage", "at least"])
        for row in coverage:
            sheet.row([component(row.get("component_id")), row.get("component_id"), (row.get("targets"), MONEY),
                       (row.get("planned"), MONEY), (row.get("coverage"), SHARE), (row.get("min_quota_coverage"), SHARE)])
    prices = recommendation.get("rule_prices") or []
    if prices:
        sheet.blank()
        sheet.header(["rule", "value", "lifted to", f"price ({currency})", "share of plan margin"]
                     + ([f"lifted: net margin ({currency})", f"lifted: variable pay ({currency})"] if sees_pay else [])
                     + ["what it costs"])
        for row in prices:
            lifted = row.get("lifted_plan") or {}
            sheet.row([row.get("rule"), str(row.get("value")) if row.get("value") is not None else None,
                       str(row.get("lifted")) if row.get("lifted") is not None else None,
                       (row.get("price"), MONEY), (row.get("price_share"), SHARE)]
                      + ([(lifted.get("net_margin"), MONEY), (lifted.get("pay_cost"), MONEY)] if sees_pay else [])
                      + [row.get("message")])
    frontier = recommendation.get("frontier") or []
    if frontier:
        sheet.blank()
        sheet.header(["components", "alignment efficiency", f"margin ({currency})"]
                     + ([f"net margin ({currency})", f"variable pay ({currency})"] if sees_pay else []) + ["within budget"])
        for row in frontier:
            values = [row.get("components"), (row.get("alignment"), SHARE), (row.get("margin"), MONEY)]
            if sees_pay:
                values += [(row.get("net_margin"), MONEY), (row.get("pay_cost"), MONEY)]
            sheet.row(values + ["yes" if row.get("within_budget") else "no"])


def attribution_sheet(book: Workbook, attribution: Mapping, market_names: Mapping[str, str], currency: str) -> None:
    markets = attribution.get("markets") or []
    sheet = Sheet(book, "Attribution", (22, 16, 16, 16, 16, 16, 12, 12, 12, 90))
    sheet.header(["market", f"revenue in force ({currency})", f"planned ({currency})", "change", "by the assumptions",
                  "by re-planning", "change %", "assumptions %", "re-planning %", "in words"])
    for market in markets:
        revenue = market.get("revenue") or {}
        sheet.row([market.get("name") or market_names.get(market.get("market_id"), market.get("market_id")),
                   (revenue.get("in_force"), MONEY), (revenue.get("planned"), MONEY), (revenue.get("change"), MONEY),
                   (revenue.get("assumptions"), MONEY), (revenue.get("replanning"), MONEY),
                   (revenue.get("change_share"), SHARE), (revenue.get("assumptions_share"), SHARE),
                   (revenue.get("replanning_share"), SHARE), market.get("sentence")])
    if attribution.get("reference"):
        sheet.blank()
        sheet.row([attribution["reference"]])


def pay_sheet(book: Workbook, impact: Mapping, *, rep_name, rep_of, market_names, currency: str) -> None:
    sheet = Sheet(book, "Pay impact", (24, 8, 18, 14, 16, 16, 14, 10))
    rows = sorted(impact.get("reps") or [], key=lambda r: (r.get("change_share") is None, r.get("change_share")))
    shares = [r["change_share"] for r in rows if isinstance(r.get("change_share"), (int, float))]
    sheet.title("Expected variable pay per rep, open periods (recommended against the plan in force)")
    for label, value, number_format in (
            ("reps who earn less", impact.get("losers"), None), ("reps who earn more", impact.get("winners"), None),
            ("largest cut", min(shares) if shares else None, SHARE),
            ("largest raise", max(shares) if shares else None, SHARE),
            ("median change", impact.get("median_change"), SHARE),
            (f"total in force ({currency})", impact.get("in_force_total"), MONEY),
            (f"total recommended ({currency})", impact.get("recommended_total"), MONEY)):
        sheet.row([label, (value, number_format)])
    sheet.blank()
    sheet.header(["rep", "rep id", "market", "team", f"in force ({currency})", f"recommended ({currency})",
                  f"change ({currency})", "change %"])
    for r in rows:
        rep = rep_of.get(str(r["rep_id"]))
        before, after = r.get("in_force_pay"), r.get("recommended_pay")
        change = after - before if isinstance(before, (int, float)) and isinstance(after, (int, float)) else None
        sheet.row([rep_name(r["rep_id"]), r["rep_id"], market_names.get(str(r.get("market_id")), r.get("market_id")),
                   str(rep.team) if rep is not None else None, (before, MONEY), (after, MONEY), (change, MONEY),
                   (r.get("change_share"), SHARE)])
