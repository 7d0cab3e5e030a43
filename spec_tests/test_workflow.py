"""The publishing workflow cannot run here, so it is linted, and kept in step with .ci/run."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"
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


def test_the_workflow_passes_schema_and_security_lint():
    assert lint(WORKFLOW) == []


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
