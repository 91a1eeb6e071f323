"""The domain vocabulary of comptune: company, products, markets, reps, funnel, demand, plans,
assumption sets and actuals — typed and validated, with no I/O beyond reading a dataset folder."""
