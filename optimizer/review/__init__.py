"""The review of actuals against the plan: `alarms` (attainment and pay alarms per rep, team,
market and company)."""
