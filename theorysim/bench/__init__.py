"""``theorysim bench``: the performance workloads of the benchmark suite (W1-W3), run on the
engine, with timings, the useful floating-point work and the peak memory."""
from theorysim.bench.runner import WORKLOADS, run_workload

__all__ = ["WORKLOADS", "run_workload"]
