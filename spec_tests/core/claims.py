"""What a claim is, what a claim that cannot fail looks like, and the stand-ins that prove a
fence's claims are about TensorFlow.

A fence states its claims as ``assert <claim>, "<what was expected>"`` or
``with pytest.raises(Error, match="fragment"):``.

Refused before the fence runs (``claim_problems``), with the line: a fence (or notebook code
cell) with no claim; an assert whose test depends on nothing the example computed (``assert
True``, ``assert not False``, ``assert 1 < 2``, ``assert len("ab") == 2``); two identical
operands (``a.name == a.name``; with ``==``/``is``/``<=``/``>=``/``in``, ``np.array_equal`` and the
like, also calls that read a value the example computed: ``x.numpy() == x.numpy()``, ``f(x) is
f(x)``); an ``or``/``|``/``any([...])`` with a constant operand; an assert inside ``try`` (or
``except*``, or ``contextlib.suppress``) that swallows ``AssertionError``; an assert inside
``with pytest.raises`` (it never runs once the error is raised); ``pytest.raises`` (however
pytest was imported) without the exact error, without ``match=``, with a ``match=`` that
matches anything, or called as a function; ``unittest``-style ``assertRaises``; a call that
ends the process (``os._exit``, ``sys.exit``...); names starting with ``__claim``.

Checked while the fence runs (``GuardTruthiness`` rewrites the code, ``claim_truth`` checks):
a bare ``assert x`` (also ``assert bool(x)``, ``assert not not x``) must test a real boolean;
``all(...)``/``any(...)`` in a claim must range over at least one item; the error class and
``match=`` given to ``pytest.raises`` are checked again as values (an alias ``E = Exception``,
``match=m`` with ``m = ".*"``, ``match=None``); every claim that starts must finish (a claim
whose ``AssertionError`` something caught fails the example); each fence (each notebook cell
with claims) must run at least one of its claims.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib.abc
import importlib.machinery
import re
import sys
import types
from dataclasses import dataclass

STAND_IN_MODULES = ("tensorflow", "keras", "tf_keras")
SWALLOWERS = {"AssertionError", "Exception", "BaseException"}
RAISES = {"raises", "warns"}  # pytest.raises / pytest.warns, however pytest was imported
UNITTEST_RAISES = {"assertRaises", "assertRaisesRegex", "assertRaisesRegexp", "assertWarns", "assertWarnsRegex",
                   "assert_raises", "assert_raises_regex", "assert_warns", "failUnlessRaises"}
TOO_BROAD = {"Exception", "BaseException", "Warning", "object"}
EXITS = {"_exit", "abort", "kill", "killpg", "raise_signal", "pthread_kill", "exit", "quit", "execv", "execve",
         "execvp", "execvpe", "execl", "execle", "execlp", "execlpe", "fork", "forkpty"}
RESERVED = ("__claim", "__mutants__")
CHECKER_MODULES = {"spec_tests", "_pytest", "pluggy"}
# builtins that compute the same value on every run: a test made of these and literals cannot fail
PURE_BUILTINS = {"abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex", "dict", "divmod",
                 "enumerate", "filter", "float", "format", "frozenset", "hasattr", "hex", "int", "isinstance",
                 "issubclass", "len", "list", "map", "max", "min", "oct", "ord", "pow", "range", "repr", "reversed",
                 "round", "set", "slice", "sorted", "str", "sum", "tuple", "type", "zip", "object", "Ellipsis",
                 "NotImplemented"} | {n for n in dir(builtins) if n.endswith(("Error", "Exception", "Warning"))}


@dataclass(frozen=True)
class Claim:
    line: int  # page line
    text: str  # what the reader is told was checked


def _callee(node) -> str:
    """The called name of a call: `f` for f(...), `raises` for pytest.raises(...) or pt.raises(...)."""
    if not isinstance(node, ast.Call):
        return ""
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def is_raises(node) -> bool:
    """``pytest.raises(...)`` / ``pytest.warns(...)``, also as ``pt.raises`` or a bare ``raises``."""
    return _callee(node) in RAISES


def _name(node) -> str:
    return ast.unparse(node) if node is not None else ""


def _raises_withs(tree):
    """(with statement, raises call) for every ``with pytest.raises(...)``."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for call in (i.context_expr for i in node.items if is_raises(i.context_expr)):
                yield node, call


def claims(tree: ast.AST) -> list[Claim]:
    """Every claim of a parsed fence, in order, with the words a reader is shown."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            said = node.msg.value if isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str) else ""
            found.append(Claim(node.lineno, said or ast.unparse(node.test)))
    for node, call in _raises_withs(tree):
        match = next((k.value for k in call.keywords if k.arg == "match"), None)
        text = f"raises {_name(call.args[0]) if call.args else '?'}"
        if isinstance(match, ast.Constant):
            text += f" matching {match.value!r}"
        found.append(Claim(node.lineno, text))
    return sorted(found, key=lambda c: c.line)


def _has_call(node) -> bool:
    return any(isinstance(n, (ast.Call, ast.Await, ast.NamedExpr)) for n in ast.walk(node))


def _free_names(node) -> set[str]:
    """Names an expression reads from outside itself (not those its comprehensions or lambdas bind)."""
    bound = set()
    for n in ast.walk(node):
        if isinstance(n, ast.comprehension):
            bound |= {t.id for t in ast.walk(n.target) if isinstance(t, ast.Name)}
        elif isinstance(n, ast.Lambda):
            bound |= {a.arg for a in ast.walk(n.args) if isinstance(a, ast.arg)}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound


def is_constant(node) -> bool:
    """An expression that depends on nothing the example computed: literals and pure builtins only."""
    if any(isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom)) for n in ast.walk(node)):
        return False
    walrus = {n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr)}
    if walrus and not all(is_constant(n.value) for n in ast.walk(node) if isinstance(n, ast.NamedExpr)):
        return False
    return _free_names(node) - walrus <= PURE_BUILTINS


def _pure_calls_only(node) -> bool:
    """No call but to builtins that give the same value twice (len, str, getattr...)."""
    return all(isinstance(n.func, ast.Name) and n.func.id in PURE_BUILTINS | {"getattr"}
               for n in ast.walk(node) if isinstance(n, ast.Call)) and not any(
        isinstance(n, (ast.Await, ast.NamedExpr)) for n in ast.walk(node))


def _reads_values(node, modules) -> bool:
    """Whether an expression reads a name the example bound (not a module, not a function it only calls)."""
    callees = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    values = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in callees}
    return bool(values & _free_names(node) - modules - PURE_BUILTINS)


def _same(a, b, modules=frozenset(), reflexive=True) -> bool:
    """Two operands that are the same value: the same text with no call (but to pure builtins); under
    `==`, `is`, `<=`, `>=`, `in`, the same text reading a value the example computed (`x.numpy()`,
    `f(x)`; code that makes something anew, `f() is f()`, `tf.Variable(1.0).name`, may differ); or
    `(y := ...) == y`."""
    if ast.dump(a) == ast.dump(b) and (_pure_calls_only(a) or reflexive and _reads_values(a, modules)):
        return True
    for x, y in ((a, b), (b, a)):
        if isinstance(x, ast.NamedExpr) and isinstance(y, ast.Name) and x.target.id == y.id:
            return True
    return False


REFLEXIVE = (ast.Eq, ast.Is, ast.LtE, ast.GtE, ast.In)  # true of a value and itself
EQUALITY_FUNCTIONS = {"array_equal", "array_equiv", "allclose", "isclose", "equal", "eq", "is_"}  # np., tf., math.


def _weak_assert(test: ast.AST, modules=frozenset()) -> str | None:
    if is_constant(test):
        return (f"`assert {ast.unparse(test)}` depends on nothing the example computed, so it cannot fail: "
                "compare a value the example computed with the value you expect")
    for node in ast.walk(test):
        operands = []
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            operands, how = node.values, "`or`"
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            operands, how = [node.left, node.right], "`|`"
        elif _callee(node) == "any" and node.args and isinstance(node.args[0], (ast.List, ast.Tuple, ast.Set)):
            operands, how = node.args[0].elts, "`any([...])`"
        for operand in operands:
            if is_constant(operand):
                return f"{how} with `{ast.unparse(operand)}`, which does not depend on the example, cannot fail"
    for node in ast.walk(test):
        if isinstance(node, ast.IfExp):
            for branch in (node.body, node.orelse):
                if is_constant(branch):
                    return (f"`... if ... else ...` with the branch `{ast.unparse(branch)}`, which does not depend "
                            "on the example: when that branch is taken the claim cannot fail")
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            facts = [_fact(v) for v in node.values]
            for fact in filter(None, facts):
                if _negated(fact) in facts:
                    return f"`{ast.unparse(node)}` holds whatever the values are (a comparison or its opposite)"
    for compare in (n for n in ast.walk(test) if isinstance(n, ast.Compare)):
        operands = [compare.left, *compare.comparators]
        for a, b, op in zip(operands, operands[1:], compare.ops):
            if _same(a, b, modules, isinstance(op, REFLEXIVE)):
                return f"compares `{ast.unparse(a)}` with itself"
            if isinstance(op, (ast.In, ast.NotIn)) and isinstance(a, ast.Constant) and a.value in ("", b""):
                return "the empty string is in every string"
            if isinstance(op, ast.In) and isinstance(b, (ast.List, ast.Tuple, ast.Set)) and any(
                    _same(a, e, modules) for e in b.elts):
                return f"`{ast.unparse(a)}` is one of the values it is looked for in"
    for call in (n for n in ast.walk(test) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
        args = call.args
        if call.func.attr in {"startswith", "endswith"} and args and isinstance(args[0], ast.Constant) \
                and args[0].value in ("", b""):
            return f"every string {call.func.attr} the empty string"
        if call.func.attr in {"__eq__", "__le__", "__ge__", "__contains__"} and args and _same(
                call.func.value, args[0], modules):
            return f"compares `{ast.unparse(args[0])}` with itself"
    for call in (n for n in ast.walk(test) if _callee(n) in EQUALITY_FUNCTIONS and len(n.args) >= 2):
        if _same(call.args[0], call.args[1], modules):
            return f"compares `{ast.unparse(call.args[0])}` with itself"
    for call in (n for n in ast.walk(test) if _callee(n) == "isinstance" and len(n.args) == 2):
        kinds = call.args[1].elts if isinstance(call.args[1], ast.Tuple) else [call.args[1]]
        if any(_name(k) == "object" for k in kinds):
            return "everything is an instance of `object`"
    return None


OPPOSITE = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
            ast.NotIn: ast.In, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt}


def _fact(node):
    """A single comparison as (left, operator, right), `not` folded into the operator; else None."""
    negate = False
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node, negate = node.operand, not negate
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return None
    op = type(node.ops[0])
    return ast.dump(node.left), OPPOSITE[op] if negate else op, ast.dump(node.comparators[0])


def _negated(fact):
    left, op, right = fact
    return left, OPPOSITE[op], right


def is_comparison(test: ast.AST) -> bool:
    """A test whose value is a comparison's (or a combination of them): not a bare truthiness check."""
    if isinstance(test, ast.Compare):
        return True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return is_comparison(test.operand)
    if isinstance(test, ast.BoolOp):
        return all(map(is_comparison, test.values))
    return False


def _required_literal(parsed) -> int:
    """The longest run of literal characters every match of a parsed pattern must contain."""
    from re import _constants as c

    best = run = 0
    for op, av in parsed:
        if op is c.LITERAL:
            run += 1
            best = max(best, run)
            continue
        run = 0
        if op is c.SUBPATTERN:
            best = max(best, _required_literal(av[-1]))
        elif op is c.BRANCH:
            best = max(best, min(_required_literal(branch) for branch in av[1]))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
            best = max(best, _required_literal(av[2]))
    return best


MIN_FRAGMENT = 3  # characters of the real message a match= must hold, in every alternative
TYPO_MESSAGES = (  # what Python says about a typo: a match= that accepts one cannot tell the claim from it
    "module 'tensorflow' has no attribute 'zqxv'", "'Tensor' object has no attribute 'zqxv'",
    "name 'zqxv' is not defined", "zqxv() got an unexpected keyword argument 'zqxv'",
    "zqxv() missing 1 required positional argument: 'zqxv'", "zqxv() takes 1 positional argument but 2 were given",
    "'NoneType' object is not callable", "'zqxv' object is not subscriptable", "No module named 'zqxv'",
    "cannot import name 'zqxv' from 'tensorflow'")


def _weak_match(pattern: str) -> bool:
    """A ``match=`` pattern that matches the empty message or an unrelated one, or holds no literal
    fragment of at least MIN_FRAGMENT characters (``"e"``, ``"a|b"``)."""
    from re import _parser

    try:
        regex = re.compile(pattern)
        parsed = _parser.parse(pattern)
    except re.error:
        return False
    if any(regex.search(s) is not None for s in ("", "\x00zq#9", "XJQZ 8075 wvkp", *TYPO_MESSAGES)):
        return True
    return _required_literal(parsed) < MIN_FRAGMENT


def _swallows(handlers) -> bool:
    """Whether one of these ``except`` clauses catches AssertionError and does not raise again."""
    for h in handlers:
        kinds = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        catches = h.type is None or any(_name(k).rsplit(".", 1)[-1] in SWALLOWERS for k in kinds)
        if catches and not any(isinstance(s, ast.Raise) for s in h.body):
            return True
    return False


def _asserts_in(statements) -> list[ast.Assert]:
    """The asserts of these statements, not counting functions and classes they define (those run later)."""
    found, todo = [], list(statements)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Assert):
            found.append(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
    return found


def _imported_names(tree) -> set[str]:
    """Names an example binds by importing (modules, and what it imports from them), and builtins."""
    names = {"__builtins__"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(a.asname or a.name.split(".")[0]) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {(a.asname or a.name) for a in node.names if a.name != "*"}
    return names


CHECKED_AT_RUN_TIME = {"os.environ"}  # a fence may change and restore these: run.py compares them around it


def _root(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _changes_module(node, modules) -> str | None:
    """The text of an assignment, deletion or setattr that changes something an import bound."""
    targets = []
    if isinstance(node, (ast.Assign, ast.Delete)):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    elif _callee(node) in {"setattr", "delattr"} and isinstance(node.func, ast.Name) and node.args:
        if _root(node.args[0]) in modules or isinstance(node.args[0], ast.Name) and node.args[0].id in modules:
            return ast.unparse(node)
    for target in targets:
        for t in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]):
            if isinstance(t, ast.Subscript) and ast.unparse(t.value) in CHECKED_AT_RUN_TIME:
                continue
            if isinstance(t, (ast.Attribute, ast.Subscript)) and _root(t) in modules:
                return ast.unparse(t)
    return None


def cells_of(tree: ast.AST, fence) -> tuple[tuple[int, int], ...]:
    return fence.cells or ((fence.line, fence.line + fence.code.count("\n")),)


def claim_problems(tree: ast.AST, fence) -> list:
    """What makes the fence's claims unable to fail, or missing; [] when they are fine."""
    from spec_tests.core.fence import Problem

    problems = []

    def problem(line, text):
        problems.append(Problem(fence.page, line, text))

    cells = cells_of(tree, fence)
    tree.claim_cells = cells  # read by GuardTruthiness: each cell with claims must run one
    lines = [c.line for c in claims(tree)]
    source = ("\n" * (fence.line - 1) + fence.code).split("\n")
    for first, last in cells:
        body = [n for n in tree.body if first <= n.lineno <= last]
        comments = [i for i in range(first, min(last, len(source)) + 1) if source[i - 1].lstrip().startswith("#")
                    and not source[i - 1].lstrip().startswith("# %%")]
        only_imports = all(isinstance(n, (ast.Import, ast.ImportFrom)) or (  # imports and aliases: setup
            isinstance(n, ast.Assign) and all(isinstance(t, ast.Name) for t in n.targets)
            and isinstance(n.value, (ast.Name, ast.Attribute))) for n in body)
        if any(first <= line <= last for line in lines):
            continue
        if fence.cells and body and only_imports and not comments:
            continue  # a notebook's setup cell: imports and aliases the next cells use
        if fence.cells and not body and not comments:
            continue  # an empty cell
        what = "this notebook cell" if fence.cells else "this fence"
        problem(first, f"{what} states no claim. End it with `assert <claim>, \"<what was expected>\"` or show "
                       "the behaviour inside `with pytest.raises(Error, match=\"...\")`; code that only prints, "
                       "or an output typed into a comment, proves nothing")
    raises_calls = {id(call) for _, call in _raises_withs(tree)}
    modules = _imported_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and (why := _weak_assert(node.test, modules)):
            problem(node.lineno, f"a claim that cannot fail: {why}")
        elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            if _swallows(node.handlers) and _asserts_in(node.body):
                problem(node.lineno, "an assert inside `try` whose `except` catches AssertionError can never fail "
                                     "the fence: take the assert out of the `try`")
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            suppressors = [i.context_expr for i in node.items if _callee(i.context_expr) == "suppress"]
            if any(_name(k).rsplit(".", 1)[-1] in SWALLOWERS for s in suppressors for k in s.args) and \
                    _asserts_in(node.body):
                problem(node.lineno, "an assert inside `contextlib.suppress(AssertionError)` can never fail the "
                                     "fence: take the assert out of the `with`")
            if any(is_raises(i.context_expr) for i in node.items) and (inner := _asserts_in(node.body)):
                problem(min(a.lineno for a in inner), (
                    "an assert inside `with pytest.raises(...)` never runs once the error is raised (or, if it is "
                    "what raises, hides the claim): put it after the `with` block"))
        elif isinstance(node, ast.Call) and _callee(node) in UNITTEST_RAISES:
            problem(node.lineno, f"`{_callee(node)}` is not a claim here: write "
                                 "`with pytest.raises(Error, match=\"<a fragment of the message>\"):`")
        elif isinstance(node, ast.Call) and _callee(node) in EXITS and (
                isinstance(node.func, ast.Name) and node.func.id in {"exit", "quit"}
                or isinstance(node.func, ast.Attribute) and _name(node.func.value) in {"os", "sys", "signal"}):
            problem(node.lineno, f"`{_name(node.func)}(...)` ends the run before the claims after it: an example "
                                 "must run to its end")
        elif isinstance(node, ast.ImportFrom) and node.module in {"os", "sys", "signal"} and any(
                a.name in EXITS for a in node.names):
            problem(node.lineno, "importing a function that ends the process: an example must run to its end")
        elif isinstance(node, ast.Name) and node.id.startswith(RESERVED) or (
                isinstance(node, ast.Attribute) and node.attr.startswith(RESERVED)) or (
                isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(RESERVED)):
            problem(node.lineno, "names starting with `__claim` or `__mutants__` belong to the checker")
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                (name or "").split(".")[0] in CHECKER_MODULES
                for name in [getattr(node, "module", None), *(a.name for a in node.names)]):
            problem(node.lineno, "an example must not import the checker (spec_tests, pytest's internals): it "
                                 "shows TensorFlow, and only pytest.raises / pytest.warns from pytest")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"eval", "exec",
                                                                                                "compile"}:
            problem(node.lineno, f"`{node.func.id}(...)` runs code the reader cannot see and the checks cannot "
                                 "read: write the code itself")
        if (where := _changes_module(node, modules)) is not None:
            problem(node.lineno, f"`{where}` changes a module every example shares (it would leak into the "
                                 "examples after this one): keep the change in a variable of your own")
        if is_raises(node):
            if id(node) not in raises_calls:
                problem(node.lineno, "write `with pytest.raises(Error, match=\"...\"):` around the code that fails "
                                     "(not pytest.raises called as a function)")
            expected = node.args[0] if node.args else None
            kinds = expected.elts if isinstance(expected, ast.Tuple) else [expected]
            if expected is None or any(_name(k).rsplit(".", 1)[-1] in TOO_BROAD for k in kinds):
                problem(node.lineno, (
                    "`pytest.raises` must name the exact error as its first argument (not Exception or "
                    "BaseException: a typo's AttributeError would satisfy it)"))
            match = next((k.value for k in node.keywords if k.arg == "match"), None)
            if isinstance(match, ast.Call) and match.args:  # re.escape("...")
                match = match.args[0]
            if match is None or isinstance(match, ast.Constant) and match.value is None:
                problem(node.lineno, "`pytest.raises` needs `match=\"<a stable fragment of the message>\"`")
            elif isinstance(match, ast.Constant) and isinstance(match.value, str) and _weak_match(match.value):
                problem(node.lineno, f"`match={match.value!r}` matches any message (or the message of a typo): give "
                                     "a fragment of the real one, with the name it is about")
    return sorted(set(problems), key=lambda p: (p.line, p.message))


# --------------------------------------------------------------------------- checks while the fence runs
TRUTH_GUARD = "__claim_truth__"
LEDGER = "__claim_ledger__"


def _guard(method: str | None, *args) -> ast.Call:
    func = ast.Name(TRUTH_GUARD, ast.Load())
    if method:
        func = ast.Attribute(func, method, ast.Load())
    return ast.Call(func, list(args), [])


def _ledger(method: str, line: int) -> ast.Expr:
    return ast.Expr(ast.Call(ast.Attribute(ast.Name(LEDGER, ast.Load()), method, ast.Load()),
                             [ast.Constant(line)], []))


def _peel(test):
    """``bool(x)`` and ``not not x`` test the truth of x."""
    while True:
        if _callee(test) == "bool" and isinstance(test.func, ast.Name) and len(test.args) == 1 and not test.keywords:
            test = test.args[0]
        elif (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.UnaryOp)
              and isinstance(test.operand.op, ast.Not)):
            test = test.operand.operand
        else:
            return test


class GuardTruthiness(ast.NodeTransformer):
    """Rewrites a fence so that its claims are checked as they run (see ``claim_truth``):

    - ``assert x`` becomes ``assert __claim_truth__(x)``: ``x`` must be a real boolean;
    - ``all(...)`` / ``any(...)`` inside an assert must range over at least one item;
    - ``pytest.raises(E, match=m)``: E and m are checked as values;
    - each claim is entered and left in a ledger, checked when the fence ends: a claim that
      started and never finished (something caught its AssertionError) fails the fence, and so
      does a fence (a notebook cell) none of whose claims ran.
    """

    def visit_Module(self, node):
        cells = getattr(node, "claim_cells", None) or ((1, 10 ** 9),)
        lines = sorted({c.line for c in claims(node)})
        plan = [(first, last, [line for line in lines if first <= line <= last]) for first, last in cells]
        self.generic_visit(node)
        at = 0  # after a docstring and `from __future__` imports
        while at < len(node.body) and (
                isinstance(node.body[at], ast.ImportFrom) and node.body[at].module == "__future__"
                or at == 0 and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)):
            at += 1
        line = node.body[at].lineno if at < len(node.body) else 1
        start = ast.Assign([ast.Name(LEDGER, ast.Store())], _guard("ledger", ast.Constant(repr(plan))))
        end = ast.Expr(ast.Call(ast.Attribute(ast.Name(LEDGER, ast.Load()), "check", ast.Load()), [], []))
        last = max((getattr(n, "end_lineno", None) or n.lineno for n in node.body), default=1)
        for statement, where in ((start, line), (end, last)):
            ast.copy_location(statement, ast.Pass(lineno=where, col_offset=0, end_lineno=where, end_col_offset=0))
        node.body[at:at] = [start]
        node.body.append(end)
        ast.fix_missing_locations(node)
        return node

    def visit_Assert(self, node):
        self.generic_visit(node)
        node.test = Quantifiers().visit(node.test)
        test = _peel(node.test)
        if not is_comparison(test):
            node.test = ast.copy_location(_guard(None, test), node.test)
        statements = [_ledger("enter", node.lineno), node, _ledger("leave", node.lineno)]
        for statement in statements:
            ast.copy_location(statement, node)
            ast.fix_missing_locations(statement)
        return statements

    def visit_With(self, node):
        raises = any(is_raises(i.context_expr) for i in node.items)
        self.generic_visit(node)
        if not raises:
            return node
        statements = [_ledger("enter", node.lineno), node, _ledger("leave", node.lineno)]
        for statement in statements[::2]:
            ast.copy_location(statement, node)
            ast.fix_missing_locations(statement)
        return statements

    def visit_Call(self, node):
        self.generic_visit(node)
        if is_raises(node):
            if node.args:
                node.args[0] = ast.copy_location(_guard("expected", node.args[0]), node.args[0])
            for keyword in node.keywords:
                if keyword.arg == "match":
                    keyword.value = ast.copy_location(_guard("pattern", keyword.value), keyword.value)
            node = ast.copy_location(_guard("pytests", node), node)  # it must be pytest's own raises
            ast.fix_missing_locations(node)
        return node


class Quantifiers(ast.NodeTransformer):
    """Inside a claim, ``all(xs)`` / ``any(xs)`` become ``__claim_truth__.quantifier("all", xs)``."""

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in {"all", "any"} and len(node.args) == 1 \
                and not node.keywords:
            return ast.fix_missing_locations(ast.copy_location(
                _guard("quantifier", ast.Constant(node.func.id), node.args[0]), node))
        return node


def _where(depth: int = 2) -> str:
    """``page:line`` of the fence code that called the guard."""
    frame = sys._getframe(depth)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _fail(message: str, depth: int = 3):
    from spec_tests.core.run import FenceError

    raise FenceError(f"{_where(depth)}: {message}")


ARRAY_MODULES = ("numpy", "tensorflow", "keras", "tf_keras", "jax", "jaxlib")


def claim_truth(value):
    """The guard itself (put in each fence's namespace under ``TRUTH_GUARD``): a bool, a NumPy bool,
    or a boolean array or tensor (of NumPy, TensorFlow, Keras, JAX) of one element."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    dtype, size = getattr(value, "dtype", None), getattr(value, "size", None)
    if type(value).__module__.split(".")[0] in ARRAY_MODULES and dtype is not None and "bool" in str(dtype) and (
            size is None or callable(size) or int(size) == 1):
        return bool(value)
    _fail(f"a claim that cannot fail: the assert tests the truth of a {type(value).__name__} value "
          "(any non-empty value passes): compare it with the value you expect")


def _quantifier(kind: str, items):
    items = list(items)
    if not items:
        _fail(f"a claim that cannot fail: `{kind}(...)` ranges over nothing here, so it says nothing "
              f"(`all` of nothing is True, `not any` of nothing is True): check that there is something to "
              "range over first, e.g. `len(...) == n`")
    return (all if kind == "all" else any)(items)


def _expected(kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for k in kinds:
        if k in (BaseException, Exception, Warning, object):
            _fail(f"`pytest.raises({k.__name__})` would accept any error, a typo's AttributeError too: name the "
                  "exact error")
    return kind


def _pattern(pattern):
    text = getattr(pattern, "pattern", pattern)
    if not isinstance(text, str) or _weak_match(text):
        _fail(f"`match={pattern!r}` matches any message (or the message of a typo): give a fragment of the real "
              "one, with the name it is about")
    return pattern


def _pytests(context):
    """What ``pytest.raises(...)`` returned: pytest's own checker, not a stand-in a fence made."""
    if not type(context).__module__.startswith("_pytest."):
        _fail(f"`raises(...)` here gave a {type(context).__name__}, not pytest's: use `pytest.raises` itself")
    return context


class Ledger:
    """Which claims of a fence started and finished; checked when the fence ends."""

    def __init__(self, plan: str):
        self.plan = ast.literal_eval(plan)  # [(first, last, [claim lines]), ...] per cell
        self.entered: dict[int, int] = {}
        self.left: dict[int, int] = {}
        self.page = sys._getframe(1).f_code.co_filename

    def enter(self, line):
        self.entered[line] = self.entered.get(line, 0) + 1

    def leave(self, line):
        self.left[line] = self.left.get(line, 0) + 1

    def check(self):
        from spec_tests.core.run import FenceError

        broken = sorted(line for line, n in self.entered.items() if self.left.get(line, 0) != n)
        if broken:
            raise FenceError("\n".join(
                f"{self.page}:{line}: this claim failed (or raised) but the example went on: something caught "
                "its error; a claim must be able to fail the example (take it out of the try/except or "
                "context manager that swallows it)" for line in broken))
        for first, last, lines in self.plan:
            if lines and not any(self.left.get(line) for line in lines):
                what = "notebook cell" if len(self.plan) > 1 else "example"
                raise FenceError(f"{self.page}:{lines[0]}: none of this {what}'s claims ran (line"
                                 f"{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}): a claim that never "
                                 "runs proves nothing (a branch not taken, a function never called, a loop over "
                                 "nothing, or code after the error inside `pytest.raises`)")


claim_truth.ledger = Ledger
claim_truth.quantifier = _quantifier
claim_truth.expected = _expected
claim_truth.pattern = _pattern
claim_truth.pytests = _pytests


# --------------------------------------------------------------------------- stand-ins
class Dummy:
    """Whatever is asked of it, a fresh Dummy (never equal to anything but itself)."""

    def __init__(self, *args, **kwargs):  # (a class a fence derives from a stand-in is made like one)
        pass

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

    def __mro_entries__(self, bases):  # `class Net(tf.Module)`: a Dummy too, so code runs on to the claims
        return (Dummy,)

    def __ne__(self, other):  # like ==, never true: a claim `tf... != x` fails on stand-ins too
        return False

    def __lt__(self, other):
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __int__(self):  # code around the claims keeps running; the claims get values TensorFlow never gave
        return 0

    __index__ = __int__

    def __float__(self):
        return 0.0

    def __format__(self, spec):
        return "stand-in"

    def __array__(self, dtype=None, copy=None):  # to NumPy, an opaque value equal to nothing (not an empty list)
        import numpy as np

        value = np.empty((), dtype=object)
        value[()] = object()
        return value

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __matmul__ = __call__
    __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __pow__ = __rmatmul__ = __call__
    __neg__ = __pos__ = __abs__ = __call__


class StandInModule(types.ModuleType):
    __version__ = "0.0.0"  # a release no claim is about (code that reads the version runs on)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in ("__internal__", "__operators__"):
            raise AttributeError(name)  # (Python's own: the import system asks for them)
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


class UnpackStandIns(ast.NodeTransformer):
    """With stand-ins, ``a, b = tf.split(...)`` gives each name a stand-in (a Dummy has no length)."""

    def visit_Assign(self, node):
        self.generic_visit(node)
        sizes = [len(t.elts) for t in node.targets if isinstance(t, (ast.Tuple, ast.List))
                 and not any(isinstance(e, ast.Starred) for e in t.elts)]
        if sizes:
            node.value = ast.copy_location(_guard("unpack", node.value, ast.Constant(sizes[0])), node.value)
            ast.fix_missing_locations(node)
        return node


def _unpack(value, size: int):
    return tuple(Dummy() for _ in range(size)) if isinstance(value, Dummy) else value


claim_truth.unpack = _unpack


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
