"""What a role may read: pay figures (variable pay, its cost and share, the comp budget's slack and
shadow price) reach only the approver and admin roles, in every text the API returns.

Reviews store one full result; the routes pass what they return through these functions for the
caller's role. A figure about pay hides in three shapes: a numeric field (`pay_cost`,
`pay_cost_share`), a row of an explanation whose family is the budget, and a sentence that speaks
of pay or the budget (a soft slack's message, an engine caveat, a failed review's error, an
adjustment's reason). Rows and sentences are withheld whole, so no number in them can leak.
"""

from __future__ import annotations

import re

import pandas as pd

PAY_FIELDS = ("pay_cost", "pay_cost_share", "net_margin")  # net margin is margin − pay: it reveals the pay
PAY_FAMILIES = ("budget",)
PAY_WORDS = re.compile(r"\b(?:pay|paid|payroll|budget|salar(?:y|ies)|earn(?:s|ings)?)\b", re.IGNORECASE)
WITHHELD = "withheld: it states pay figures (approver and admin only)"


def mentions_pay(text: str) -> bool:
    return bool(PAY_WORDS.search(text))


def is_pay_row(row: dict) -> bool:
    """An explanation row (binding constraint or soft slack) that states a pay figure."""
    return (row.get("family") in PAY_FAMILIES or row.get("constraint") in PAY_FAMILIES
            or mentions_pay(str(row.get("message", ""))))


def without_pay_rows(rows: list[dict]) -> list[dict]:
    return [row for row in rows if not is_pay_row(row)]


def without_pay_sentences(sentences: list[str]) -> list[str]:
    return [text for text in sentences if not mentions_pay(text)]


def pay_free_text(text: str) -> str:
    return WITHHELD if mentions_pay(text) else text


def summary_for(summary: dict, *, sees_pay: bool) -> dict:
    """A stored review summary as the caller's role may read it. The engine's message is stored
    twice (summaries before the split hold only the public one): with its amounts for the roles
    that see pay, the public one for the others (withheld whole when it speaks of pay)."""
    summary = dict(summary)
    public_message = summary.pop("public_message", None)
    if sees_pay:
        return summary
    comparison = [{**row, **{key: None for key in PAY_FIELDS}} for row in summary.get("comparison", [])]
    effect = {k: (None if k in PAY_FIELDS else v) for k, v in (summary.get("effect") or {}).items()}
    return {**summary, "comparison": comparison, "effect": effect, "soft_slacks": without_pay_rows(summary.get("soft_slacks", [])),
            "selected": pay_free_text(summary.get("selected", "")),
            # the engine's public message is free of amounts, but a sentence on pay or the budget is still withheld whole
            "message": pay_free_text(public_message if public_message is not None else summary.get("message", ""))}


def adjustments_for(adjustments: pd.DataFrame, *, sees_pay: bool) -> pd.DataFrame:
    """The plan adjustments table with each `reason` that speaks of pay withheld."""
    if sees_pay or "reason" not in adjustments.columns or adjustments.empty:
        return adjustments
    speaks_of_pay = adjustments["reason"].astype(str).str.contains(PAY_WORDS)
    return adjustments.assign(reason=adjustments["reason"].where(~speaks_of_pay, WITHHELD))


def explanation_for(explanation: dict, *, sees_pay: bool) -> dict:
    """A stored explanation as the caller's role may read it."""
    if sees_pay:
        return explanation
    return {**explanation, "binding": without_pay_rows(explanation.get("binding", [])),
            "soft_slacks": without_pay_rows(explanation.get("soft_slacks", [])),
            "messages": without_pay_sentences(explanation.get("messages", [])),
            "incentive_binding": [b for b in explanation.get("incentive_binding", []) if b not in PAY_FAMILIES]}


def frontier_for(frontier: list[dict], *, sees_pay: bool) -> list[dict]:
    """The frontier rows with pay and net margin withheld for roles that may not see pay."""
    rows = [dict(row) for row in frontier]
    if not sees_pay:
        for row in rows:
            for key in PAY_FIELDS:
                if key in row:
                    row[key] = None
    return rows


def prices_for(prices: list[dict], *, sees_pay: bool, objective: str | None) -> list[dict]:
    """The price of each rule; under the net-margin objective a price is a pay figure (the objective
    moves with pay), so other roles get the rule, whether it binds and the public sentence only."""
    if sees_pay or objective == "margin":
        return [dict(p) for p in prices]
    return [{"rule": p.get("rule"), "value": p.get("value"), "lifted": p.get("lifted"),
             "binds": (p.get("price") or 0) > 0, "message": p.get("public_message") or WITHHELD} for p in prices]


def objective_for(objective: dict, *, sees_pay: bool) -> dict:
    if sees_pay or objective.get("name") == "margin":
        return dict(objective)
    return {**objective, "value": None}
