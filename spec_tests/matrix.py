"""The version matrix: every fence in docs/ on the latest patch of each TensorFlow minor.

    python -m spec_tests.matrix [--versions 2.12,2.21] [--missing] [--jobs 2] [--out part.json]
    python -m spec_tests.matrix --merge parts/*.json [--check]
    python -m spec_tests.matrix --nightly
    python -m spec_tests.matrix --costs [--versions ...] [--no-cache]

For each release of ``spec_tests.core.releases.RELEASES`` it makes (or reuses) a venv
``.matrix/tf-2.XX`` with uv: that TensorFlow, its Keras, its tf_keras where one was released, and
the few packages a fence run needs (``WORKER_STACK``).  The fences are scanned here, once, and run
there through the core's ``Runner`` (worker processes in that venv, with this checkout's code),
so a fence runs on every release exactly as it runs on the pin.  Outcomes are keyed by fence
content in ``results/matrix.json``: ``--missing`` runs only fences with no outcome on a release
(an edited fence, a new page), so editing prose never costs a rerun.

In CI each release is its own job that writes its column to a part file (``--out``); a last job
merges the parts (``--merge``) and fails when a fence failed on any release or is not applicable
without a reason; with ``--check``, also when the committed results file no longer says what the
releases do (an edited fence with no outcome, an outcome that changed).
``--nightly`` runs every fence on the newest ``tf-nightly``, ``keras-nightly`` and
``tf-keras-nightly`` that install together and writes ``results/nightly.json``, which the page
"What changes in the next TensorFlow" compares with the pinned release.

A venv is reused while its stamp (the sha256 of its install spec) matches; delete ``.matrix/``
to start cold.  A failure on an old release is a fact the site shows, not an error of this
command (the merge and ``spec_tests/test_matrix.py`` fail on it); this command fails only when a
release could not be installed or run at all.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from spec_tests.core.fence import scan_all
from spec_tests.core.matrix import MatrixResults
from spec_tests.core.releases import NIGHTLY, PINNED, RELEASES
from spec_tests.core.results import verifier
from spec_tests.core.run import Runner

ROOT = Path(__file__).resolve().parents[1]
MATRIX_DIR = ROOT / ".matrix"
PYTHON = "3.11"
# What a fence run needs besides TensorFlow and Keras: pytest (assert rewriting, pytest.raises in
# fences) at the lock's versions (test_matrix.py checks them against requirements.lock).
# IPython: the tutorial notebook shows its name tree with IPython.display.
WORKER_STACK = ["pytest==9.2.0", "pluggy==1.7.0", "iniconfig==2.3.1", "packaging==26.4", "pygments==2.21.0",
                "ipython"]  # not pinned: TF 2.12 and 2.13 need a typing-extensions that ipython 9.18 refuses


NIGHTLY_FILE = ROOT / "results" / "nightly.json"


def install_spec(minor: str) -> list[str]:
    if minor == "nightly":
        return [*NIGHTLY, *WORKER_STACK]
    release = RELEASES[minor]
    keras = [f"keras=={release.keras}"] if release.keras else []
    tf_keras = [f"tf-keras=={release.tf_keras}"] if release.tf_keras else []
    return [f"tensorflow=={release.tensorflow}", *keras, *tf_keras, *WORKER_STACK]


def stamp(minor: str) -> str:
    spec = {"python": PYTHON, "requirements": install_spec(minor)}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def base_python() -> str:
    """The Python 3.11 that .venv was made from (the release venvs are made from it too)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def uv() -> str:
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv") or "uv"


def disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def ensure_venv(minor: str, log) -> tuple[Path, float, bool]:
    """The venv for this release, made anew unless its stamp matches; (path, seconds, reused)."""
    start = time.monotonic()
    venv = MATRIX_DIR / f"tf-{minor}"
    stamp_file = venv / ".matrix-stamp"
    want = stamp(minor)
    fresh = minor == "nightly"  # tomorrow's nightly: never reused
    if not fresh and (venv / "bin" / "python").exists() and stamp_file.exists() and stamp_file.read_text().strip() == want:
        return venv, time.monotonic() - start, True
    shutil.rmtree(venv, ignore_errors=True)
    make_venv(venv, minor, log=log)
    stamp_file.write_text(want + "\n")
    return venv, time.monotonic() - start, False


def make_venv(venv: Path, minor: str, log=None, env: dict | None = None) -> None:
    """A new venv with this release's install spec (the nightly's with pre-releases allowed)."""
    out = {"stdout": log, "stderr": subprocess.STDOUT} if log else {}
    subprocess.run([uv(), "venv", "-q", "--python", base_python(), str(venv)], check=True, env=env, **out)
    pre = ["--prerelease", "allow"] if minor == "nightly" else []
    subprocess.run([uv(), "pip", "install", "-q", *pre, "--python", str(venv / "bin" / "python"), *install_spec(minor)],
                   check=True, env=env, **out)


def versions_in(venv: Path) -> dict:
    code = ("import importlib.metadata as m, json\n"
            "def v(*names):\n    for n in names:\n        try:\n            return m.version(n)\n"
            "        except m.PackageNotFoundError:\n            pass\n"
            "print(json.dumps({'tensorflow': v('tensorflow', 'tf-nightly'), 'keras': v('keras', 'keras-nightly'),"
            " 'tf_keras': v('tf_keras', 'tf-keras-nightly')}))")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def run_release(minor: str, fences, log_path: Path) -> dict:
    """Install (or reuse) the venv and run these fences there: this release's column."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        venv, install_seconds, reused = ensure_venv(minor, log)
    start = time.monotonic()
    runner = Runner(python=str(venv / "bin" / "python"))
    runner.start(fences)
    outcomes = {}
    try:
        for fence in fences:
            outcomes[fence.key] = runner.run(fence)
    finally:
        runner.close()
    return {**versions_in(venv), "checker": verifier(), "install_seconds": round(install_seconds, 1), "venv_reused": reused,
            "test_seconds": round(time.monotonic() - start, 1), "disk_bytes": disk_bytes(venv), "outcomes": outcomes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", default=",".join(RELEASES), help="comma-separated minors (default: all)")
    parser.add_argument("--missing", action="store_true", help="only fences with no outcome on a release")
    parser.add_argument("--jobs", type=int, default=2, help="releases run at once (default 2)")
    parser.add_argument("--out", help="write this run's columns to a part file (CI) instead of the results file")
    parser.add_argument("--merge", nargs="+", metavar="PART", help="merge part files into the results file")
    parser.add_argument("--check", action="store_true", help="with --merge: fail if the committed file was stale")
    parser.add_argument("--nightly", action="store_true", help="the canary: results/nightly.json")
    parser.add_argument("--costs", action="store_true",
                        help="time a cold install of each release (new venv; --no-cache: empty uv cache too, "
                             "as on a new CI runner), record it, and estimate the CI matrix's wall time")
    parser.add_argument("--no-cache", action="store_true", help="with --costs: an empty uv cache (downloads)")
    args = parser.parse_args(argv)
    if args.merge:
        return merge_parts([Path(p) for p in args.merge], check=args.check)
    if args.nightly:
        return nightly()
    if args.costs:
        return costs([v.strip() for v in args.versions.split(",") if v.strip()], args.no_cache)
    minors = [v.strip() for v in args.versions.split(",") if v.strip()]
    if unknown := [v for v in minors if v not in RELEASES]:
        parser.error(f"unknown versions {unknown}; known: {', '.join(RELEASES)}")
    fences = [f for scan in scan_all() for f in scan.fences]
    matrix = MatrixResults.read()
    start = time.monotonic()
    columns, errors = {}, {}

    def one(minor):
        todo = [f for f in fences if minor not in matrix.fences.get(f.key, {})] if args.missing else fences
        try:
            columns[minor] = c = run_release(minor, todo, MATRIX_DIR / "logs" / f"tf-{minor}.log")
            if len(todo) == len(fences):  # every fence: the figure the CI estimate (--costs) uses
                c["full_test_seconds"] = c["test_seconds"]
            states = [o.status for o in c["outcomes"].values()]
            print(f"TF {c['tensorflow']:<7} Keras {c['keras']:<7} tf_keras {str(c['tf_keras']):<7} {len(todo):>3} run: "
                  f"{states.count('passed'):>3} passed {states.count('failed'):>3} failed {states.count('n/a'):>3} n/a  "
                  f"install {c['install_seconds']:>6.1f} s{' (reused)' if c['venv_reused'] else ''}  "
                  f"tests {c['test_seconds']:>6.1f} s  disk {c['disk_bytes'] / 2**30:.1f} GiB", flush=True)
        except Exception as error:  # reported below; the other releases still run
            errors[minor] = str(error)
            print(f"TF {minor}: {error}", flush=True)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(one, minors))
    parts = {minor: {**column, "outcomes": {k: state_of(o) for k, o in column["outcomes"].items()},
                     "messages": {k: brief(o.message) for k, o in column["outcomes"].items()
                                  if o.status == "failed"}} for minor, column in columns.items()}
    if args.out:
        Path(args.out).write_text(json.dumps(parts, indent=1) + "\n")
        print(f"matrix: {len(columns)} of {len(minors)} releases; wrote {args.out}")
    else:
        apply_parts(matrix, parts, fences, time.monotonic() - start)
        matrix.write()
        print(f"matrix: {len(columns)} of {len(minors)} releases in {time.monotonic() - start:.0f} s; "
              "wrote results/matrix.json")
    return 1 if errors else 0


def brief(message: str) -> str:
    """A failure in a line or two: where it failed and, when that line is only a header (TensorFlow's
    "TypeError: in user code:"), the error's own last line too."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[0] if len(lines) == 1 or not lines[0].endswith(":") else f"{lines[0]} ... {lines[-1]}"
    return text[:600]


def state_of(outcome) -> str:
    return outcome.status if outcome.status in ("passed", "failed") else f"n/a: {outcome.message}"


def apply_parts(matrix: MatrixResults, parts: dict, fences, seconds: float) -> None:
    """Each release's new outcomes replace its old ones; fences no page holds any more are dropped."""
    keys = {f.key for f in fences}
    matrix.fences = {k: v for k, v in matrix.fences.items() if k in keys}
    matrix.messages = {k: v for k, v in matrix.messages.items() if k in keys}
    for minor, column in parts.items():
        for key, state in column["outcomes"].items():
            matrix.fences.setdefault(key, {})[minor] = state
            matrix.messages.setdefault(key, {}).pop(minor, None)
            if key in column["messages"]:
                matrix.messages[key][minor] = column["messages"][key]
        kept = {k: v for k, v in matrix.versions.get(minor, {}).items()  # from --costs and the last full run
                if k.startswith(("cold_install", "full_test_seconds"))}
        matrix.versions[minor] = {**kept, **{k: v for k, v in column.items() if k not in ("outcomes", "messages")}}
    matrix.generated = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    matrix.extra.update(python=PYTHON, total_seconds=round(seconds, 1))


def merge_parts(paths: list[Path], check: bool) -> int:
    """CI's last job: the release jobs' part files into results/matrix.json; fail when a fence failed
    on a release or is n/a without reason, and with check when the committed file was stale."""
    fences = [f for scan in scan_all() for f in scan.fences]
    matrix = MatrixResults.read()
    before = {k: dict(v) for k, v in matrix.fences.items()}
    parts = {}
    for path in paths:
        parts.update(json.loads(path.read_text()))
    apply_parts(matrix, parts, fences, 0.0)
    matrix.write()
    problems = [f"{f.where}: no outcome on {', '.join(m for m in RELEASES if m not in matrix.fences.get(f.key, {}))}"
                for f in matrix.missing(fences)]
    problems += [f"{f.where}: {matrix.fences[f.key].get(PINNED)} on the pinned release" for f in fences
                 if matrix.fences.get(f.key, {}).get(PINNED, "passed") != "passed"]
    problems += [f"{f.where}: failed on {minor}: {matrix.messages.get(f.key, {}).get(minor, '')}" for f in fences
                 for minor, state in matrix.fences.get(f.key, {}).items() if state == "failed" and minor != PINNED]
    problems += [f"{key} on {m}: not applicable without a reason" for key, row in matrix.fences.items()
                 for m, state in row.items() if state.startswith("n/a") and not state[4:].strip()]
    if check:
        changed = sorted(f"{f.where}" for f in fences if before.get(f.key) != matrix.fences.get(f.key))
        problems += [f"{where}: results/matrix.json did not hold this outcome (commit the merged file)"
                     for where in changed]
    for line in problems:
        print(line)
    print(f"merged {len(parts)} releases from {len(paths)} files into results/matrix.json; {len(problems)} problems")
    return 1 if problems else 0


def cold_install(minor: str, no_cache: bool) -> float:
    """Seconds to make this release's venv from nothing (uv's cache kept unless no_cache)."""
    with tempfile.TemporaryDirectory(prefix="scopes-cold-") as tmp:
        env = {**os.environ, "UV_CACHE_DIR": str(Path(tmp) / "cache")} if no_cache else None
        start = time.monotonic()
        make_venv(Path(tmp) / "venv", minor, env=env)
        return time.monotonic() - start


def costs(minors: list[str], no_cache: bool) -> int:
    """Per release: a cold install, the last full run's test seconds and the venv's disk; the CI
    matrix's wall time estimated as its slowest job (one runner per release, in parallel) plus
    the merge."""
    matrix = MatrixResults.read()
    kind = "cold_install_seconds_no_cache" if no_cache else "cold_install_seconds"
    for minor in minors:
        seconds = cold_install(minor, no_cache)
        column = matrix.versions.setdefault(minor, {})
        column[kind] = round(seconds, 1)
        test = column.get("full_test_seconds", 0.0)
        print(f"TF {minor:<5} cold install {seconds:6.1f} s{' (empty uv cache)' if no_cache else ' (uv cache kept)'}"
              f"  tests {test:6.1f} s (last full run)  disk {column.get('disk_bytes', 0) / 2**30:.1f} GiB", flush=True)
    matrix.write()
    jobs = {m: c[kind] + c.get("full_test_seconds", 0.0) for m, c in matrix.versions.items() if kind in c}
    slowest = max(jobs, key=jobs.get)  # every release measured so far, not only this run's
    print(f"CI matrix estimate: {jobs[slowest]:.0f} s wall (its slowest job, TF {slowest}: install + tests; "
          f"the jobs run in parallel), {sum(jobs.values()):.0f} s of runner time over {len(jobs)} jobs, plus the merge")
    return 0


def nightly() -> int:
    """Every fence on the newest nightlies: results/nightly.json (with the exact versions)."""
    fences = [f for scan in scan_all() for f in scan.fences]
    start = time.monotonic()
    column = run_release("nightly", fences, MATRIX_DIR / "logs" / "nightly.log")
    outcomes = column.pop("outcomes")
    data = {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": PYTHON, "versions": column, "total_seconds": round(time.monotonic() - start, 1),
        "fences": {k: state_of(o) for k, o in sorted(outcomes.items())},
        "messages": {k: o.message[:600] for k, o in sorted(outcomes.items()) if o.status == "failed"},
    }
    NIGHTLY_FILE.write_text(json.dumps(data, indent=1) + "\n")
    states = list(data["fences"].values())
    print(f"nightly: TensorFlow {column['tensorflow']}, Keras {column['keras']}, tf_keras {column['tf_keras']}: "
          f"{states.count('passed')} passed, {states.count('failed')} failed in {data['total_seconds']:.0f} s; "
          "wrote results/nightly.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
