"""``theorysim`` command line: check claims, run sweeps, list what exists.

Exit codes (README, "A short tour"; "Failure behaviour"): 0 when every selected claim has its
expected outcome, 1 when any claim fails unexpectedly (FAIL, XPASS or an error inside a claim) or
a sweep point fails, 2 on bad usage (one line on stderr naming the flag, file, key or path, the
value and what is allowed, before any work starts), 130 when interrupted (what finished is kept).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
COMMANDS = ("check", "sweep", "results", "bench", "list", "new", "report")


class UsageError(ValueError):
    """Bad usage found before any work: printed as one line, exit 2."""


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive integer") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive integer")
    return n


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (``theorysim sweep: error: ... (see theorysim sweep -h)``)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="theorysim", description="Check ML-theory papers by simulation.")
    sub = p.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")

    c = sub.add_parser("check", help="run claims and print the verdict table")
    c.add_argument("--paper", metavar="KEY", help="only this paper's claims (see `theorysim list --papers`)")
    c.add_argument("--claim", metavar="ID", help="only this claim (see `theorysim list --claims`)")
    mode = c.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick", help="small configurations (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full", help="paper-sized configurations")
    c.add_argument("--json", metavar="FILE", help="write the verdicts as a JSON list (schema: theorysim/claims/verdict.schema.json)")
    c.add_argument("--report", metavar="DIR", help="write DIR/index.html (one self-contained page to open in a browser) and DIR/report.md, with one PNG figure per claim")
    c.add_argument("--backend", choices=("cpu", "cuda"), default="cpu",
                   help="the engine for every simulation whose model has GPU kernels (default cpu)")
    c.add_argument("--threads", type=_positive_int, metavar="N",
                   help="Numba threads (default: THEORYSIM_THREADS or one per core; results do not depend on it)")
    c.add_argument("--jobs", type=_positive_int, metavar="N",
                   help="worker processes, each checking whole setups with threads / N threads (default: one per "
                        "thread, at most one per setup; 1: all in this process)")
    c.set_defaults(mode="quick")
    c.add_argument("--setups-path", metavar="DIR", action="append", default=[],
                   help="a folder of setup packages outside theorysim (repeatable; added to THEORYSIM_SETUPS, which "
                        "worker processes inherit)")

    sw = sub.add_parser("sweep", help="run a TOML sweep spec into a resumable SQLite store")
    sw.add_argument("spec", help="experiments/NAME.toml")
    sw.add_argument("--executor", choices=("serial", "local", "dask"), default="local",
                    help="serial (this process), local (a process pool, default) or dask")
    sw.add_argument("--scheduler", metavar="ADDR", help="a running Dask scheduler (default: start a LocalCluster)")
    sw.add_argument("--workers", type=_positive_int, metavar="N", help="worker processes (default: one per core)")
    sw.add_argument("--store", metavar="FILE", help="SQLite store (default: the spec's name with .sqlite)")
    sw.add_argument("--group-size", type=_positive_int, default=64, metavar="N",
                    help="points run together as one ensemble (default 64); a kill loses the groups in flight")
    sw.add_argument("--backend", choices=("cpu", "cuda"), default="cpu",
                    help="the engine for points whose model has GPU kernels (default cpu)")
    sw.add_argument("--dry-run", action="store_true",
                    help="validate every point, print the points and the estimated work and memory, run nothing")
    sw.add_argument("--setups-path", metavar="DIR", action="append", default=[],
                   help="a folder of setup packages outside theorysim (repeatable; added to THEORYSIM_SETUPS, which "
                        "worker processes inherit)")

    rs = sub.add_parser("results", help="export a sweep store as a tidy table (the store is opened read-only)")
    rs.add_argument("store", help="a store written by `theorysim sweep` (FILE.sqlite)")
    rs.add_argument("--csv", metavar="FILE", help="write the table as CSV to FILE")
    rs.add_argument("--parquet", metavar="FILE", help="write the table as Parquet to FILE (needs pyarrow)")

    bn = sub.add_parser("bench", help="time a performance workload (one warm-up, then the median of 3 runs)")
    bn.add_argument("workload", help="a workload a setup declares (`theorysim list --workloads`): W1 (matrix "
                                      "sensing), W2 (in-context LSA), W3 (XOR two-layer ReLU); -dense/-direct "
                                      "run the JAX/PyTorch algorithm")
    bn.add_argument("--backend", choices=("cpu", "cuda"), default="cpu", help="the engine to time (default cpu)")
    bn.add_argument("--repeats", type=_positive_int, default=3, metavar="N", help="timed runs after the warm-up")
    bn.add_argument("--json", action="store_true", help="print the JSON record only")
    bn.add_argument("--setups-path", metavar="DIR", action="append", default=[],
                   help="a folder of setup packages outside theorysim (repeatable; added to THEORYSIM_SETUPS, which "
                        "worker processes inherit)")

    nw = sub.add_parser("new", help="write a working skeleton of a setup outside theorysim (`new setup NAME`)")
    nw.add_argument("kind", choices=("setup",), help="what to create: a setup folder")
    nw.add_argument("name", metavar="NAME", help="the setup's name (a lower-case identifier)")
    nw.add_argument("--paper", metavar="KEY", help="the paper key its claim is filed under (default NAME)")
    nw.add_argument("--dir", metavar="DIR", default=".",
                    help="the folder of setups to add it to (default: the current directory; then "
                         "THEORYSIM_SETUPS=DIR or --setups-path DIR finds it)")

    rp = sub.add_parser("report", help="the HTML report of saved verdicts (`check --json`), or two runs compared")
    rp.add_argument("runs", nargs="+", metavar="JSON",
                    help="a run's verdicts; with two (OLD NEW), the page of NEW with what changed since OLD")
    rp.add_argument("--out", metavar="DIR", required=True, help="the folder to write index.html into")
    rp.add_argument("--figures", metavar="DIR",
                    help="the folder of the run's figures (default: the newer JSON's folder, as check --report writes them)")

    ls = sub.add_parser("list", help="list papers, claims, optimizers, sweep setups or bench workloads")
    what = ls.add_mutually_exclusive_group()
    for name, text in (("papers", "the papers and their citations"),
                       ("claims", "every claim's id and statement (the default)"),
                       ("optimizers", "the optimizer rules with their defaults and reference implementations"),
                       ("setups", "the values a sweep spec's `setup` accepts, with their keys"),
                       ("workloads", "the `theorysim bench` workloads")):
        what.add_argument(f"--{name}", dest="what", action="store_const", const=name, help=text)
    ls.set_defaults(what="claims")
    ls.add_argument("--setups-path", metavar="DIR", action="append", default=[],
                   help="a folder of setup packages outside theorysim (repeatable; added to THEORYSIM_SETUPS, which "
                        "worker processes inherit)")
    return p


def _cmd_new(args) -> int:
    from theorysim.scaffold import new_setup

    target = new_setup(args.name, args.paper, args.dir)
    key = args.paper or args.name
    folder = target.parent.resolve()
    print(f"wrote {target}/: __init__.py (SETUP: sweep setup {args.name!r}, workload {args.name}-gd), task.py, "
          f"theory.py, claims/{key}.py (claim {key}/gd-rate), test_{args.name}.py, {args.name}.toml\n"
          f"  theorysim check --setups-path {folder} --claim {key}/gd-rate\n"
          f"  THEORYSIM_SETUPS={folder} pytest {target}")
    return EXIT_OK


def _read_verdicts(path: str) -> list[dict]:
    """A `check --json` file's rows; one line naming the file otherwise."""
    try:
        rows = json.loads(Path(path).read_text())
    except OSError as err:
        raise UsageError(f"{path[:200]}: cannot be read ({err.strerror or err})") from None
    except ValueError as err:
        raise UsageError(f"{path[:200]}: not JSON ({str(err).splitlines()[0][:120]})") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in rows):
        raise UsageError(f"{path[:200]}: expected the JSON list `theorysim check --json` writes (objects with an id)")
    return rows


def _cmd_report(args) -> int:
    from theorysim.claims.html_report import write_html

    if len(args.runs) > 2:
        raise UsageError(f"report: {len(args.runs)} JSON files given; expected one run, or two (OLD NEW) to compare")
    runs = [_read_verdicts(p) for p in args.runs]
    out = _output_dir(args.out, "--out")
    figures = Path(args.figures) if args.figures else Path(args.runs[-1]).resolve().parent
    previous = runs[0] if len(runs) == 2 else None
    path = write_html(runs[-1], out, figures=figures, previous=previous,
                      previous_name=Path(args.runs[0]).name if previous is not None else "",
                      title=f"theorysim report: {Path(args.runs[-1]).name}")
    print(f"report: {path}")
    return EXIT_OK


def _cmd_bench(args) -> int:
    from theorysim.bench import run_workload
    from theorysim.bench.runner import validate
    from theorysim.core import config

    config.set_threads()  # validates THEORYSIM_THREADS and applies it
    validate(args.workload, args.backend, args.repeats)
    _use_backend(args.backend)  # a missing numba-cuda or GPU: one line, before the workload builds its data
    rec = run_workload(args.workload, args.backend, args.repeats)
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


def _output_file(path: str, flag: str) -> Path:
    """A file the command will write: refused now, before any work, if it cannot be written."""
    p = Path(path)
    try:
        if p.is_dir():
            raise UsageError(f"{flag} {path}: is a directory; expected a file name")
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            what = "is not a directory" if parent.exists() else "does not exist"
            raise UsageError(f"{flag} {path}: directory {parent} {what}")
        if not os.access(p if p.exists() else parent, os.W_OK):
            raise UsageError(f"{flag} {path}: not writable")
    except OSError as err:  # a name too long, a symlink loop
        raise UsageError(f"{flag} {str(path)[:200]}: cannot be used ({err.strerror or err.__class__.__name__})") from None
    return p


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (hard links and symlinks included; a path need not exist;
    a symlink loop is compared by its real path)."""
    try:
        if a.exists() and b.exists() and os.path.samefile(a, b):
            return True
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _table_destination(path: str, flag: str, store: str) -> Path:
    """Where ``theorysim results`` writes a table: never the store it reads, the store's WAL / index /
    journal, or any SQLite database (a store overwritten by a CSV is lost: its arrays too)."""
    from theorysim.sweep.store import SQLITE_HEADER, sidecars

    p = _output_file(path, flag)
    store_path = Path(store)
    real = Path(os.path.realpath(store_path))  # SQLite keeps the WAL and index beside a link's target
    if _same_file(p, store_path) or any(_same_file(p, s) for s in (*sidecars(store_path), *sidecars(real))):
        raise UsageError(f"{flag} {path}: is the store being read ({store}) or one of its SQLite files; "
                         "write the table to another file")
    if p.is_file():
        try:
            with open(p, "rb") as f:
                head = f.read(len(SQLITE_HEADER))
        except OSError:
            head = b""
        if head == SQLITE_HEADER:
            raise UsageError(f"{flag} {path}: is a SQLite database (a store?); refusing to overwrite it, "
                             "write the table to another file")
    return p


def _output_dir(path: str, flag: str) -> Path:
    """A directory the command will write into: created now, and probed by writing a file."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{flag} {path}: is a file, not a directory")
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / f".theorysim-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise UsageError(f"{flag} {path}: cannot write there ({err.strerror or err})") from None
    return p


def _cmd_check(args) -> int:
    from theorysim.core import config
    from theorysim.claims import registry
    from theorysim.claims.report import table, write_report

    json_path = _output_file(args.json, "--json") if args.json else None
    claims = registry.select(paper=args.paper, claim=args.claim)
    threads = config.set_threads(args.threads)
    _use_backend(args.backend)
    if not claims:
        raise UsageError("no claims selected")
    if args.report and json_path is not None and (_same_file(Path(args.report), json_path)
                                                  or _same_file(Path(args.report) / "report.md", json_path)):
        raise UsageError(f"--report {args.report}: is the --json file's path or holds it as report.md; the report "
                         "is a directory of its own")
    figure_dir = _output_dir(args.report, "--report") if args.report else None
    if figure_dir is not None and (figure_dir / "index.html").is_dir():
        raise UsageError(f"--report {args.report}: {figure_dir / 'index.html'} is a directory; the report writes a "
                         "file there")
    if figure_dir is not None and (figure_dir / "report.md").is_dir():
        raise UsageError(f"--report {args.report}: {figure_dir / 'report.md'} is a directory; the report writes a "
                         "file there")

    from tqdm.auto import tqdm

    from theorysim.claims.runner import default_jobs, run_claims

    jobs = default_jobs(claims, args.jobs or threads)
    t0 = time.perf_counter()
    tty = sys.stderr.isatty()
    bar = tqdm(total=len(claims), desc=f"check --{args.mode}", unit="claim", file=sys.stderr, disable=not tty)

    def arrived(verdict) -> None:
        bar.update(1)
        tqdm.write(f"{verdict.status:12s} {verdict.claim.id} ({verdict.seconds:.1f} s)", file=sys.stderr)
        if verdict.figure_error:
            tqdm.write(f"      figure not saved: {verdict.figure_error}", file=sys.stderr)
        if not tty:
            sys.stderr.flush()

    verdicts, interrupted = run_claims(claims, args.mode, jobs=jobs, threads=threads, backend=args.backend,
                                       figure_dir=figure_dir, on_verdict=arrived)
    bar.close()
    finished = {v.claim.id for v in verdicts}
    not_run = [c.id for c in claims if c.id not in finished]
    print(table(verdicts))
    print(f"total {time.perf_counter() - t0:.1f} s, {threads} thread(s)"
          + (f" in {jobs} worker processes" if jobs > 1 else ""))
    if interrupted:
        print(f"interrupted: {len(verdicts)} of {len(claims)} claims finished; not run: {', '.join(not_run)}")
    late = None  # a destination that failed after the work
    day = time.strftime("%Y-%m-%d", time.gmtime())
    rows = [{**v.to_json(), "setup": registry.setup_of(v.claim), "run_date": day} for v in verdicts]
    if interrupted:
        rows = [{**r, "interrupted": True} for r in rows]
    if json_path is not None:
        try:
            json_path.write_text(json.dumps(rows, indent=2) + "\n")
        except OSError as err:  # the verdicts above stay; a late write failure is said in one line
            late = f"--json {args.json}: cannot be written ({err.strerror or err}); the verdicts are in the table above"
    if figure_dir is not None:
        title = f"theorysim check --{args.mode}" + (" (interrupted)" if interrupted else "")
        try:
            path = write_report(verdicts, figure_dir, title=title, not_run=not_run if interrupted else ())
            from theorysim.claims.html_report import write_html

            page = write_html(rows, figure_dir, figures=figure_dir, title=title)
            print(f"report: {path} and {page}")
        except OSError as err:
            late = late or (f"--report {args.report}: cannot be written ({err.strerror or err}); the verdicts are "
                            "in the table above")
    if late:
        print(f"theorysim check: error: {late}", file=sys.stderr)
        return EXIT_USAGE
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAIL if any(v.unexpected for v in verdicts) else EXIT_OK


def _use_backend(name: str) -> None:
    """Make ``name`` the session's engine, checking first that it can run here (one line if not)."""
    from theorysim.core import config

    if name != "cpu":
        from theorysim.engine.experiment import backend_module

        try:
            backend_module(name).require_device()
        except (ImportError, RuntimeError) as err:  # no numba-cuda, no GPU: say which, in one line
            raise UsageError(str(err).strip().splitlines()[0]) from None
    config.set_backend(name)


def _cmd_sweep(args) -> int:
    from theorysim import sweep
    from theorysim.core import config
    from theorysim.sweep.runner import check_run_args
    from theorysim.sweep.store import StoreFullError

    check_run_args(args.executor, args.workers, args.group_size)
    config.set_threads()  # validates THEORYSIM_THREADS; the serial executor runs with it
    _use_backend(args.backend)
    spec = sweep.load_spec(args.spec)
    store = args.store or str(Path(args.spec).with_suffix(".sqlite").name)
    _one_line_on_bus_error("sweep", store, "the points written before are intact; rerun the same command to resume",
                           EXIT_FAIL)
    if args.dry_run:
        return _dry_run(spec, store)
    t0 = time.perf_counter()  # run_sweep checks the store path before it opens or starts anything
    try:
        counts = sweep.run_sweep(spec, store, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                                 group_size=args.group_size, backend=args.backend)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except StoreFullError as err:
        print(f"theorysim sweep: error: {err}", file=sys.stderr)
        return EXIT_FAIL
    n = counts["done"] + counts["diverged"] + counts["failed"]
    seconds = time.perf_counter() - t0
    print(f"{store}: {counts['done']} done, {counts['diverged']} diverged, {counts['failed']} failed, "
          f"{counts['skipped']} already finished; {seconds:.1f} s ({n / seconds if seconds > 0 else 0:.1f} points/s)")
    if counts["failed"]:
        print(f"the failed points' tracebacks: theorysim results {store} (column error)", file=sys.stderr)
    return EXIT_FAIL if counts["failed"] else EXIT_OK


def _one_line_on_bus_error(command: str, store: str, consequence: str, exit_code: int) -> None:
    """A store's ``-shm`` index truncated or unbacked under SQLite's mapping: one line, not "Bus error"."""
    from theorysim.core.bus_error import exit_in_one_line_on_bus_error

    exit_in_one_line_on_bus_error(
        f"theorysim {command}: error: store {store[:200]}: its shared-memory index (-shm file) "
        f"was truncated or lost its storage while in use (bus error); {consequence}", exit_code)


def _dry_run(spec, store) -> int:
    """Print every point (its axis values), the groups, and the estimated work and memory."""
    from theorysim import sweep
    from theorysim.sweep import builders

    points = spec.points()
    axes = list(dict.fromkeys([*spec.grid, *spec.zipped, *(k for v in spec.variants for k in v), "seed"]))
    for i, cfg in enumerate(points):
        print(f"{i:5d} " + " ".join(f"{k}={cfg.get(k)!r}" for k in axes))
    groups = sweep.groups_of(points)
    work = [builders.work(cfg) or 0.0 for cfg in points]
    memory = max((builders.memory_bytes(cfg) or 0) for cfg in points)
    finished = 0
    if Path(store).exists():
        from theorysim.sweep.store import Store

        st = Store(store, read_only=True)
        done = st.finished_keys()
        st.close()
        finished = sum(sweep.point_key(cfg) in done for cfg in points)
    print(f"{spec.path}: {len(points)} points in {len(groups)} ensemble group(s); {finished} already in {store}; "
          f"work {sum(work):.3g} parameter-updates (steps x parameters x examples per step); largest point about "
          f"{memory / 2**20:.3g} MiB; nothing run (--dry-run)")
    return EXIT_OK


def _cmd_results(args) -> int:
    from theorysim import sweep
    from theorysim.sweep.store import check_store_path

    check_store_path(args.store, must_exist=True)  # the store first: a bad one is named before the outputs
    _one_line_on_bus_error("results", args.store, "the store was only read", EXIT_USAGE)
    csv = _table_destination(args.csv, "--csv", args.store) if args.csv else None
    parquet = _table_destination(args.parquet, "--parquet", args.store) if args.parquet else None
    if csv is not None and parquet is not None and _same_file(csv, parquet):
        raise UsageError(f"--csv and --parquet: both are {args.csv}; give each its own file")
    if parquet is not None:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageError("--parquet needs pyarrow (pip install pyarrow)") from None
    try:
        import pandas  # noqa: F401
    except ImportError:
        raise UsageError("results needs pandas: pip install 'theorysim[frame]' (or pandas)") from None
    frame = sweep.load(args.store)
    if csv is not None:
        frame.to_csv(csv, index=False)
    if parquet is not None:
        frame.to_parquet(parquet, index=False)
    if not (csv or parquet):
        print(frame.to_string(max_rows=40))
    return EXIT_OK


def _use_setups_path(folders: list[str], command: str) -> None:
    """``--setups-path``: checked, then put in front of THEORYSIM_SETUPS (so that worker processes see it);
    a plugin that fails to import is said in one line per plugin (the other setups load)."""
    from theorysim import setups

    for folder in folders:
        if not os.path.isdir(folder):
            raise UsageError(f"--setups-path {folder[:200]}: not a folder (expected a folder of setup packages)")
    if folders:
        old = os.environ.get(setups.PATH_ENV, "")
        os.environ[setups.PATH_ENV] = os.pathsep.join([os.path.abspath(f) for f in folders] + ([old] if old else []))
    if command in ("check", "list") and (folders or setups.setup_folders() or _has_entry_points()):
        from theorysim.claims import registry

        for line in registry.broken():
            print(f"theorysim {command}: warning: {line}", file=sys.stderr)


def _has_entry_points() -> bool:
    from theorysim import setups

    return bool(setups.entry_points())


def main(argv=None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        print(f"theorysim: error: a command is required: {', '.join(COMMANDS)} (see theorysim -h)", file=sys.stderr)
        return EXIT_USAGE
    commands = {"list": _cmd_list, "sweep": _cmd_sweep, "results": _cmd_results, "bench": _cmd_bench,
                "check": _cmd_check, "new": _cmd_new, "report": _cmd_report}
    try:
        from theorysim.core import config

        config.check_environment()  # THEORYSIM_CACHE=maybe: one line, before any work
        _use_setups_path(getattr(args, "setups_path", []), args.command)
        return commands[args.command](args)
    except ValueError as err:  # UsageError, SpecError, StoreError and the API's own ValueErrors: one line
        print(f"theorysim {args.command}: error: {str(err).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"theorysim {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `theorysim list | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
