"""The binding plan LP at 1000 x 50 x 12 (`medium-binding`): period blocks (build + solve, CPU seconds), then HiGHS
alone on the same LP with a time limit, in one process; prints JSON lines. When HiGHS alone stops at the limit, the
blocks' CPU over its CPU bounds the ratio from above (`ratio_cpu_at_most`).

    .venv/bin/python scripts/bench_binding_bound.py 1500      # HiGHS alone's time limit, seconds
"""
import json, time, sys
from optimizer.bench import FloorLP, load_instance, named_instance
from optimizer.parameters import effective_parameters
from optimizer.plan.results import in_force_for
from optimizer.plan.decompose import PeriodDecomposition
from optimizer.executor import open_executor
spec = {k: v for k, v in named_instance("medium-binding").items() if k != "name"}
ds = load_instance(**spec)
params = effective_parameters(ds)
in_force = in_force_for(ds.plan, params.open_periods)
out = {"spec": spec}
c0, t0 = time.process_time(), time.perf_counter()
with open_executor(workers=1) as ex:
    dec = PeriodDecomposition(params, in_force)
    first, warm, stats = dec.solve(ex)
out.update(blocks_cpu_s=time.process_time() - c0, blocks_wall_s=time.perf_counter() - t0, blocks_objective=first.objective,
           rounds=stats.rounds, fallback=stats.fallback, horizon_rows_bind=stats.horizon_rows_bind, status=first.status)
print(json.dumps(out), flush=True)
del dec, first, warm
limit = float(sys.argv[1])
c0, t0 = time.process_time(), time.perf_counter()
floor = FloorLP(params, in_force)
floor.highs.setOptionValue("time_limit", limit)
obj, _ = floor.solve()
out.update(floor_cpu_s=time.process_time() - c0, floor_wall_s=time.perf_counter() - t0,
           floor_status=floor.highs.modelStatusToString(floor.highs.getModelStatus()), floor_objective=obj,
           floor_iterations=floor.iterations)
out["ratio_cpu_at_most" if "limit" in out["floor_status"].lower() else "ratio_cpu"] = out["blocks_cpu_s"] / out["floor_cpu_s"]
print(json.dumps(out), flush=True)
