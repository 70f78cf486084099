"""What the GPU's assembler makes of each chunk kernel, without a GPU: registers per thread, spills,
stack frame, and the resident warps per SM they allow (H100/H200), plus the PTX -> cubin time
that a first run pays on top of NVVM (the driver runs the same assembler).

Builds each kernel's sm_90 PTX as CI does (``engine.compile_ptx``: NVVM from numba-cuda's [cu13]
extra) and runs ``ptxas -v`` on it. ptxas comes with NVIDIA's ``nvidia-cuda-nvcc`` wheel (not a
dependency of theorysim)::

    pip download --no-deps -d /tmp/nvcc nvidia-cuda-nvcc    # then unzip nvidia/cu13/bin/ptxas
    NUMBA_ENABLE_CUDASIM=0 python tools/ptxas_report.py --ptxas /path/to/ptxas [W1-4096 W2-1024 W3-256 ...]

Names: the three GPU workloads of issue 17 (their models and rules) or a key of
``tests.cuda_parity.models()`` (SGD). ``--max-registers 0,128,64``: assemble at each cap;
``--used-rules``: the kernel with the workload's rule only. Prints one JSON line per build.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository: tests.cuda_parity

#: Hopper (sm_90) per-SM limits: 64K 32-bit registers, allocated per warp in units of 256; 64 warps; 32 blocks
REGISTERS_PER_SM, REGISTER_UNIT, WARPS_PER_SM, BLOCKS_PER_SM = 65536, 256, 64, 32


def workload_experiment(name: str):
    """A small Experiment with the model and rule of workload ``name`` (the kernel's types do not
    depend on the member count), or of the parity model ``name`` under SGD."""
    from theorysim.engine.experiment import Experiment

    if name == "W1-4096":
        from theorysim.setups.matrix_sensing.bench import w1_model

        return Experiment(w1_model(), "sgd", steps=4, seeds=[0, 1, 2], lr=0.01, progress=False), 32
    if name == "W2-1024":
        from theorysim.setups.icl.bench import W2
        from theorysim.setups.icl.model import LinearSelfAttention

        model = LinearSelfAttention(W2["d"], W2["n_context"], layers=1, batch=W2["batch"], eval_prompts=W2["eval_prompts"])
        return Experiment(model, "adam", steps=4, seeds=[0, 1, 2], lr=0.01, progress=False), 128
    if name == "W3-256":
        from theorysim.setups.xor_grokking.bench import w3_model

        return Experiment(w3_model().span_form(), "sgd", steps=4, seeds=[0, 1, 2], lr=0.01, progress=False), 128
    from tests import cuda_parity

    return Experiment(cuda_parity.models()[name], "sgd", steps=4, seeds=[0, 1, 2], lr=0.01, progress=False), 0


def resident_warps(registers: int, threads: int) -> int:
    """Warps per SM that the register file allows for blocks of ``threads`` threads (also capped by
    the warp and block limits; shared memory is not the limit for these kernels)."""
    warps = math.ceil(threads / 32)
    per_warp = math.ceil(max(registers, 1) * 32 / REGISTER_UNIT) * REGISTER_UNIT
    blocks = min(REGISTERS_PER_SM // (per_warp * warps), WARPS_PER_SM // warps, BLOCKS_PER_SM)
    return blocks * warps


def report(name: str, ptxas: str, caps=(0,), used_rules: bool = False) -> list[dict]:
    from theorysim.cuda import engine

    exp, threads = workload_experiment(name)
    t0 = time.perf_counter()
    rules = tuple(sorted({int(r) for r in exp.rule_id})) if used_rules else None
    ptx = engine.compile_ptx(exp, cc=(9, 0), rules=rules)
    nvvm = time.perf_counter() - t0
    if not threads:  # a parity model: the threads the engine would give its blocks
        model = exp.model
        fdata, idata = model.data()
        if fdata.ndim == 1:
            fdata, idata = fdata.reshape(1, -1), idata.reshape(1, -1)
        threads = engine.sample_threads(model, fdata, idata) if engine.per_block(model) else engine.THREADS_PER_BLOCK
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "kernel.ptx")
        with open(path, "w") as f:
            f.write(ptx)
        return [dict(kernel=name, model=type(exp.model).__name__, rules="used" if used_rules else "all",
                     threads_per_block=threads,
                     ptx_mb=round(len(ptx) / 2**20, 2), nvvm_s=round(nvvm, 1), **assemble(ptxas, path, cap, threads))
                for cap in caps]


def assemble(ptxas: str, path: str, cap: int, threads: int) -> dict:
    """``ptxas -v`` on the PTX at ``path`` (relocatable, ``-c``: numba-cuda's reshape helper is
    linked in later), at most ``cap`` registers per thread (0: the assembler's choice, as the
    driver makes it without numba-cuda's ``max_registers``)."""
    command = [ptxas, "-arch=sm_90", "-O3", "-v", "-c", path, "-o", path + ".cubin"]
    if cap:
        command.insert(1, f"--maxrregcount={cap}")
    t0 = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"ptxas failed on {path}: {proc.stderr[-2000:]}")
    log = proc.stderr
    entry = log[log.rfind("Compiling entry function"):]  # the kernel's own lines (device functions come first)

    def number(pattern, default=0):
        found = re.search(pattern, entry)
        return int(found.group(1)) if found else default

    registers = number(r"Used (\d+) registers")
    return {"max_registers": cap or None, "ptxas_s": round(seconds, 1), "registers": registers,
            "stack_frame_bytes": number(r"(\d+) bytes stack frame"),
            "spill_stores_bytes": number(r"(\d+) bytes spill stores"), "spill_loads_bytes": number(r"(\d+) bytes spill loads"),
            "resident_warps_per_sm": resident_warps(registers, threads)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ptxas", required=True, help="path of NVIDIA's ptxas (nvidia-cuda-nvcc wheel)")
    ap.add_argument("--max-registers", default="0", help="comma-separated caps per thread (0: none), e.g. 0,128,64")
    ap.add_argument("--used-rules", action="store_true", help="compile the workload's rule only (engine.KERNEL_RULES = 'used')")
    ap.add_argument("names", nargs="*", default=["W1-4096", "W2-1024", "W3-256"])
    args = ap.parse_args(argv)
    caps = [int(c) for c in args.max_registers.split(",")]
    for name in args.names:
        for row in report(name, args.ptxas, caps, args.used_rules):
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
