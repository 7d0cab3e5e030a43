"""./dev bench: how the suite and the build compare with a bare `import tensorflow`.

Each round runs every command once, side by side, so a noisy machine slows all of them alike;
the report gives the median over the rounds, the ratios of medians, and each command's peak
memory (max RSS of the process tree's largest process). Nothing here asserts on time.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def commands(site_dir: str) -> dict[str, list[str]]:
    pytest = [str(BIN / "pytest"), "-q", "-p", "no:randomly", "-p", "no:xdist"]
    return {
        "import": [sys.executable, "-c", "import tensorflow"],
        "fences": pytest + ["docs"],
        "suite": pytest + ["-m", "not site"],  # ./dev test step 1: every fence, the notebook, the guards
        "build": [str(BIN / "mkdocs"), "build", "--strict", "-d", site_dir],
    }


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run; fails loudly if the command fails."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(argv)} failed:\n{output.decode(errors='replace')}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="rounds (median taken; at least 3)")
    args = parser.parse_args()
    rounds = max(args.rounds, 3)
    with tempfile.TemporaryDirectory() as site:
        cmds = commands(site)
        times = {name: [] for name in cmds}
        peaks = {name: 0.0 for name in cmds}
        for r in range(rounds):
            for name, argv in cmds.items():
                seconds, mib = measure(argv)
                times[name].append(seconds)
                peaks[name] = max(peaks[name], mib)
            print(f"round {r + 1}/{rounds}: " + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items()), flush=True)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"\nmedian of {rounds} rounds, measured side by side in this run:")
    for name, argv in cmds.items():
        print(f"  {name:7} {med[name]:7.2f} s   peak RSS {peaks[name]:6.0f} MiB   {Path(argv[0]).name} {' '.join(argv[1:])}")
    print("ratios (target: suite/import <= 2.0, every fence serial in one process):")
    for name in ("fences", "suite", "build"):
        print(f"  {name}/import = {med[name] / med['import']:.2f}")


if __name__ == "__main__":
    main()
