"""Seconds against the ensemble size E and against the problem size, for W1 (matrix sensing) and W3
(XOR two-layer ReLU), theorysim beside JAX (jit + vmap + scan), every point in its own process (its
first run compiles, then the median of ``--repeats`` runs). Writes ``benchmarks/scaling.png`` and the
table between the scaling markers of ``benchmarks/RESULTS.md``.

    pip install -e '.[bench]' && python benchmarks/scaling.py [--repeats 3] [--quick]

Sizes: W1 at n = 50, r = 3, k = 10 with 1000 GD steps (a fifth of W1's 5000: the cost per step is
what scales) for E = 1 ... 1024, and at E = 64 for n = 25 ... 200; W3 at n = m = 200, p = 2000, 100
steps for E = 1 ... 64 (JAX holds a 200 x 2000 weight matrix per member and its gradient: 1024
members would need ~7 GB, and 64 already take JAX ~30 s a run here) and at E = 4 for p = 500 ... 4000. theorysim runs its own algorithms (W1
through the rank-3 M*, W3 in the training points' span); JAX the direct ones; the results agree.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- scaling:begin -->", "<!-- scaling:end -->"

CHILD = r"""
import json, resource, statistics, sys, time
sys.path.insert(0, {here!r})
import numpy as np
impl, workload, E, size, steps, repeats = {impl!r}, {workload!r}, {E}, {size}, {steps}, {repeats}
from benchmark_workloads import W
if workload == "W1":
    from theorysim.setups.matrix_sensing.model import FactorizedSensing
    c = W.W1
    U = np.random.default_rng(c["problem_seed"]).normal(size=(size, c["r"]))
    U /= np.linalg.norm(U, 2)
    M = U @ U.T
    model = FactorizedSensing(M, c["k"], A=None, symmetric=True, loss_scale=0.25)
    alpha = c["init"] * np.sqrt(size)
    X0 = model.init(np.arange(E), np.full((E, 1), alpha))
    if impl == "theorysim":
        from theorysim.engine.experiment import Experiment
        def fn():
            res = Experiment(model, "sgd", lr=c["lr"], steps=steps, seeds=range(E), record_every=steps, alpha=alpha,
                             progress=False).run()
            return float(np.median(res.final("error")))
    else:
        import jax_impl
        fn = lambda: jax_impl.w1(M, X0, c["lr"], steps)
else:
    from theorysim.setups.xor_grokking import data
    c = W.W3
    model = data.build({{"n": c["n"], "p": size, "m": c["m"], "eta": c["eta"], "mu_scale": c["mu_scale"],
                        "test": c["test"]}}, c["data_seed"])
    if impl == "theorysim":
        from theorysim.engine.experiment import Experiment
        def fn():  # timed from the data: the span form's Gram matrices included, as in W3's bench
            res = Experiment(model.span_form(), "sgd", lr=c["lr"], steps=steps, seeds=range(E), record_every=steps,
                             omega_init=c["omega_init"], divergence_factor=0, progress=False).run()
            return float(res.final("test_acc").mean())
    else:
        import jax_impl
        W0 = model.init(np.arange(E), np.full((E, 1), c["omega_init"]))
        fn = lambda: jax_impl.w3(model.X, model.y, model.a, model.X_test, model.y_test, W0, c["lr"], steps)[1]
t0 = time.perf_counter(); fn(); first = time.perf_counter() - t0
runs = []
for _ in range(repeats):
    t0 = time.perf_counter(); result = fn(); runs.append(time.perf_counter() - t0)
print(json.dumps({{"seconds": statistics.median(runs), "first": first, "result": result,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

FULL = {"W1": {"E": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], "sizes": [25, 50, 100, 200], "fixed_E": 64,
               "size": 50, "steps": 1000, "size_name": "n"},
        "W3": {"E": [1, 2, 4, 8, 16, 32, 64], "sizes": [500, 1000, 2000, 4000], "fixed_E": 4, "size": 2000,
               "steps": 100, "size_name": "p"}}
QUICK = {"W1": {**FULL["W1"], "E": [1, 4, 16, 64], "sizes": [25, 50], "steps": 200},
         "W3": {**FULL["W3"], "E": [1, 4], "sizes": [500, 1000], "steps": 20}}
IMPLS = ("theorysim", "jax")


def measure(impl: str, workload: str, E: int, size: int, steps: int, repeats: int) -> dict:
    code = CHILD.format(here=str(HERE), impl=impl, workload=workload, E=E, size=size, steps=steps, repeats=repeats)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    row = {"impl": impl, "workload": workload, "E": E, "size": size, "steps": steps}
    if proc.returncode != 0:
        return {**row, "error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    return {**row, **json.loads(proc.stdout.strip().splitlines()[-1])}


def slope(xs, ys) -> float:
    """Least-squares slope of log y against log x."""
    import numpy as np

    x, y = np.log(np.asarray(xs, dtype=float)), np.log(np.asarray(ys, dtype=float))
    return float(np.polyfit(x, y, 1)[0]) if len(x) >= 2 else float("nan")


def table(rows: list[dict], plan: dict) -> list[str]:
    out = []
    for w, p in plan.items():
        for axis, key, fixed in (("E", "E", f"{p['size_name']} = {p['size']}"),
                                 (p["size_name"], "size", f"E = {p['fixed_E']}")):
            pts = [r for r in rows if r["workload"] == w and r.get("axis") == axis and "error" not in r]
            xs = sorted({r[key] for r in pts})
            out += [f"\n{w}, seconds against {axis} ({fixed}, {p['steps']} steps; peak RSS in MB):\n",
                    f"| {axis} | " + " | ".join(f"{i} s | {i} MB" for i in IMPLS) + " | JAX / theorysim |",
                    "|---|" + "---|" * (2 * len(IMPLS) + 1)]
            for x in xs:
                by = {r["impl"]: r for r in pts if r[key] == x}
                cells = []
                for i in IMPLS:
                    r = by.get(i)
                    cells += [f"{r['seconds']:.4g}", f"{r['peak_rss_mb']:.0f}"] if r else ["-", "-"]
                ratio = (by["jax"]["seconds"] / by["theorysim"]["seconds"]) if len(by) == 2 else float("nan")
                out.append(f"| {x} | " + " | ".join(cells) + f" | {ratio:.2f}x |")
            for i in IMPLS:
                sel = [(r[key], r["seconds"]) for r in pts if r["impl"] == i and (axis != "E" or r["E"] >= 2)]
                if len(sel) >= 2:
                    out.append(f"\n{i}: log-log slope {slope(*zip(*sel)):.2f}" + (" from E = 2 (cores) up" if axis == "E"
                                                                                  else ""))
            errors = [r for r in rows if r["workload"] == w and r.get("axis") == axis and "error" in r]
            out += [f"\n{r['impl']} at {axis} = {r[key]}: error: {r['error']}" for r in errors]
    return out


def figure(rows: list[dict], plan: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 8))
    for col, (w, p) in enumerate(plan.items()):
        for row, (axis, key) in enumerate((("E", "E"), (p["size_name"], "size"))):
            ax = axes[row, col]
            for c, i in enumerate(IMPLS):
                pts = sorted((r[key], r["seconds"]) for r in rows
                             if r["workload"] == w and r.get("axis") == axis and r["impl"] == i and "error" not in r)
                if pts:
                    x, y = zip(*pts)
                    ax.loglog(x, y, "o-", color=f"C{c}", label=i)
                    if axis == "E":
                        ax.loglog(x, [y[-1] * v / x[-1] for v in x], ":", color=f"C{c}", lw=1)
            fixed = f"{p['size_name']} = {p['size']}" if axis == "E" else f"E = {p['fixed_E']}"
            ax.set(xlabel=axis, ylabel="seconds", title=f"{w}: {fixed}, {p['steps']} steps")
            ax.legend(fontsize=8)
    fig.suptitle("theorysim vs JAX (dotted: linear in E through the largest point)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="a few small points (to check the script)")
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--from-log", metavar="FILE", help="rebuild table and figure from a previous run's JSON lines")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        print(f"scaling: error: --repeats={args.repeats}: expected >= 1", file=sys.stderr)
        return 2
    plan = QUICK if args.quick else FULL
    out = Path(args.out)
    if args.from_log:
        rows = [json.loads(line) for line in Path(args.from_log).read_text().splitlines() if line.startswith("{")]
    else:
        rows = []
        for w, p in plan.items():
            points = [("E", E, p["size"]) for E in p["E"]] + [(p["size_name"], p["fixed_E"], s) for s in p["sizes"]]
            for axis, E, size in points:
                for impl in IMPLS:
                    r = {**measure(impl, w, E, size, p["steps"], args.repeats), "axis": axis}
                    print(json.dumps(r), flush=True)
                    rows.append(r)
    figure(rows, plan, out / "scaling.png")
    results = out / "RESULTS.md"
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    block = "\n".join([BEGIN, "## Scaling (benchmarks/scaling.py)", "", "![scaling](scaling.png)"] + table(rows, plan)
                      + [END])
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    results.write_text(text)
    print(f"wrote {out / 'scaling.png'} and the scaling table in {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
