"""Run W1, W2 and W3 in theorysim, PyTorch and JAX side by side (each in its own subprocess, one at a
time) and write benchmarks/RESULTS.md: machine, date, times, ratios, GFLOP/s and the fraction of
the machine's float64 peak (cores x FMA width x 2 x clock).

    pip install -e '.[bench]' && python benchmarks/run.py [--repeats 3] [--only W1]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, resource, statistics, sys, time
sys.path.insert(0, {here!r})
impl, workload, repeats = {impl!r}, {workload!r}, {repeats}
import numpy as np
from benchmark_workloads import W
if impl.startswith("theorysim"):
    from theorysim.bench import run_workload
    suffix = {{"theorysim-direct": "-direct", "theorysim-dense": "-dense"}}.get(impl, "")
    rec = run_workload(workload + suffix, "cpu", repeats)
    print(json.dumps({{"seconds": rec["seconds"], "first": rec["seconds"] + rec["compile_seconds"],
                      "result": rec["result"], "runs": rec["runs"],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
    raise SystemExit
mod = __import__(impl + "_impl")
if workload == "W1":
    c = W.W1
    M, X0 = W.w1_problem(), W.w1_initial()
    fn = lambda: mod.w1(M, X0, c["lr"], c["steps"])
elif workload == "W2":
    c = W.W2
    fn = lambda: mod.w2(c["d"], c["n_context"], c["batch"], c["lr"], c["init_scale"], c["steps"], c["seeds"])
else:
    c = W.W3
    md = W.w3_model()
    W0 = W.w3_initial(md)
    fn = lambda: mod.w3(md.X, md.y, md.a, md.X_test, md.y_test, W0, c["lr"], c["steps"])
t0 = time.perf_counter(); fn(); first = time.perf_counter() - t0
runs = []
for _ in range(repeats):
    t0 = time.perf_counter(); res = fn(); runs.append(time.perf_counter() - t0)
print(json.dumps({{"seconds": statistics.median(runs), "first": first,
                  "result": res, "runs": runs, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cores": os.cpu_count()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        info["cpu"] = re.search(r"model name\s*:\s*(.*)", text).group(1)
        mhz = [float(x) for x in re.findall(r"cpu MHz\s*:\s*([\d.]+)", text)]
        info["mhz"] = max(mhz) if mhz else None
        flags = re.search(r"flags\s*:\s*(.*)", text).group(1).split()
        info["simd"] = "avx512f" if "avx512f" in flags else ("avx2" if "avx2" in flags else "sse2")
    except (OSError, AttributeError):
        info.update(cpu=platform.processor(), mhz=None, simd="unknown")
    width = {"avx512f": 8, "avx2": 4, "sse2": 2}.get(info["simd"], 2)
    if "AMD" in str(info.get("cpu")):
        width = min(width, 4)  # Zen 4 runs 512-bit FMAs on its two 256-bit pipes (double-pumped)
    # 2 FMA units per core assumed (Skylake-SP and later server cores); an FMA is 2 FLOPs
    info["peak_gflops"] = (info["cores"] * width * 2 * 2 * info["mhz"] / 1000) if info.get("mhz") else None
    return info


def run_one(impl: str, workload: str, repeats: int) -> dict:
    code = CHILD.format(here=str(HERE), impl=impl, workload=workload, repeats=repeats)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall"] = time.perf_counter() - t0
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", choices=("W1", "W2", "W3"))
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--from-log", metavar="FILE", help="rebuild the table from the JSON lines a previous run printed")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE.parent))
    from benchmark_workloads import W

    c3 = W.W3
    flops = {"W1": W.w1_step_flops(W.W1["n"], W.W1["k"]) * W.W1["steps"] * W.W1["seeds"],
             "W2": W.lsa_step_flops(W.W2["d"], W.W2["n_context"]) * W.W2["batch"] * W.W2["steps"] * W.W2["seeds"],
             "W3": W.w3_step_flops(c3["n"], c3["p"], c3["m"]) * c3["steps"] * c3["seeds"]}
    # theorysim's W3 runs the span form (exact for GD, p / n x fewer flops): its own count
    own_flops = {("W3", "theorysim"): W.w3_span_flops(c3["n"], c3["p"], c3["m"], c3["test"], c3["steps"], c3["seeds"]),
                 ("W1", "theorysim"): W.w1_low_rank_step_flops(W.W1["n"], W.W1["k"], W.W1["r"]) * W.W1["steps"]
                 * W.W1["seeds"]}
    impls = {"W1": ("theorysim", "theorysim-dense", "torch", "jax"), "W2": ("theorysim", "torch", "jax"),
             "W3": ("theorysim", "theorysim-direct", "torch", "jax")}
    info = machine()
    rows = []
    if args.from_log:
        rows = [json.loads(line) for line in Path(args.from_log).read_text().splitlines() if line.startswith("{")]
    for workload in ([] if args.from_log else (["W1", "W2", "W3"] if args.only is None else [args.only])):
        for impl in impls[workload]:
            r = run_one(impl, workload, args.repeats)
            r.update(impl=impl, workload=workload)
            print(json.dumps(r), flush=True)
            rows.append(r)
    lines = ["# Benchmark results\n",
             f"Machine: {info.get('cpu')}, {info['cores']} cores, {info.get('simd')}, {info.get('mhz')} MHz; "
             f"{info['platform']}; Python {info['python']}. Date: {datetime.date.today().isoformat()}.",
             f"float64 peak assumed: {info['peak_gflops']:.1f} GFLOP/s (cores x SIMD doubles x 2 FMA units x 2 x clock; "
             f"4 doubles on AMD, whose 512-bit FMAs are double-pumped).\n"
             if info.get("peak_gflops") else "",
             "Median of 3 runs after one warm-up run (the warm-up includes compilation); every implementation in its own "
             "process, one at a time. W1 `theorysim` trains through M* = V diag(w) V^T (rank 3; never forms the n x n "
             "residual), `theorysim-dense` through the residual as JAX and PyTorch do. W3 `theorysim` is the span form the xu2023 claims run (GD in the span of the "
             "training points through Gram matrices: the same iterates, 2 n^2 m instead of 4 n p m flops per step, its "
             "GFLOP/s counted on its own flops); `theorysim-direct` runs the same algorithm as JAX and PyTorch.\n",
             "Peak RSS: the process's maximum resident set (interpreter, libraries and the run).\n",
             "| workload | implementation | seconds | first run (compile incl.) | GFLOP/s | % of peak | vs theorysim | "
             "peak RSS (MB) | result |",
             "|---|---|---|---|---|---|---|---|---|"]
    base = {r["workload"]: r.get("seconds") for r in rows if r["impl"] == "theorysim"}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['workload']} | {r['impl']} | error: {r['error']} | | | | | | |")
            continue
        gf = own_flops.get((r["workload"], r["impl"]), flops[r["workload"]]) / r["seconds"] / 1e9
        peak = f"{100 * gf / info['peak_gflops']:.1f}%" if info.get("peak_gflops") else "?"
        ratio = r["seconds"] / base[r["workload"]] if base.get(r["workload"]) else float("nan")
        res = r["result"]
        res = [v for v in res.values() if isinstance(v, (int, float))][:2] if isinstance(res, dict) else (
            res if isinstance(res, list) else [res])
        rss = f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else "-"
        lines.append(f"| {r['workload']} | {r['impl']} | {r['seconds']:.3f} | {r['first']:.2f} | {gf:.2f} | {peak} | "
                     f"{ratio:.1f}x | {rss} | {' / '.join(f'{v:.6g}' for v in res)} |")
    write_section(Path(args.out), "\n".join(lines) + "\n")
    print("wrote", args.out)


def write_section(path: Path, block: str) -> None:
    """Put the side-by-side table at the head of RESULTS.md, keeping the sections other scripts and
    sessions wrote below it (scaling, GPU, NTK): the head is everything before the first "## "."""
    text = path.read_text() if path.exists() else ""
    cut = text.find("\n## ")
    rest = text[cut + 1:] if cut >= 0 else ""
    path.write_text(block + ("\n" + rest if rest else ""))


if __name__ == "__main__":
    main()
