"""What a claim is, what a claim that cannot fail looks like, and the stand-ins that prove a
fence's claims are about TensorFlow.

A fence states its claims as ``assert <claim>, "<what was expected>"`` or
``with pytest.raises(Error, match="fragment"):``.  Refused before the fence runs, with the line:
a fence (or notebook code cell) with no claim; an assert on a constant, on two identical
operands, or on the bare truth of a value; ``... or True``; an assert inside ``try`` whose
handler swallows ``AssertionError``; ``pytest.raises(Exception)`` / ``BaseException``, without
``match=``, or with a ``match=`` that matches anything.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.abc
import importlib.machinery
import re
import sys
import types
from dataclasses import dataclass

STAND_IN_MODULES = ("tensorflow", "keras", "tf_keras")
SWALLOWERS = {"AssertionError", "Exception", "BaseException"}


@dataclass(frozen=True)
class Claim:
    line: int  # page line
    text: str  # what the reader is told was checked


def is_raises(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"raises", "warns"}
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "pytest")


def _name(node) -> str:
    return ast.unparse(node) if node is not None else ""


def claims(tree: ast.AST) -> list[Claim]:
    """Every claim of a parsed fence, in order, with the words a reader is shown."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            said = node.msg.value if isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str) else ""
            found.append(Claim(node.lineno, said or ast.unparse(node.test)))
        elif isinstance(node, ast.With):
            for call in (i.context_expr for i in node.items if is_raises(i.context_expr)):
                match = next((k.value for k in call.keywords if k.arg == "match"), None)
                text = f"raises {_name(call.args[0]) if call.args else '?'}"
                if isinstance(match, ast.Constant):
                    text += f" matching {match.value!r}"
                found.append(Claim(node.lineno, text))
    return sorted(found, key=lambda c: c.line)


def _has_call(node) -> bool:
    return any(isinstance(n, (ast.Call, ast.Await, ast.NamedExpr)) for n in ast.walk(node))


def _weak_assert(test: ast.AST) -> str | None:
    if isinstance(test, ast.Constant):
        return "asserts a constant, which cannot fail"
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or) and any(
            isinstance(v, ast.Constant) and v.value for v in test.values):
        return "`or` with a true constant cannot fail"
    for compare in (n for n in ast.walk(test) if isinstance(n, ast.Compare)):
        operands = [compare.left, *compare.comparators]
        for a, b in zip(operands, operands[1:]):
            if ast.dump(a) == ast.dump(b) and not _has_call(a):
                return f"compares `{ast.unparse(a)}` with itself"
    return None


def is_comparison(test: ast.AST) -> bool:
    """A test whose value is a comparison's (or a combination of them): not a bare truthiness check."""
    if isinstance(test, ast.Compare):
        return True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return is_comparison(test.operand)
    if isinstance(test, ast.BoolOp):
        return all(map(is_comparison, test.values))
    return False


TRUTH_GUARD = "__claim_truth__"


class GuardTruthiness(ast.NodeTransformer):
    """``assert x`` becomes ``assert __claim_truth__(x)``: at run time ``x`` must be a boolean (a
    bool, a NumPy bool, a boolean tensor of one element), so a non-empty string cannot pass."""

    def visit_Assert(self, node):
        if not is_comparison(node.test):
            call = ast.Call(ast.Name(TRUTH_GUARD, ast.Load()), [node.test], [])
            node.test = ast.copy_location(call, node.test)
            ast.fix_missing_locations(node)
        return node


def claim_truth(value):
    """The guard itself (put in each fence's namespace under ``TRUTH_GUARD``)."""
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):
        return value
    dtype, size = getattr(value, "dtype", None), getattr(value, "size", None)
    if dtype is not None and "bool" in str(dtype) and (size is None or int(size) == 1):
        return bool(value)
    from spec_tests.core.run import FenceError

    raise FenceError(f"a claim that cannot fail: the assert tests the truth of a {type(value).__name__} value "
                     "(any non-empty value passes): compare it with the value you expect")


def _weak_match(pattern: str) -> bool:
    try:
        regex = re.compile(pattern)
    except re.error:
        return False
    return regex.search("") is not None or regex.search("\x00zq#9") is not None


def claim_problems(tree: ast.AST, fence) -> list:
    """What makes the fence's claims unable to fail, or missing; [] when they are fine."""
    from spec_tests.core.fence import Problem

    problems = []
    cells = fence.cells or ((fence.line, fence.line + fence.code.count("\n")),)
    lines = [c.line for c in claims(tree)]
    for first, last in cells:
        body = [n for n in tree.body if first <= n.lineno <= last]
        only_imports = all(isinstance(n, (ast.Import, ast.ImportFrom)) or (  # imports and aliases: setup
            isinstance(n, ast.Assign) and isinstance(n.value, (ast.Name, ast.Attribute))) for n in body)
        if body and not only_imports and not any(first <= line <= last for line in lines):
            what = "this notebook cell" if fence.cells else "this fence"
            problems.append(Problem(fence.page, first, (
                f"{what} states no claim. End it with `assert <claim>, \"<what was expected>\"` or show the "
                "behaviour inside `with pytest.raises(Error, match=\"...\")`; code that only prints proves nothing")))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and (why := _weak_assert(node.test)):
            problems.append(Problem(fence.page, node.lineno, f"a claim that cannot fail: {why}"))
        elif isinstance(node, ast.Try):
            caught = {_name(h.type).rsplit(".", 1)[-1] for h in node.handlers}
            bare = any(h.type is None for h in node.handlers)
            names = set()
            for h in node.handlers:
                if isinstance(h.type, ast.Tuple):
                    names |= {_name(e).rsplit(".", 1)[-1] for e in h.type.elts}
            if (bare or (caught | names) & SWALLOWERS) and any(isinstance(n, ast.Assert) for b in node.body
                                                               for n in ast.walk(b)):
                problems.append(Problem(fence.page, node.lineno, (
                    "an assert inside `try` whose `except` catches AssertionError can never fail the fence")))
        elif isinstance(node, ast.With):
            for call in (i.context_expr for i in node.items if is_raises(i.context_expr)):
                expected = call.args[0] if call.args else None
                kinds = expected.elts if isinstance(expected, ast.Tuple) else [expected]
                if expected is None or any(_name(k).rsplit(".", 1)[-1] in {"Exception", "BaseException", "Warning"}
                                           for k in kinds):
                    problems.append(Problem(fence.page, node.lineno, (
                        "`pytest.raises` must name the exact error (not Exception or BaseException: a typo's "
                        "AttributeError would satisfy it)")))
                match = next((k.value for k in call.keywords if k.arg == "match"), None)
                if isinstance(match, ast.Call) and match.args:  # re.escape("...")
                    match = match.args[0]
                if match is None:
                    problems.append(Problem(fence.page, node.lineno, (
                        "`pytest.raises` needs `match=\"<a stable fragment of the message>\"`")))
                elif isinstance(match, ast.Constant) and isinstance(match.value, str) and _weak_match(match.value):
                    problems.append(Problem(fence.page, node.lineno, (
                        f"`match={match.value!r}` matches any message: give a fragment of the real one")))
    return sorted(set(problems), key=lambda p: p.line)


# --------------------------------------------------------------------------- stand-ins
class Dummy:
    """Whatever is asked of it, a fresh Dummy (never equal to anything but itself)."""

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Dummy()

    def __call__(self, *args, **kwargs):
        return Dummy()

    def __getitem__(self, key):
        return Dummy()

    def __enter__(self):
        return Dummy()

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __mro_entries__(self, bases):
        return (object,)

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __matmul__ = __call__
    __neg__ = __call__


class StandInModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Dummy()


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in STAND_IN_MODULES:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = StandInModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


@contextlib.contextmanager
def stand_ins():
    """TensorFlow, Keras and tf_keras replaced by stand-ins for the duration (real ones restored)."""
    saved = {n: m for n, m in sys.modules.items() if n.split(".")[0] in STAND_IN_MODULES}
    for name in saved:
        del sys.modules[name]
    finder = _Finder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n.split(".")[0] in STAND_IN_MODULES]:
            del sys.modules[name]
        sys.modules.update(saved)
