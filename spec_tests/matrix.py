"""The version matrix: every fence in docs/ on the latest patch of each TensorFlow minor.

    .venv/bin/python -m spec_tests.matrix [--versions 2.12,2.21] [--jobs 2]

For each minor release in ``RELEASES`` it makes (or reuses) a venv ``.matrix/tf-2.XX`` with that
TensorFlow, the Keras it pulls in (Keras 2 up to 2.15, Keras 3 from 2.16), ``tf_keras`` of the
same minor where one was released (for ``runner:keras2`` fences), and the same pytest stack as
``requirements.lock`` (``PYTEST_STACK``). It then runs ``pytest docs`` there, from this
repository, with ``SCOPES_RESULTS`` pointing at a file of its own, and writes every fence's
outcome per version to ``results/matrix.json``: ``passed``, ``failed`` or ``n/a: <reason>``
(a fence that names a fixture such as ``keras3`` which the release cannot satisfy).

A venv is reused while its stamp (the sha256 of its install spec) matches; delete
``.matrix/`` to start cold. At most ``--jobs`` versions run at once (2 cores here).

A failure on an old release is a fact the site shows, not an error of this command; the
command fails only when a version could not be installed or run at all.
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

ROOT = Path(__file__).resolve().parents[1]
MATRIX_DIR = ROOT / ".matrix"
RESULTS_FILE = ROOT / "results" / "matrix.json"
PYTHON = "3.11"

# Latest patch of every TensorFlow minor, and the tf_keras of that minor (None: never released).
# Looked up on 2026-11-26 with `pip index versions tensorflow` and `pip index versions tf-keras`;
# to refresh, run both again and put each minor's highest version here (a new minor is a new row).
RELEASES: dict[str, tuple[str, str | None]] = {
    "2.12": ("2.12.1", None),
    "2.13": ("2.13.1", None),
    "2.14": ("2.14.1", "2.14.1"),
    "2.15": ("2.15.1", "2.15.1"),
    "2.16": ("2.16.2", "2.16.0"),
    "2.17": ("2.17.1", "2.17.0"),
    "2.18": ("2.18.1", "2.18.0"),
    "2.19": ("2.19.1", "2.19.0"),
    "2.20": ("2.20.0", "2.20.1"),
    "2.21": ("2.21.0", "2.21.0"),
}
# The Keras 3 each release was made for: the latest patch of the oldest Keras minor its wheel
# accepts (`Requires-Dist: keras>=3.0.0` for 2.16, >=3.2.0 for 2.17, >=3.5.0 for 2.18 and 2.19,
# >=3.10.0 for 2.20), and the lock's Keras for the pinned release. Up to 2.15 TensorFlow pins
# its own Keras 2. Without these pins pip would give every column the newest Keras 3.
KERAS: dict[str, str] = {"2.16": "3.0.5", "2.17": "3.2.1", "2.18": "3.5.0", "2.19": "3.5.0", "2.20": "3.10.0", "2.21": "3.15.1"}
PINNED = "2.21"  # the minor pyproject.toml pins; spec_tests/test_matrix.py checks they agree

# The pytest stack of requirements.lock, installed unchanged in every venv (test_matrix.py
# checks these pins against the lock). Keras is not listed: each TensorFlow brings its own.
PYTEST_STACK = [
    "pytest==9.2.0",
    "pluggy==1.7.0",
    "iniconfig==2.3.1",
    "packaging==26.4",
    "pygments==2.21.0",
    "pytest-markdown-docs==0.9.2",
    "markdown-it-py==3.0.0",
    "mdurl==0.1.2",
]


# Warnings that old releases raise inside their own import (the suite turns every warning into an
# error, so the first fence would fail, and every later one on a half-imported TensorFlow).
# Ignored by exact message, so a warning from a fence's own code still fails it.
IMPORT_WARNINGS = [
    "ignore:module 'sre_constants' is deprecated:DeprecationWarning",  # TF 2.12-2.13 on Python 3.11
    "ignore:ml_dtypes.float8_e4m3b11 is deprecated:DeprecationWarning",  # TF 2.14 with its ml-dtypes 0.2.0
]


def install_spec(minor: str) -> list[str]:
    """What `pip install` gets for this minor: TensorFlow, its tf_keras if any, the pytest stack."""
    tensorflow, tf_keras = RELEASES[minor]
    keras = [f"keras=={KERAS[minor]}"] if minor in KERAS else []
    return [f"tensorflow=={tensorflow}", *keras] + ([f"tf-keras=={tf_keras}"] if tf_keras else []) + PYTEST_STACK


def stamp(minor: str) -> str:
    spec = {"python": PYTHON, "requirements": install_spec(minor)}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def base_python() -> str:
    """The Python 3.11 that .venv was made from (new venvs are made from it too)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def ensure_venv(minor: str, log) -> tuple[Path, float, bool]:
    """The venv for this minor, made anew unless its stamp matches; (path, seconds, reused)."""
    start = time.monotonic()
    venv = MATRIX_DIR / f"tf-{minor}"
    stamp_file = venv / ".matrix-stamp"
    want = stamp(minor)
    if (venv / "bin" / "python").exists() and stamp_file.exists() and stamp_file.read_text().strip() == want:
        return venv, time.monotonic() - start, True
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([base_python(), "-m", "venv", str(venv)], check=True, stdout=log, stderr=subprocess.STDOUT)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + install_spec(minor), check=True, stdout=log, stderr=subprocess.STDOUT)
    stamp_file.write_text(want + "\n")
    return venv, time.monotonic() - start, False


def run_fences(minor: str, jobs_log: Path) -> dict:
    """Install (or reuse) the venv, run every fence there; this version's column of the matrix."""
    jobs_log.parent.mkdir(parents=True, exist_ok=True)
    with jobs_log.open("w") as log:
        venv, install_seconds, reused = ensure_venv(minor, log)
        start = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            results_path = Path(tmp) / "fences.json"
            env = {
                **os.environ,
                "SCOPES_RESULTS": str(results_path),
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "PYTHONDONTWRITEBYTECODE": "1",
                "VIRTUAL_ENV": str(venv),
                "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            }
            env.pop("TF_USE_LEGACY_KERAS", None)
            # The notebook (docs/**/*.py) is no fence: it needs the site's stack (spec_tests/test_notebooks.py).
            cmd = [str(venv / "bin" / "python"), "-m", "pytest", "docs", "-q", "-p", "no:randomly", "--tb=no"]
            cmd += ["--ignore-glob=docs/*.py"] + [f"-W{w}" for w in IMPORT_WARNINGS]
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            log.write(proc.stdout + proc.stderr)
            if proc.returncode not in (0, 1) or not results_path.exists():
                raise RuntimeError(f"TensorFlow {minor}: pytest exited {proc.returncode}; see {jobs_log}")
            results = json.loads(results_path.read_text())
    versions = next(iter(results.values()))["versions"]
    fences = {page: entry["fences"] for page, entry in results.items()}
    outcomes = [o for page in fences.values() for o in page.values()]
    return {
        "tensorflow": versions["tensorflow"],
        "keras": versions["keras"],
        "tf_keras": versions["tf_keras"],
        "counts": {
            "passed": outcomes.count("passed"),
            "failed": outcomes.count("failed"),
            "n/a": sum(o.startswith("n/a") for o in outcomes),
        },
        "venv_reused": reused,
        "install_seconds": round(install_seconds, 1),
        "test_seconds": round(time.monotonic() - start, 1),
        "fences": fences,
        "messages": {page: entry.get("failures", {}) for page, entry in results.items() if entry.get("failures")},
    }


def docs_fences(root: Path = ROOT) -> dict[str, list[int]]:
    """Every page in docs/ and the lines of its Python fences that run (as pytest's [line:N])."""
    from spec_tests.plugin import run_lines

    pages = {}
    for path in sorted((root / "docs").rglob("*.md")):
        if lines := run_lines(path):
            pages[path.relative_to(root).as_posix()] = lines
    return pages


def merge(previous: dict, columns: dict[str, dict], total_seconds: float) -> dict:
    """The new results file: these versions' columns replace theirs; rows are today's fences."""
    versions = {v: info for v, info in previous.get("versions", {}).items() if v in RELEASES}
    fences: dict[str, dict[str, dict[str, str]]] = {}
    messages: dict[str, dict[str, dict[str, str]]] = {}
    for page, lines in docs_fences().items():
        for line in map(str, lines):
            row = {v: o for v, o in previous.get("fences", {}).get(page, {}).get(line, {}).items() if v in versions}
            msgs = {v: m for v, m in previous.get("messages", {}).get(page, {}).get(line, {}).items() if v in versions}
            for minor, column in columns.items():
                row.pop(minor, None)
                msgs.pop(minor, None)
                if line in column["fences"].get(page, {}):
                    row[minor] = column["fences"][page][line]
                if line in column["messages"].get(page, {}) and row.get(minor) == "failed":
                    msgs[minor] = column["messages"][page][line]
            fences.setdefault(page, {})[line] = dict(sorted(row.items(), key=lambda kv: _key(kv[0])))
            if msgs:
                messages.setdefault(page, {})[line] = dict(sorted(msgs.items(), key=lambda kv: _key(kv[0])))
    for minor, column in columns.items():
        versions[minor] = {k: v for k, v in column.items() if k not in ("fences", "messages")}
    return {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": PYTHON,
        "total_seconds": round(total_seconds, 1),
        "versions": dict(sorted(versions.items(), key=lambda kv: _key(kv[0]))),
        "fences": fences,
        "messages": messages,  # the first line of each failure, for the reader who asks why
    }


def _key(minor: str) -> tuple[int, ...]:
    return tuple(int(p) for p in minor.split("."))


def page_summary(page: str, matrix: dict | None = None) -> dict[str, str]:
    """One page's row: per TensorFlow minor, ``failed`` if any of its fences failed there,
    ``n/a`` if none applied, else ``passed`` (some fences may be n/a on that release)."""
    matrix = matrix if matrix is not None else json.loads(RESULTS_FILE.read_text())
    rows = matrix["fences"].get(page, {})
    summary = {}
    for minor in matrix["versions"]:
        outcomes = [row.get(minor, "missing") for row in rows.values()]
        if not outcomes:
            continue
        if any(o in ("failed", "missing") for o in outcomes):
            summary[minor] = "failed"
        elif all(o.startswith("n/a") for o in outcomes):
            summary[minor] = "n/a"
        else:
            summary[minor] = "passed"
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", default=",".join(RELEASES), help="comma-separated minors (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="versions run at once (default 2)")
    args = parser.parse_args(argv)
    minors = [v.strip() for v in args.versions.split(",") if v.strip()]
    unknown = [v for v in minors if v not in RELEASES]
    if unknown:
        parser.error(f"unknown versions {unknown}; known: {', '.join(RELEASES)}")

    start = time.monotonic()
    columns: dict[str, dict] = {}
    errors: dict[str, str] = {}

    def one(minor):
        try:
            columns[minor] = run_fences(minor, MATRIX_DIR / "logs" / f"tf-{minor}.log")
            c = columns[minor]
            print(
                f"TF {c['tensorflow']:<7} Keras {c['keras']:<7} tf_keras {str(c['tf_keras']):<7} "
                f"{c['counts']['passed']:>3} passed {c['counts']['failed']:>3} failed {c['counts']['n/a']:>3} n/a  "
                f"install {c['install_seconds']:>6.1f} s{' (reused)' if c['venv_reused'] else ''}  "
                f"tests {c['test_seconds']:>6.1f} s",
                flush=True,
            )
        except Exception as error:  # reported below; the other versions still run
            errors[minor] = str(error)
            print(f"TF {minor}: {error}", flush=True)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(one, minors))
    total = time.monotonic() - start

    previous = json.loads(RESULTS_FILE.read_text()) if RESULTS_FILE.exists() else {}
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(merge(previous, columns, total), indent=1) + "\n")
    print(f"matrix: {len(columns)} of {len(minors)} versions in {total:.0f} s ({total / 60:.1f} min); wrote {RESULTS_FILE.relative_to(ROOT)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
