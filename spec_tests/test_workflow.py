"""The publishing workflow cannot run here, so it is linted, and kept in step with .ci/run."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"
MATRIX_WORKFLOW = ROOT / ".github" / "workflows" / "matrix.yml"
BIN = Path(sys.executable).parent
TEST_COMMAND = "./dev test"


def lint(path: Path) -> list[str]:
    """Problems that the workflow schema and zizmor (offline) find in a workflow file."""
    problems = []
    for argv in (
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path],
        [BIN / "zizmor", "--offline", "--no-progress", path],
    ):
        proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
        if proc.returncode != 0:
            problems.append(f"{Path(argv[0]).name}: {proc.stdout}{proc.stderr}")
    return problems


def test_the_workflows_pass_schema_and_security_lint():
    assert lint(WORKFLOW) == []
    assert lint(MATRIX_WORKFLOW) == []


def test_the_matrix_workflow_runs_one_job_per_release_of_the_one_table():
    import json

    from spec_tests.core.releases import RELEASES

    flow = yaml.safe_load(MATRIX_WORKFLOW.read_text())
    jobs = flow["jobs"]
    listed = subprocess.run([sys.executable, "-m", "spec_tests.core.releases"], capture_output=True, text=True,
                            cwd=ROOT, check=True).stdout
    assert json.loads(listed) == list(RELEASES), "the job list is the releases table"
    assert "python -m spec_tests.core.releases" in jobs["releases"]["steps"][-1]["run"], "read from the table"
    strategy = jobs["release"]["strategy"]
    assert strategy["fail-fast"] is False and "fromJSON(needs.releases.outputs.minors)" in strategy["matrix"]["minor"]
    assert all("timeout-minutes" in job for job in jobs.values()), "every job has a timeout"
    runs = "\n".join(step.get("run", "") for job in jobs.values() for step in job["steps"])
    assert "./dev matrix --merge parts/*.json --check" in runs, "the merge fails on a stale results file"
    assert "./dev matrix --nightly" in runs and flow[True]["schedule"], "the scheduled canary"


def test_the_linters_catch_a_bad_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: echo ${{ github.event.head_commit.message }}\n"
    )
    problems = "\n".join(lint(bad))
    assert "unpinned-uses" in problems and "template-injection" in problems, problems


def test_ci_the_workflow_and_the_readme_run_the_same_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    steps = [step.get("run", "") for job in yaml.safe_load(WORKFLOW.read_text())["jobs"].values() for step in job["steps"]]
    assert f"exec {TEST_COMMAND}" in ci.splitlines(), ".ci/run must exec the README's test command"
    assert TEST_COMMAND in steps, "the workflow must run the README's test command as a step"
    assert f"`{TEST_COMMAND}`" in (ROOT / "README.md").read_text() or TEST_COMMAND in (ROOT / "README.md").read_text()
