"""Calibration (DESIGN.md §4.11): the behaviour model of §4.5 estimated from the closed periods' history.

`calibrate(dataset, history, spans)` (`optimizer.calibration.estimate`) reads the actuals of the
closed periods under the plans then in force and returns a calibrated dataset — funnel rates per
market and product (`activity`), each rep's skill per product from the activity logged per order
(`activity`), each rep's comfort per product by inverse optimization of the reps' own problem
(`choice`) — with every estimate's support, uncertainty and identification flag, and optionally
a holdout validation against naive forecasts (`validate`). `synthetic` writes the noisy history of
a company whose true parameters are known, and `regret` measures what calibrating is worth there.
The estimator is documented in docs/calibration.md.
"""
