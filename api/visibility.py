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


# ---------------------------------------------------------------------------------------------
# Replays (issue 18): every amount of pay — a month's or a year's pay, net margin (margin − pay) and
# its running total, the spread of net margin over seeds, a decision's expected gain in net margin,
# the gaming audit's pay with and without holding back and its gain — is null for the roles that may
# not see pay. Ratios (share of the oracle's gain, pay stability, a gain's share of plan margin),
# counts and the gaming verdict without amounts are shown to every role.

RATIO_KEYS = ("pay_stability", "share_of_oracle_gain", "expected_gain_share")
AMOUNT = re.compile(r"\d[\d,.]*\s*(?:k|M|bn)?\s*(?:EUR|USD|GBP|CHF|SEK|€|\$|£)|[€$£]\s*\d|\d{1,3}(?:,\d{3})+|\d{4,}")


def is_pay_key(key: str) -> bool:
    """A replay field that states an amount of pay (or of net margin, which reveals it)."""
    if key in RATIO_KEYS or key.endswith("_share") or key.startswith("share"):
        return False
    return (key in ("pay", "gain", "expected_gain") or key.startswith("pay_") or key.endswith("_pay")
            or "net_margin" in key or key.endswith("_gain"))


def _without_pay(node, *, parent: str | None = None):
    if isinstance(node, dict):
        return {key: (None if (is_pay_key(key) or parent == "spread") and not isinstance(value, (dict, list))
                      else _without_pay(value, parent=key)) for key, value in node.items()}
    if isinstance(node, list):
        return [_without_pay(item, parent=parent) for item in node]
    return node


def verdict_for(audit: dict) -> str | None:
    """The gaming verdict as every role may read it: the engine's sentence when it states no amount,
    else the count of reps it rewards."""
    verdict = audit.get("verdict")
    if verdict is None or not AMOUNT.search(str(verdict)):
        return verdict
    reps = audit.get("reps_sampled", len(audit.get("reps") or []))
    rewarded = len(audit.get("rewarded") or [])
    return (f"holding back orders in the first open month raises the year pay of {rewarded} of {reps} reps sampled"
            if rewarded else f"holding back orders in the first open month raises the year pay of none of the "
                             f"{reps} reps sampled")


def replay_for(replay: dict | None, *, sees_pay: bool) -> dict | None:
    """A stored replay result or summary as the caller's role may read it. Every role gets the count of
    rewarded reps in the gaming audit (`rewarded_count`); the reps and amounts only approver and admin."""
    if replay is None:
        return None
    replay = dict(replay)
    gaming = [dict(audit, rewarded_count=len(audit.get("rewarded") or [])) for audit in replay.get("gaming") or []]
    if "gaming" in replay:
        replay["gaming"] = gaming
    if sees_pay:
        return replay
    out = _without_pay(replay)
    if "gaming" in out:
        for audit, original in zip(out["gaming"], gaming):
            audit["rewarded"] = None
            audit["verdict"] = verdict_for(original)
    return out
