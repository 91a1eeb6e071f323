"""The plan LP of DESIGN.md §4.1 and what hangs on it: `lp` (the readable Pyomo model, one function
per constraint family), `layout` (the same LP as arrays: the one description the fast engines build
from), `arrays` (the live HiGHS engine with warm what-if re-solves), `targets` (the entry point that
picks an engine), `results` (PlanResult, the plan in force), `explain` (duals and slacks as domain
sentences, §4.7) and `cascade` (planned orders → KPI and component targets, §4.2)."""
