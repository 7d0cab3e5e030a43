"""Mutation testing of the docs: does every claim in a fence really check what it reads?

For each literal that an ``assert`` compares against, each boolean in an assert, and each
exception type and ``match=`` fragment of a ``pytest.raises``, this makes one mutant of the
fence (the literal changed, nothing else), runs it the way the plugin runs the fence, and
expects it to fail.  A mutant that still passes is a *survivor*: a claim that does not check
the value it shows.  The assert message (``assert claim, "message"``) is never mutated.

    .venv/bin/python -m spec_tests.mutate [paths...] [--list] [--max-seconds N]

Fences are found exactly as pytest-markdown-docs finds them (so lines match pytest's), all
mutants run in this one process (TensorFlow is imported once), and each run gets what the
plugin gives a fence: reset TensorFlow/Keras state, a fresh namespace, a fresh default graph
for ``fixture:graph``, warnings as errors.  ``runner:keras2`` fences and their mutants run
together in one Keras 2 child process, as the plugin runs them.  Exit code 1 if a mutant survived, a fence is
broken, a fence was not mutated (skipped) or the time limit left mutants unrun.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import io
import os
import re
import sys
import time
import types
import warnings
from pathlib import Path

from markdown_it import MarkdownIt
from pytest_markdown_docs.definitions import FenceTestDefinition
from pytest_markdown_docs.plugin import FenceSyntax, extract_fence_tests

from spec_tests.plugin import (
    FenceError,
    compile_fence,
    finish_legacy_keras_process,
    import_tensorflow,
    not_applicable,
    reset_process,
    start_legacy_keras_process,
    undo_leaks,
)

ROOT = Path(__file__).resolve().parents[1]
# A plausible exception the code does not raise; one not listed becomes ValueError (RuntimeWarning).
EXCEPTION_SWAPS = {"ValueError": "TypeError", "AttributeError": "KeyError", "KeyError": "AttributeError",
                   "IndexError": "KeyError", "UserWarning": "DeprecationWarning", "DeprecationWarning": "UserWarning"}
# A changed literal must break ==, is, in; with the other operators it may rightly still hold.
WEAK_OPS = {ast.NotEq: "!=", ast.IsNot: "is not", ast.NotIn: "not in",
            ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


@dataclasses.dataclass(frozen=True)
class Mutant:
    line: int  # line of the literal in the Markdown file
    original: str  # its source text
    mutated: str
    test: FenceTestDefinition  # the fence with the literal changed
    note: str = ""  # why a survivor may be expected

    def __str__(self):
        return f"{self.test.source_path}:{self.line}: {self.original} -> {self.mutated}{self.note}"


# --------------------------------------------------------------------------- mutants
def literal_constants(node):
    """The constants of a literal operand: 1, "a", None, -1, (1, "a"), [..], {..}, {k: v}."""
    if isinstance(node, ast.Constant) and node.value is not Ellipsis:
        yield node
    elif isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        yield node.operand
    elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for element in node.elts:
            yield from literal_constants(element)
    elif isinstance(node, ast.Dict):
        for part in [key for key in node.keys if key is not None] + node.values:
            yield from literal_constants(part)


def is_pytest_raises(call) -> bool:
    """``pytest.raises(...)`` or ``pytest.warns(...)``, as plugin.claim_lines recognises them."""
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr in {"raises", "warns"}
            and isinstance(call.func.value, ast.Name) and call.func.value.id == "pytest")


def negation_walk(node: ast.AST, negated: bool = False):
    """Like ast.walk, with whether each node sits under an odd number of ``not``."""
    yield node, negated
    flip = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    for child in ast.iter_child_nodes(node):
        yield from negation_walk(child, negated != flip)


def mutation_sites(tree: ast.AST, first_line: int):
    """(node, kind, note) for every node to mutate, in source order.

    kind: literal, identity (a literal next to ``is``), exception, match; note: why a survivor
    may be expected (a literal compared with ``!=``, ``<``, ``not in``..., or under ``not``).
    """
    sites = {}
    for node in ast.walk(tree):
        if getattr(node, "lineno", 0) < first_line:
            continue
        if isinstance(node, ast.Assert):  # node.test only: the message is not a claim
            for sub, negated in negation_walk(node.test):
                if isinstance(sub, ast.Compare):
                    for i, operand in enumerate([sub.left, *sub.comparators]):
                        ops = [type(op) for op in sub.ops[max(i - 1, 0) : i + 1]]  # the operators next to it
                        kind = "identity" if {ast.Is, ast.IsNot} & set(ops) else "literal"
                        weak = all(op in WEAK_OPS for op in ops)
                        note = ""
                        if weak and not negated:
                            note = f"  (compared with {', '.join(map(WEAK_OPS.get, ops))})"
                        elif negated and not weak:
                            note = "  (under `not`)"
                        for constant in literal_constants(operand):
                            sites[constant] = (kind, note)
                elif isinstance(sub, ast.Constant) and isinstance(sub.value, bool):
                    sites.setdefault(sub, ("literal", ""))
        elif isinstance(node, ast.With):
            for call in (item.context_expr for item in node.items if is_pytest_raises(item.context_expr)):
                if call.args:
                    expected = call.args[0]
                    for exc in expected.elts if isinstance(expected, ast.Tuple) else [expected]:
                        sites[exc] = ("exception", "")
                for keyword in call.keywords:
                    value = keyword.value
                    if isinstance(value, ast.Call) and len(value.args) == 1:  # match=re.escape("...")
                        value = value.args[0]
                    if keyword.arg == "match" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        sites[value] = ("match", "")
    return sorted(((node, *rest) for node, rest in sites.items()), key=lambda s: (s[0].lineno, s[0].col_offset))


def mutate_text(text: str, node: ast.AST, kind: str) -> str:
    """The mutated source text of one node: guaranteed to differ from the original value."""
    if kind == "exception":
        name = text.rsplit(".", 1)[-1]
        return EXCEPTION_SWAPS.get(name, "RuntimeWarning" if name.endswith("Warning") else "ValueError")
    value = node.value
    if isinstance(value, (str, bytes)):  # insert before the closing quote(s): works for r"", b"", """...""" and "a" "b"
        quotes = 3 if text.endswith(('"""', "'''")) else 1
        return text[:-quotes] + ("XYZ" if kind == "match" else "_mut") + text[-quotes:]
    if isinstance(value, bool):
        return str(not value)
    if value is None:  # `x is 0` would be a SyntaxWarning (an error here), not a failed claim
        return "False" if kind == "identity" else "0"
    return repr(value + 1)


def flat(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text.strip())


def mutants(test: FenceTestDefinition) -> list[Mutant]:
    """One mutant per mutation site of the fence (raises SyntaxError for a fence that does not parse)."""
    source = test.source.encode()  # ast offsets are in UTF-8 bytes
    line_starts = [0]
    for line in source.split(b"\n"):
        line_starts.append(line_starts[-1] + len(line) + 1)
    found = []
    for node, kind, note in mutation_sites(ast.parse(test.source), test.start_line + 1):
        start = line_starts[node.lineno - 1] + node.col_offset
        end = line_starts[node.end_lineno - 1] + node.end_col_offset
        old = source[start:end].decode()
        new = mutate_text(old, node, kind)
        new += "\n" * (old.count("\n") - new.count("\n"))  # e.g. a dotted exception name split over lines
        mutated = source[:start] + new.encode() + source[end:]
        assert mutated.count(b"\n") == source.count(b"\n"), "a mutant keeps every line where it was"
        mutant_test = dataclasses.replace(test, source=mutated.decode())
        found.append(Mutant(node.lineno, flat(old), flat(new), mutant_test, note))
    return found


# --------------------------------------------------------------------------- running
def run_fence(test: FenceTestDefinition) -> BaseException | None:
    """Run a fence as the plugin does; None if it passed, else what it raised."""
    tf = import_tensorflow() if "tensorflow" in sys.modules or "graph" in test.fixture_names else None
    if tf:  # as plugin._isolate_fence
        reset_process(tf)
    namespace = types.ModuleType("fence").__dict__  # a fresh namespace, as MarkdownInlinePythonItem.runtest
    error = None
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.ExitStack() as stack:
            warnings.simplefilter("error")  # pyproject.toml: filterwarnings = ["error"]
            if "graph" in test.fixture_names:  # plugin.graph
                namespace["graph"] = stack.enter_context(tf.Graph().as_default())
            exec(compile_fence(test), namespace)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # pytest.raises reports "DID NOT RAISE" with a BaseException
        error = exc
    tf = sys.modules.get("tensorflow")
    leaks = undo_leaks(tf) if tf else []  # as plugin._isolate_fence
    return error or (FenceError("the fence leaked " + "; ".join(leaks)) if leaks else None)


class Keras2Batch:
    """Every runner:keras2 fence and its mutants, run in one Keras 2 child process (as the plugin
    runs them), started first so that its TensorFlow import overlaps the other mutants."""

    def __init__(self, files):
        self.tests = []
        for path in files:
            for test in fences(path):
                if test.runner_name == "keras2":
                    with contextlib.suppress(SyntaxError):
                        self.tests += [test, *(m.test for m in mutants(test))]
        self.child, self.results = (start_legacy_keras_process(self.tests) if self.tests else None), None

    def run(self, test: FenceTestDefinition) -> BaseException | None:
        if self.results is None:
            self.results = dict(zip(self.tests, finish_legacy_keras_process(self.child)))
        failure = self.results[test]
        return None if failure is None else FenceError(failure.splitlines()[-1])


def fences(path: Path) -> list[FenceTestDefinition]:
    """The fences pytest-markdown-docs collects from a file, with the same start lines."""
    text = path.read_text("utf8")
    return list(extract_fence_tests(MarkdownIt("commonmark"), text, 0, path, fence_syntax=FenceSyntax.superfences))


def markdown_files(paths) -> list[Path]:
    files = []
    for path in map(Path, paths):
        files += sorted(path.rglob("*.md")) if path.is_dir() else [path]
    return files


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spec_tests.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=[os.path.relpath(ROOT / "docs")],
                        help="Markdown files or folders (default: docs/)")
    parser.add_argument("--list", action="store_true", help="print the mutants without running them")
    parser.add_argument("--max-seconds", type=float,
                        help="stop running mutants after this long (the rest are reported as not run)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    out_of_time = lambda: args.max_seconds is not None and time.monotonic() - started > args.max_seconds  # noqa: E731
    if not args.list:
        import_tensorflow()
    files = markdown_files(args.paths)
    keras2 = Keras2Batch(files) if not args.list else None
    killed = survived = not_run = 0
    skipped, broken, nothing_to_mutate = [], [], []
    for path in files:
        counts = dict(fences=0, mutants=0, killed=0, survived=0)
        survivors = []
        for test in fences(path):
            counts["fences"] += 1
            where = f"{path}:{test.start_line}"
            try:
                fence_mutants = mutants(test)
            except SyntaxError as error:
                broken.append(f"{where}: {first_line(error)}")
                continue
            unknown = set(test.fixture_names) - {"graph", "keras3", "pinned"}
            why = next(filter(None, map(not_applicable, test.fixture_names)), None)
            if test.runner_name not in (None, "keras2") or unknown or why:
                why = why or (f"runner:{test.runner_name} is not known here" if test.runner_name
                              else f"fixture {', '.join(sorted(unknown))} exists only under pytest")
                skipped.append(f"{where}: not mutated ({len(fence_mutants)} mutants): {why}")
                continue
            run = keras2.run if test.runner_name == "keras2" and keras2 else run_fence
            if args.list:
                counts["mutants"] += len(fence_mutants)
                for mutant in fence_mutants:
                    print(mutant)
                continue
            if out_of_time():
                counts["mutants"] += len(fence_mutants)
                not_run += len(fence_mutants)
                continue
            error = run(test)  # the fence must pass before its mutants mean anything
            if error is not None:
                broken.append(f"{where}: fails unmutated: {first_line(error)}")
                continue
            counts["mutants"] += len(fence_mutants)
            if not fence_mutants:
                nothing_to_mutate.append(where)
            for mutant in fence_mutants:
                if out_of_time():
                    not_run += 1
                elif run(mutant.test) is None:
                    survivors.append(mutant)
                else:
                    counts["killed"] += 1
        counts["survived"] = len(survivors)
        killed, survived = killed + counts["killed"], survived + counts["survived"]
        if args.list:
            del counts["killed"], counts["survived"]
        print(f"{path}: " + ", ".join(f"{n} {what}" for what, n in counts.items()), flush=True)
        for mutant in survivors:
            print(mutant, flush=True)
    total = killed + survived
    if not args.list:
        score = f"{100 * killed / total:.1f}%" if total else "n/a"
        print(f"mutation score: killed/total = {killed}/{total} = {score}")
    for title, items in [("broken fences (not mutated)", broken), ("skipped fences", skipped),
                         ("fences with nothing to mutate (no literal compared, no pytest.raises)", nothing_to_mutate)]:
        if items:
            print(f"{title}: {len(items)}", *(f"  {item}" for item in items), sep="\n")
    if not_run:
        print(f"not run: {not_run} mutants (--max-seconds {args.max_seconds:g} reached)")
    print(f"elapsed: {time.monotonic() - started:.1f} s")
    return 1 if survived or broken or not_run or skipped else 0  # a fence left unmutated is no pass


if __name__ == "__main__":
    sys.exit(main())
