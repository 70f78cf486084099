"""``theorysim`` command line: check claims, list what exists.

Exit codes (README, "A short tour"): 0 when every selected claim has its expected outcome, 1 when any
claim fails unexpectedly (FAIL, XPASS or an error inside a claim), 2 on bad usage.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="theorysim", description="Check ML-theory papers by simulation.")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="run claims and print the verdict table")
    c.add_argument("--paper", metavar="KEY", help="only this paper's claims (see `theorysim list --papers`)")
    c.add_argument("--claim", metavar="ID", help="only this claim (see `theorysim list --claims`)")
    mode = c.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick", help="small configurations (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full", help="paper-sized configurations")
    c.add_argument("--json", metavar="FILE", help="write the verdicts as a JSON list (schema: theorysim/claims/verdict.schema.json)")
    c.add_argument("--report", metavar="DIR", help="write DIR/report.md with one PNG figure per claim")
    c.add_argument("--threads", type=int, metavar="N", help="Numba threads (results do not depend on it)")
    c.set_defaults(mode="quick")

    sw = sub.add_parser("sweep", help="run a TOML sweep spec into a resumable SQLite store")
    sw.add_argument("spec", help="experiments/NAME.toml")
    sw.add_argument("--executor", choices=("serial", "local", "dask"), default="local")
    sw.add_argument("--scheduler", metavar="ADDR", help="a running Dask scheduler (default: start a LocalCluster)")
    sw.add_argument("--workers", type=int, metavar="N", help="worker processes (default: one per core)")
    sw.add_argument("--store", metavar="FILE", help="SQLite store (default: the spec's name with .sqlite)")
    sw.add_argument("--group-size", type=int, default=64, metavar="N",
                    help="points run together as one ensemble (default 64); a kill loses the groups in flight")

    rs = sub.add_parser("results", help="export a sweep store as a tidy table")
    rs.add_argument("store")
    rs.add_argument("--csv", metavar="FILE")
    rs.add_argument("--parquet", metavar="FILE")

    bn = sub.add_parser("bench", help="time a performance workload (one warm-up, then the median of 3 runs)")
    bn.add_argument("workload", help="a workload a setup declares (`theorysim list --workloads`): W1 (matrix "
                                      "sensing), W2 (in-context LSA), W3 (XOR two-layer ReLU); -dense/-direct "
                                      "run the JAX/PyTorch algorithm")
    bn.add_argument("--backend", choices=("cpu", "cuda"), default="cpu")
    bn.add_argument("--repeats", type=int, default=3, metavar="N")
    bn.add_argument("--json", action="store_true", help="print the JSON record only")

    ls = sub.add_parser("list", help="list papers, claims, optimizers, sweep setups or bench workloads")
    what = ls.add_mutually_exclusive_group()
    for name in ("papers", "claims", "optimizers", "setups", "workloads"):
        what.add_argument(f"--{name}", dest="what", action="store_const", const=name)
    ls.set_defaults(what="claims")
    return p


def _cmd_bench(args) -> int:
    from theorysim.bench import run_workload

    try:
        rec = run_workload(args.workload, args.backend, args.repeats)
    except ValueError as e:
        print(f"theorysim bench: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(rec))
    else:
        print(f"{rec['workload']} [{rec['backend']}]: {rec['seconds']:.3f} s (median of {len(rec['runs'])}), "
              f"first run +{rec['compile_seconds']:.1f} s, {rec['gflops']:.2f} GFLOP/s, "
              f"peak RSS {rec['peak_rss_mb']:.0f} MB")
        print("result:", json.dumps(rec["result"]))
    return EXIT_OK


def _cmd_list(args) -> int:
    from theorysim import optim
    from theorysim.claims import registry

    if args.what == "papers":
        for key, paper in sorted(registry.papers().items()):
            print(f"{key:24s} {paper.cite()}")
    elif args.what == "claims":
        for c in registry.all_claims():
            print(f"{c.id:44s} {c.statement}")
    elif args.what == "optimizers":
        for name, spec in sorted(optim.specs().items()):
            defaults = ", ".join(f"{k}={v}" for k, v in spec.defaults.items())
            print(f"{name:14s} {defaults}\n{'':14s} reference: {spec.reference}")
    elif args.what == "setups":  # exactly the values a sweep spec's `setup` accepts
        from theorysim.sweep import builders

        for name, decl in builders.describe():
            keys = ", ".join(f"{k}={v!r}" for k, v in decl.keys.items())
            print(f"{name:16s} {decl.doc}\n{'':16s} keys: {keys}; model hyperparameters: {', '.join(decl.hyper_names)}")
    else:
        from theorysim.bench import workloads

        for name, w in sorted(workloads().items()):
            print(f"{name:10s} {w.doc}")
    return EXIT_OK


def _cmd_check(args) -> int:
    from theorysim.core import config
    from theorysim.claims import registry
    from theorysim.claims.claim import Verdict
    from theorysim.claims.report import table, write_report

    try:
        claims = registry.select(paper=args.paper, claim=args.claim)
        if args.threads is not None:
            config.set_threads(args.threads)
        else:
            config.set_threads()
    except ValueError as err:
        print(f"theorysim check: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if not claims:
        print("theorysim check: error: no claims selected", file=sys.stderr)
        return EXIT_USAGE

    from tqdm.auto import tqdm

    figure_dir = Path(args.report) if args.report else None
    verdicts = []
    t0 = time.perf_counter()
    bar = tqdm(claims, desc=f"check --{args.mode}", unit="claim", file=sys.stderr, disable=not sys.stderr.isatty())
    for claim in bar:
        bar.set_postfix_str(claim.id)
        t = time.perf_counter()
        try:
            verdict = claim.check(args.mode, figure_dir=figure_dir)
        except Exception:  # a crashing claim is reported, not fatal for the others
            verdict = Verdict(claim, args.mode, [], time.perf_counter() - t, error=traceback.format_exc())
        verdicts.append(verdict)
        tqdm.write(f"{verdict.status:5s} {claim.id} ({verdict.seconds:.1f} s)", file=sys.stderr)
    print(table(verdicts))
    print(f"total {time.perf_counter() - t0:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps([v.to_json() for v in verdicts], indent=2) + "\n")
    if figure_dir is not None:
        path = write_report(verdicts, figure_dir, title=f"theorysim check --{args.mode}")
        print(f"report: {path}")
    return EXIT_FAIL if any(v.unexpected for v in verdicts) else EXIT_OK


def _cmd_sweep(args) -> int:
    from theorysim import sweep

    try:
        spec = sweep.load_spec(args.spec)
        store = args.store or str(Path(args.spec).with_suffix(".sqlite").name)
        t0 = time.perf_counter()
        counts = sweep.run_sweep(spec, store, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                                 group_size=args.group_size)
    except ValueError as err:
        print(f"theorysim sweep: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    n = counts["done"] + counts["diverged"] + counts["failed"]
    seconds = time.perf_counter() - t0
    print(f"{store}: {counts['done']} done, {counts['diverged']} diverged, {counts['failed']} failed, "
          f"{counts['skipped']} already finished; {seconds:.1f} s ({n / seconds if seconds > 0 else 0:.1f} points/s)")
    return EXIT_FAIL if counts["failed"] else EXIT_OK


def _cmd_results(args) -> int:
    from theorysim import sweep

    try:
        frame = sweep.load(args.store)
    except ValueError as err:
        print(f"theorysim results: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if args.csv:
        frame.to_csv(args.csv, index=False)
    if args.parquet:
        try:
            frame.to_parquet(args.parquet, index=False)
        except ImportError:
            print("theorysim results: error: --parquet needs pyarrow (pip install pyarrow)", file=sys.stderr)
            return EXIT_USAGE
    if not (args.csv or args.parquet):
        print(frame.to_string(max_rows=40))
    return EXIT_OK


def main(argv=None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    try:
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "sweep":
            return _cmd_sweep(args)
        if args.command == "results":
            return _cmd_results(args)
        if args.command == "bench":
            return _cmd_bench(args)
        return _cmd_check(args)
    except BrokenPipeError:  # e.g. `theorysim list | head`: the reader left, which is fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
