"""./dev bench: the commands people wait for, measured side by side in one run.

Each round runs every command once, in turn, so a noisy machine slows all of them alike; the
report gives medians, ratios to a bare `import tensorflow`, and each command's peak memory.
Cold means no results and no notebook cache; cached means both are there.  The edit-to-verdict
time is measured under `mkdocs serve --dirty` (./dev serve) on a copy of the project: a claim
of a rule page is broken and saved, then fixed and saved; the time until the served page shows
the failing claim, then the verified badge again.  Nothing here asserts on time.
"""

from __future__ import annotations

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


def measure(argv: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run; exits loudly if the command fails."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(argv)} failed:\n{output.decode(errors='replace')[-5000:]}")
    return seconds, usage.ru_maxrss / 1024


def edit_to_verdict() -> tuple[float, float]:
    """Seconds from saving a broken claim to the failure on the served page, and back."""
    import re

    from spec_tests.browser import live_serve, wait_for_text

    page = "docs/reference/names/nm-1-tensor-names.md"
    with live_serve() as (base, copy):
        path = copy / page
        good = path.read_text(encoding="utf-8")
        claim = re.search(r'^assert [^"\n]*== [^"\n]*"([^"\n]+)"[^\n]*$', good, re.M)
        url = base + page.removeprefix("docs/").removesuffix(".md") + "/"
        wait_for_text(url, "verified-verified")
        path.write_text(good.replace(claim[0], claim[0].replace(f'"{claim[1]}"', f'"{claim[1]}_x"', 1), 1))
        broken = wait_for_text(url, "verdict-box")
        path.write_text(good)
        fixed = wait_for_text(url, "verified-verified")
    return broken, fixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the quick commands (median taken)")
    parser.add_argument("--no-test", action="store_true", help="leave out the whole test command (minutes)")
    parser.add_argument("--fresh-test", action="store_true",
                        help="also ./dev test --fresh, which reuses nothing (as CI on a clean clone; minutes)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {}
    peaks: dict[str, float] = {}

    def record(name, seconds, mib=0.0):
        times.setdefault(name, []).append(seconds)
        peaks[name] = max(peaks.get(name, 0.0), mib)

    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            fresh = {"SCOPES_RESULTS": f"{tmp}/fences.json", "SCOPES_NOTEBOOK_CACHE": f"{tmp}/nb"}
            record("import", *measure([sys.executable, "-c", "import tensorflow"]))
            record("build, cold", *measure([str(BIN / "mkdocs"), "build", "--strict", "-d", f"{tmp}/site"], fresh))
            record("build, cached", *measure([str(BIN / "mkdocs"), "build", "--strict", "-d", f"{tmp}/site"], fresh))
            fences_only = {"SCOPES_RESULTS": f"{tmp}/only.json"}
            record("examples", *measure([sys.executable, "-m", "spec_tests.core", "docs"], fences_only))
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{n} {t[-1]:.1f} s" for n, t in times.items()), flush=True)
    broken, fixed = edit_to_verdict()
    record("serve: edit to failed", broken)
    record("serve: fix to verified", fixed)
    if args.fresh_test:
        record("./dev test --fresh", *measure([str(ROOT / "dev"), "test", "--fresh"]))
    if not args.no_test:  # after --fresh (or any earlier run), nothing changed: everything is reused
        record("./dev test (warm)", *measure([str(ROOT / "dev"), "test"]))
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"\nmedians, measured side by side in this run ({args.rounds} rounds; serve and ./dev test once):")
    for name, seconds in med.items():
        peak = f"   peak RSS {peaks[name]:6.0f} MiB" if peaks[name] else ""
        print(f"  {name:24} {seconds:8.2f} s   {seconds / med['import']:6.2f} x import{peak}")
    print("targets: ./dev test (warm) <= 90 s; serve edit to verdict <= 2 s for a typical rule page")


if __name__ == "__main__":
    main()
