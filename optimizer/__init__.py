"""The optimizer: pure data-in / data-out functions. `parameters` (effective parameters under
assumptions), `solve` (solve options, the HiGHS set-up and the status vocabulary), `plan/` (the plan
LP, its engines, explanations and the KPI cascade), `alignment/` (payout, rep response, incentive LP,
recommendation), `review/` (alarms) and `bench` (the plan-LP benchmark). It never imports the
service layer."""
