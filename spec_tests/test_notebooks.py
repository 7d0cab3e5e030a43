"""Notebooks in docs/ (jupytext percent-format .py files) run like fences: every code cell states a claim.

The build executes them too (mkdocs-jupyter, errors fatal); here they run in this process, with
the plugin's assert rewriting, so a failing cell names the notebook file and line.
"""

import ast
import re
import sys
from pathlib import Path

import pytest

from spec_tests.plugin import claim_lines, import_tensorflow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "docs").rglob("*.py"))
CELL = re.compile(r"^# %%(?P<rest>.*)$", re.M)


def code_cells(source: str) -> list[tuple[int, int]]:
    """(first line, last line) of each code cell, 1-based, from the `# %%` markers."""
    marks = [(source.count("\n", 0, m.start()) + 1, m["rest"]) for m in CELL.finditer(source)]
    ends = [line - 1 for line, _ in marks[1:]] + [source.count("\n") + 1]
    return [(line + 1, end) for (line, rest), end in zip(marks, ends) if "[markdown]" not in rest]


def unclaimed_cells(path: Path) -> list[str]:
    """Code cells that neither assert nor only import."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    claims = claim_lines(tree, 1)
    problems = []
    for first, last in code_cells(source):
        body = [n for n in tree.body if first <= n.lineno <= last]
        only_setup = all(isinstance(n, (ast.Import, ast.ImportFrom, ast.Assign)) for n in body)
        if body and not only_setup and not any(first <= line <= last for line in claims):
            problems.append(f"{path}:{first - 1}: this cell states no claim (assert or pytest.raises)")
    return problems


def test_docs_holds_notebooks():
    assert NOTEBOOKS, "the tutorial notebook is missing from docs/"
    for path in NOTEBOOKS:
        assert "jupytext:" in path.read_text(encoding="utf-8"), f"{path}: every .py in docs/ is a jupytext notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_runs_and_states_its_claims(path):
    assert unclaimed_cells(path) == []
    from _pytest.assertion.rewrite import rewrite_asserts

    tf = import_tensorflow()
    tf.compat.v1.reset_default_graph()
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session(free_memory=False)
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    rewrite_asserts(tree, source.encode(), str(path))
    exec(compile(tree, str(path), "exec"), {"__name__": "__main__", "__file__": str(path)})


def test_a_cell_without_a_claim_is_named(tmp_path):
    notebook = tmp_path / "nb.py"
    notebook.write_text("# %% [markdown]\n# # T\n\n# %%\nimport math\n\n# %%\nprint(math.pi)\n\n# %%\nassert math.pi > 3\n")
    assert unclaimed_cells(notebook) == [f"{notebook}:7: this cell states no claim (assert or pytest.raises)"]
