"""The figure scripts run end to end (small configurations), each writing into the working directory
(here a temporary one), never into the source tree."""
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIG = ROOT / "paper_figures"
OUT = Path(tempfile.mkdtemp(prefix="theorysim-figures-"))  # the scripts' working directory


def test_fu2023_figure_script_writes_png_and_pdf():
    proc = subprocess.run([sys.executable, str(FIG / "fu2023_newton_vs_gd.py"), "--prompts", "4"], cwd=OUT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = OUT
    assert (out / "fu2023_newton_vs_gd.png").stat().st_size > 10_000
    assert (out / "fu2023_newton_vs_gd.pdf").exists()


def test_xiong2023_rates_figure_script_writes_png_and_pdf():
    proc = subprocess.run([sys.executable, str(FIG / "xiong2023_rates.py"), "--seeds", "1", "--steps", "400"],
                          cwd=OUT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (OUT / "xiong2023_rates.png").stat().st_size > 10_000


def test_tyurin2024_worst_case_figure_script():
    proc = subprocess.run([sys.executable, str(FIG / "tyurin2024_worst_case.py")], cwd=OUT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Batch Perceptron               4 6 9" in proc.stdout
    assert (OUT / "tyurin2024_worst_case.png").stat().st_size > 10_000


def test_xu2023_fig1_script():
    proc = subprocess.run([sys.executable, str(FIG / "xu2023_fig1.py"), "--seeds", "1", "--steps", "5"], cwd=OUT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "clean test" in proc.stdout
    assert (OUT / "xu2023_fig1.png").stat().st_size > 10_000


def test_jacot2018_figure_scripts():
    for script, args in (("jacot2018_fig1.py", ["--widths", "40", "--inits", "1", "--steps", "5"]),
                         ("jacot2018_fig2.py", ["--widths", "20", "--inits", "2", "--steps", "20"])):
        proc = subprocess.run([sys.executable, str(FIG / script), *args], cwd=OUT, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        assert "n =" in proc.stdout
        name = script.removesuffix(".py")
        assert (OUT / f"{name}.png").stat().st_size > 10_000


def test_advani2017_curves_script():
    proc = subprocess.run([sys.executable, str(FIG / "advani2017_curves.py"), "--N", "60", "--seeds", "2"],
                          cwd=OUT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "E_g at s = 20" in proc.stdout
    assert (OUT / "advani2017_curves.png").stat().st_size > 10_000


def test_kumar2023_grokking_script():
    proc = subprocess.run([sys.executable, str(FIG / "kumar2023_grokking.py"), "--D", "8", "--H", "10", "--P", "40", "--alphas",
                           "0.5", "2", "--seeds", "2", "--steps", "3000"],
                          cwd=OUT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "alpha = 2: ratio" in proc.stdout
    assert (OUT / "kumar2023_grokking.png").stat().st_size > 10_000


def test_wu2023_trace_figure_script():
    proc = subprocess.run([sys.executable, str(FIG / "wu2023_trace_vs_lr.py"), "--seeds", "2", "--steps", "20000", "--n", "20",
                           "--d", "40"], cwd=OUT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "SGD, B = 1: 9 of 14 runs interpolated" in proc.stdout and "GD: 9 of 14" in proc.stdout
    assert (OUT / "wu2023_trace_vs_lr.png").stat().st_size > 10_000


def test_granziol2020_lr_vs_batch_figure_script():
    proc = subprocess.run([sys.executable, str(FIG / "granziol2020_lr_vs_batch.py"), "--draws", "2", "--n", "128", "--p", "32",
                           "--max-batch", "16"], cwd=OUT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    slopes = {line.split(":")[0]: float(line.rsplit(":", 1)[1]) for line in proc.stdout.splitlines()
              if line.startswith(("SGD:", "Adam:"))}
    assert slopes["SGD"] > slopes["Adam"] > 0, proc.stdout  # linear vs square-root growth, even at this size
    assert (OUT / "granziol2020_lr_vs_batch.png").stat().st_size > 10_000


def test_lahoti2024_sample_complexity_figure_script():
    proc = subprocess.run([sys.executable, str(FIG / "lahoti2024_sample_complexity.py"), "--seeds", "2"],
                          cwd=OUT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = {line.split(":")[0]: line for line in proc.stdout.splitlines() if line.startswith("lahoti2024_")}
    assert set(lines) == {f"lahoti2024_{f} {a}" for f in ("sample_complexity", "trends") for a in ("CNN", "LCN")}
    assert "(k=8, d=64)" in lines["lahoti2024_sample_complexity LCN"] and "(k=30, d=16)" in lines["lahoti2024_trends CNN"]
    for name in ("lahoti2024_sample_complexity", "lahoti2024_trends"):
        assert (OUT / f"{name}.png").stat().st_size > 10_000


def test_lahoti2024_figure_from_dsd_sweep_stores(tmp_path):
    """--store: m* of the three GD-trained networks from a (tiny) dsd_gd sweep, and of the two-step learner from a
    (tiny) dsd_scaling sweep; a missing store is one line."""
    from theorysim import sweep

    spec = sweep.load_spec(ROOT / "experiments" / "dsd_gd.toml")
    small = sweep.Spec(spec.path, {**spec.experiment, "steps": 20, "record_every": 20, "pool": 40, "lr": 0.3},
                       {"arch": ["cnn", "lcn", "fcn"], "m": [2, 8, 40], "data_seed": [0, 1]}, {}, [0], {},
                       [{"d": 2, "k": [2, 4]}, {"k": 2, "d": [4]}])
    store = tmp_path / "dsd.sqlite"
    assert sweep.run_sweep(small, store, executor="serial", progress=False)["done"] == 3 * 3 * 3 * 2
    proc = subprocess.run([sys.executable, str(FIG / "lahoti2024_sample_complexity.py"), "--store", str(store), "--test-size",
                           "500"], cwd=OUT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.split()[:1] in (["cnn"], ["lcn"], ["fcn"])]
    assert len(rows) == 9 and all(r[4] == "2" for r in rows), proc.stdout   # 3 archs x 3 (k, d), 2 draws each
    assert sum("against k: exponent" in line for line in proc.stdout.splitlines()) == 3
    assert (OUT / "lahoti2024_sample_complexity_gd.png").stat().st_size > 10_000

    spec = sweep.load_spec(ROOT / "experiments" / "dsd_scaling.toml")
    variants = [v for v in spec.variants if (v["k"], v["d"]) in ((4, 16), (8, 16), (8, 4))]
    small = sweep.Spec(spec.path, {**spec.experiment, "pool": 800}, {"arch": ["cnn", "lcn"], "m": [20, 100, 400, 800],
                       "data_seed": [0, 1]}, {}, [0], {}, variants)
    store = tmp_path / "two.sqlite"
    assert sweep.run_sweep(small, store, executor="serial", progress=False)["done"] == 2 * 4 * 2 * 3
    proc = subprocess.run([sys.executable, str(FIG / "lahoti2024_sample_complexity.py"), "--store", str(store)],
                          cwd=OUT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.split()[:1] in (["cnn"], ["lcn"])]
    assert len(rows) == 6 and all(r[4] == "2" for r in rows), proc.stdout   # 2 archs x 3 (k, d), 2 draws each
    assert "lahoti2024_sample_complexity_sweep.png" in proc.stdout, proc.stdout
    bad = subprocess.run([sys.executable, str(FIG / "lahoti2024_sample_complexity.py"), "--store", str(tmp_path / "none.sqlite")],
                         cwd=OUT, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "no such file" in bad.stderr


def test_out_option_and_the_source_tree_untouched(tmp_path):
    before = sorted(p.name for p in FIG.rglob("*") if p.is_file())
    proc = subprocess.run([sys.executable, str(FIG / "tyurin2024_worst_case.py"), "--out", str(tmp_path / "figs")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "figs" / "tyurin2024_worst_case.png").stat().st_size > 10_000
    assert sorted(p.name for p in FIG.rglob("*") if p.is_file() and "__pycache__" not in p.parts) == \
        sorted(n for n in before if not n.endswith(".pyc"))
    bad = subprocess.run([sys.executable, str(FIG / "tyurin2024_worst_case.py"), "--out", str(FIG / "_common.py")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "--out" in bad.stderr and "not a folder" in bad.stderr
