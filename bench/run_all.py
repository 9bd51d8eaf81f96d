"""`make bench`: runs every benchmark, one after the other, and writes bench/README.md from their tables.

Each benchmark also writes its own table (bench/gas.md, bench/reb.md, bench/simple_ocr.md, ...) with the
command that produced it; run one alone to refresh just that table.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RUNS = [  # (table, command)
    ("gas.md", [sys.executable, "bench/gas_bench.py"]),
    ("reb.md", [sys.executable, "bench/reb_bench.py", "--offers", "10000"]),
    ("market.md", [sys.executable, "bench/market_bench.py", "--sizes", "1000,10000,100000"]),
    ("chain_rpc.md", [sys.executable, "bench/chain_rpc_bench.py", "--transactions", "5", "--write",
                      "bench/chain_rpc.md"]),
    ("simple_ocr.md", [sys.executable, "bench/simple_ocr_bench.py", "--seconds", "60",
                       "--write", "bench/simple_ocr.md"]),
    ("ocr_views.md", [sys.executable, "bench/ocr_views_bench.py", "--write", "bench/ocr_views.md"]),
    ("ocr_robustness.md", [sys.executable, "bench/ocr_robustness_bench.py", "--write", "bench/ocr_robustness.md"]),
    ("gui.md", [sys.executable, "bench/gui_bench.py", "--offers", "10000", "--write", "bench/gui.md"]),
    # Builds labs (network namespaces): under the lab lock every lab run holds.
    ("seller.md", [sys.executable, "bench/seller_bench.py", "--block-time", "1", "--write", "bench/seller.md"]),
    ("federation.md", ["flock", "/tmp/fog-lab.lock", sys.executable, "bench/federation_bench.py",
                       "--write", "bench/federation.md"]),
    ("production_path.md", ["flock", "/tmp/fog-lab.lock", sys.executable, "bench/production_path_bench.py",
                            "--write", "bench/production_path.md"]),
    # Measured by hand (it needs a second venv on another Python build): kept, not rerun.
    ("python_build.md", None),
]


def main():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    failed = []
    for table, command in RUNS:
        if command is None:
            continue
        print("== %s" % " ".join(command[1:]), flush=True)
        started = time.monotonic()
        if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
            failed.append(table)
        print("   %.0f s" % (time.monotonic() - started), flush=True)
    write_readme()
    if failed:
        sys.exit("benchmarks failed: %s" % ", ".join(failed))


def write_readme(assembled_only=False):
    """bench/README.md from the tables as they are now (assembled_only: no benchmark was run for it)."""
    if assembled_only:
        intro = ("Assembled by `bench/run_all.py --readme-only` from the tables as each benchmark last wrote them, on a "
                 "2-core machine shared with other work, so numbers move from run to run. Each section names the "
                 "command that made it and, where it records one, the load it ran under.")
    else:
        intro = ("Made by `make bench` (bench/run_all.py) on a 2-core machine, load average %.1f when it ended; "
                 "machines here are shared, so numbers move from run to run. Each section names the command that "
                 "made it." % os.getloadavg()[0])
    parts = ["# Benchmarks", "", intro, ""]
    for table, _ in RUNS:
        path = BENCH / table
        parts.append(path.read_text() if path.exists() else "## %s\n\n(not produced)\n" % table)
    (BENCH / "README.md").write_text("\n".join(parts))


if __name__ == "__main__":
    if sys.argv[1:] == ["--readme-only"]:
        write_readme(assembled_only=True)
    else:
        main()
