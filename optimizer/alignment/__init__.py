"""Alignment: will the reps sell the planned mix under the pay plan? `payout` (the payout curve and
the pay calculator, §4.3), `response` (each rep's best answer to a plan, §4.5 — the judge),
`incentive` (the inverse-optimization LP for weights, §4.4), `recommend` (the recommended plan,
compared with the plan in force and simple baselines) and what makes it signable (§4.9):
`signable` (the search under the rules), `pay_rules` (the pay-cut rule and its repair),
`curve_family` (the payout curves a recommendation may choose), `changes` (every change with its
reason) and `attribution` (each market's change: the assumption set versus re-planning)."""
