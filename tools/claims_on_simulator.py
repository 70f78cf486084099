"""Every quick claim with the session backend set to cuda, in Numba's CUDA simulator, against the
CPU's verdicts (issue 17: "the same verdicts as the CPU in the simulator for the claims whose
sizes allow it").

    theorysim check --quick --json cpu.json
    python tools/claims_on_simulator.py cpu.json [--timeout 45] [--jobs 2] [--json out.json]

One process per claim (``NUMBA_ENABLE_CUDASIM=1``), at most ``--timeout`` seconds each: the
simulator runs every GPU thread as Python, so most trainings are too large for it. Prints one
JSON line per claim (its CPU verdict, its verdict here or TIMEOUT, and how many ensembles ran on
the GPU engine) and a summary; exits 1 if a verdict that finished differs from the CPU's.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE = ("import warnings; warnings.simplefilter('ignore')\n"
        "import sys\n"
        "from theorysim.core import config\n"
        "from theorysim.claims import registry\n"
        "config.set_backend('cuda')\n"
        "from theorysim.cuda import engine\n"
        "v = registry.select(claim=sys.argv[1])[0].check('quick')\n"
        "print('RESULT', v.status, engine.RUNS[0])\n")


def one(claim: str, timeout: float) -> tuple[str, str, int | None, str]:
    """(claim, verdict or TIMEOUT / ERROR, GPU ensembles run, stderr tail on error)."""
    try:
        proc = subprocess.run([sys.executable, "-c", CODE, claim], capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, env={**os.environ, "NUMBA_ENABLE_CUDASIM": "1"})
    except subprocess.TimeoutExpired:
        return claim, "TIMEOUT", None, ""
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if not line:
        return claim, "ERROR", None, proc.stderr[-400:]
    _, status, runs = line[0].split()
    return claim, status, int(runs), ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cpu_json", help="`theorysim check --quick --json` output of a CPU run")
    ap.add_argument("--timeout", type=float, default=45.0, help="seconds per claim (default 45)")
    ap.add_argument("--jobs", type=int, default=2, help="claims at once (default 2)")
    ap.add_argument("--json", default=None, help="write the rows here")
    args = ap.parse_args(argv)
    with open(args.cpu_json) as f:
        cpu = {v.get("id", v.get("claim")): v["status"] for v in json.load(f)}
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda c: one(c, args.timeout), sorted(cpu)))
    rows = []
    for claim, status, runs, err in results:
        rows.append({"claim": claim, "cpu": cpu[claim], "cuda_simulator": status, "gpu_ensembles": runs})
        if err:
            rows[-1]["error"] = err
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    done = [r for r in rows if r["cuda_simulator"] not in ("TIMEOUT", "ERROR")]
    differ = [r for r in done if r["cuda_simulator"] != r["cpu"]]
    on_gpu = [r for r in done if r["gpu_ensembles"]]
    print(f"{len(done)} of {len(rows)} finished in {args.timeout:g} s; {len(on_gpu)} ran ensembles on the GPU "
          f"engine; {len(differ)} differ from the CPU; {sum(r['cuda_simulator'] == 'ERROR' for r in rows)} errors",
          file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
