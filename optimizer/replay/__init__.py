"""Replay a plan year month by month (issue 18): does the tactical loop pay, and how often to run it?

A *world* (an assumption set in the §2 format) is the truth the company does not know at its
`current_period`. Each open month, in order: the reps answer the plan in force under the world's
parameters for that month (§4.5, demand capped pro rata) → realized orders (× a mean-one
log-normal noise per rep, product and month) → actuals (orders, and quotes, meetings and calls
through the world's funnel) → the period closes → alarms → the policy:

* ``static`` keeps the plan in force all year;
* ``monthly`` (after every closed month) and ``quarterly`` (after every quarter's last month) run
  the correction system (`optimizer.correction.correct`), a review under its proposed set (the
  recommendation with all the company's rules) and accept when the recommendation's expected net
  margin beats keeping the plan in force by more than ``accept_threshold`` × plan margin;
* ``oracle`` runs one review at the start under the world itself.

Pay each month is the payout calculator (§4.3) on the realized orders under the plan in force that
month. Every choice is written down in docs/replay.md. Policies × seeds run through
`optimizer.executor` (serial, a Dask LocalCluster, or a cluster); the result is the same.
"""

from __future__ import annotations

from optimizer.replay.engine import (
    POLICIES, RE_PLANNING, ReplayOptions, ReplayResult, check_options, check_world, estimate_size, run_replay,
)

__all__ = ["POLICIES", "RE_PLANNING", "ReplayOptions", "ReplayResult", "check_options", "check_world",
           "estimate_size", "run_replay"]
