"""The optimizer: pure data-in / data-out functions — effective parameters, the plan LP, the KPI
cascade, the payout calculator and explanations. It never imports the service layer."""
