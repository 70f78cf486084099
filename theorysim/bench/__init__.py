"""``theorysim bench``: the performance workloads the setups declare (W1-W3 today), run on the
engine, with timings, the useful floating-point work and the peak memory."""
from theorysim.bench.runner import run_workload, workloads

__all__ = ["run_workload", "workloads"]
