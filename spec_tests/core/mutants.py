"""Mutants of a fence's claims: each literal a claim compares against, changed, must fail.

Two kinds, both run through ``run``:

- **in place** (every ``assert``): the fence runs once, and right after each assert passes,
  each of its mutants (one literal changed, a dtype swapped, the comparison flipped) is
  evaluated in the same state and must be false.  An assert that never ran (in a loop over
  nothing, a branch not taken) leaves its mutants unkilled: a claim that never ran is no claim.
- **in place** (``with pytest.raises`` in the fence's top level): when the block exits with its
  exception, each mutated ``pytest.raises`` (the exception type or the ``match=`` fragment
  changed) is given that same exception and must refuse it.  That is what a rerun would decide:
  up to that point the rerun runs the same code, and from there its exception propagates to
  the top, as no ``try`` or other catching block encloses it (``raises_in_place``).
- **rerun** (a ``pytest.raises`` inside a function, a class or a catching block; every
  ``pytest.warns``; an assert whose test has side effects): the fence runs again with the one
  change, and must fail.
"""

from __future__ import annotations

import ast
import copy
import dataclasses

from spec_tests.core.claims import _callee, is_raises

RECORDER = "__mutants__"
EXCEPTION_SWAPS = {"ValueError": "TypeError", "TypeError": "ValueError", "AttributeError": "KeyError",
                   "KeyError": "AttributeError", "IndexError": "KeyError", "UserWarning": "DeprecationWarning",
                   "DeprecationWarning": "UserWarning", "NotImplementedError": "ValueError"}
DTYPE_SWAPS = {"float64": "float32", "float32": "float64", "float16": "float32", "bfloat16": "float16",
               "int32": "int64", "int64": "int32", "int16": "int32", "int8": "int16", "uint8": "int8",
               "bool": "int32", "string": "int32", "complex64": "complex128", "complex128": "complex64",
               "resource": "variant", "variant": "resource"}
FLIPS = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
         ast.NotIn: ast.In, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt}


def _literal_constants(node):
    """The constants of a literal operand: 1, "a", None, -1, (1, "a"), [..], {..}, {k: v}."""
    if isinstance(node, ast.Constant) and node.value is not Ellipsis:
        yield node
    elif isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        yield node.operand
    elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for element in node.elts:
            yield from _literal_constants(element)
    elif isinstance(node, ast.Dict):
        for part in [key for key in node.keys if key is not None] + node.values:
            yield from _literal_constants(part)


def _changed(value, identity: bool):
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return value + "_mut"
    if isinstance(value, bytes):
        return value + b"_mut"
    if value is None:
        return False if identity else 0
    return value + 1


def _sites(test: ast.AST):
    """(node, replacement) for each literal and dtype an assert's test compares against."""
    for compare in (n for n in ast.walk(test) if isinstance(n, ast.Compare)):
        for i, operand in enumerate([compare.left, *compare.comparators]):
            ops = compare.ops[max(i - 1, 0): i + 1]
            identity = any(isinstance(op, (ast.Is, ast.IsNot)) for op in ops)
            for constant in _literal_constants(operand):
                yield constant, ast.Constant(_changed(constant.value, identity))
            for attr in (n for n in ast.walk(operand) if isinstance(n, ast.Attribute)):
                if attr.attr in DTYPE_SWAPS:
                    yield attr, ast.Attribute(attr.value, DTYPE_SWAPS[attr.attr], ast.Load())
    for constant in (n for n in ast.walk(test) if isinstance(n, ast.Constant) and isinstance(n.value, bool)):
        yield constant, ast.Constant(not constant.value)


def _replace(tree: ast.AST, target: ast.AST, new: ast.AST) -> ast.AST:
    """A copy of tree with the node at target's position replaced by new."""
    where = (type(target), target.lineno, target.col_offset, target.end_lineno, target.end_col_offset)

    class Swap(ast.NodeTransformer):
        def generic_visit(self, node):
            if (type(node), getattr(node, "lineno", None), getattr(node, "col_offset", None),
                    getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)) == where:
                return ast.copy_location(copy.deepcopy(new), node)
            return super().generic_visit(node)

    return Swap().visit(copy.deepcopy(tree))


def assert_mutants(test: ast.AST) -> list[tuple[str, ast.AST]]:
    """(description, mutated test) for one assert."""
    found, seen = [], set()
    for node, new in _sites(test):
        key = (node.lineno, node.col_offset, ast.dump(new))
        if key in seen:
            continue
        seen.add(key)
        mutated = _replace(test, node, new)
        found.append((f"{ast.unparse(node)} -> {ast.unparse(new)}", mutated))
    for i, op in enumerate(test.ops if isinstance(test, ast.Compare) else []):  # each operator of a chain
        flipped = copy.deepcopy(test)
        flipped.ops[i] = FLIPS[type(op)]()
        found.append((f"{type(op).__name__} -> {type(flipped.ops[i]).__name__} (flipped)", flipped))
    return found


PURE_CALLS = {"len", "sorted", "list", "tuple", "set", "frozenset", "dict", "str", "repr", "type", "isinstance",
              "issubclass", "hasattr", "getattr", "callable", "all", "any", "min", "max", "sum", "abs", "round",
              "bool", "int", "float", "zip", "enumerate", "range", "startswith", "endswith", "keys", "values",
              "items", "split", "rsplit", "lower", "upper", "strip", "numpy", "tolist", "get", "allclose",
              "array_equal", "isclose", "shape", "join", "count", "index", "as_list", "__getitem__"}


def in_place(test: ast.AST) -> bool:
    """Whether evaluating the test again gives what a rerun would: no call with side effects
    (creating a variable or a layer again would change names and counters)."""
    for node in ast.walk(test):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in PURE_CALLS:
                return False
        elif isinstance(node, (ast.Await, ast.NamedExpr, ast.Yield, ast.YieldFrom)):
            return False
    return True


def hoisted(test: ast.AST) -> tuple[list[tuple[str, ast.AST]], ast.AST] | None:
    """A comparison whose operands have side effects (``child() == {...}``), evaluated once:
    (name, operand) for each such operand and the comparison of those names, whose mutants are
    then evaluated in place like any other.  None when it is not that (an operand with a dtype to
    swap inside a call keeps its rerun mutants)."""
    if not isinstance(test, ast.Compare) or in_place(test):
        return None
    names, operands = [], []
    for i, operand in enumerate([test.left, *test.comparators]):
        if in_place(operand):
            operands.append(operand)
            continue
        if any(isinstance(n, ast.Attribute) and n.attr in DTYPE_SWAPS for n in ast.walk(operand)):
            return None
        name = f"__operand_{test.lineno}_{test.col_offset}_{i}"
        names.append((name, operand))
        operands.append(ast.copy_location(ast.Name(name, ast.Load()), operand))
    return names, ast.copy_location(ast.Compare(operands[0], test.ops, operands[1:]), test)


def raises_in_place(tree: ast.AST) -> set[int]:
    """ids of the ``with pytest.raises(...)`` statements whose mutants are evaluated in place: in
    the fence's top level (not in a function or class, whose caller may catch what a mutant lets
    through), not inside a ``try`` with handlers or another catching block, the ``with``'s only
    block (another could change the exception on its way out), and with arguments that read the
    same before and after the body (no call with side effects, no ``check=``: the mutated blocks
    are made when the real one is entered, and each sees the exception once)."""
    found: set[int] = set()

    def visit(body, guarded: bool) -> None:
        for stmt in body:
            if isinstance(stmt, ast.With):
                kinds = [_callee(item.context_expr) for item in stmt.items]
                call = stmt.items[0].context_expr
                if not guarded and kinds == ["raises"] and _plain_arguments(call):
                    found.add(id(stmt))
                visit(stmt.body, guarded or bool({"raises", "suppress"} & set(kinds)))  # they may stop it
            elif isinstance(stmt, (ast.Try, ast.TryStar)):
                visit(stmt.body, guarded or bool(stmt.handlers))
                for part in [*(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]:
                    visit(part, guarded)
            elif isinstance(stmt, (ast.For, ast.While, ast.If)):
                visit(stmt.body, guarded)
                visit(stmt.orelse, guarded)
            elif isinstance(stmt, ast.Match):
                for case in stmt.cases:
                    visit(case.body, guarded)

    visit(tree.body, False)
    return found


def _plain_arguments(call: ast.Call) -> bool:
    values = [*call.args, *(k.value for k in call.keywords)]
    return all(k.arg not in (None, "check") for k in call.keywords) and all(in_place(v) for v in values)


def raises_targets(call: ast.Call) -> list[tuple[ast.AST, str]]:
    """(node, its mutated source) for a pytest.raises / warns call: each exception type swapped,
    and the match= fragment changed."""
    targets = []
    if call.args:
        kinds = call.args[0].elts if isinstance(call.args[0], ast.Tuple) else [call.args[0]]
        for exc in kinds:
            name = ast.unparse(exc).rsplit(".", 1)[-1]
            targets.append((exc, EXCEPTION_SWAPS.get(name, "RuntimeWarning" if name.endswith("Warning") else "ValueError")))
    for keyword in call.keywords:
        value = keyword.value.args[0] if isinstance(keyword.value, ast.Call) and keyword.value.args else keyword.value
        if keyword.arg == "match" and isinstance(value, ast.Constant) and isinstance(value.value, str):
            targets.append((value, repr(value.value + "XYZ")))
    return targets


def _describe(target: ast.AST, text: str) -> str:
    return f"{target.lineno}: {ast.unparse(target).split(chr(10))[0]} -> {text}"


class _Caught:
    """Put inside a ``with pytest.raises`` block: each mutated pytest.raises, made as the block is
    entered (as a rerun would make it), is given the exception on its way to the real one, which
    then goes on."""

    def __init__(self, log, line, mutants):
        self.log, self.line, self.mutants = log, line, mutants

    def __enter__(self):
        self.blocks = []
        for description, make in self.mutants:
            try:
                self.blocks.append((description, make()))
            except Exception:  # a rerun fails here
                self.blocks.append((description, None))
        return self

    def __exit__(self, kind, value, tb):
        if value is not None:  # (no exception: the real block fails the fence)
            self.log.reached.add(self.line)
            for description, block in self.blocks:
                self.log.refused(description, block is None or not _accepts(block, kind, value, tb))
        return False


def _accepts(block, kind, value, tb) -> bool:
    """Whether a (mutated) pytest.raises block takes this exception: a rerun would then go on."""
    try:
        block.__enter__()
        return bool(block.__exit__(kind, value, tb))
    except Exception:  # it fails the fence ("Regex pattern did not match")
        return False


class Instrument(ast.NodeTransformer):
    """After each assert: ``__mutants__(line, [(description, lambda: mutated test), ...])``.

    Every assert is recorded when it runs, so an assert that never ran is reported (a claim that
    never ran is no claim), whether its mutants are evaluated here or by reruns.  Asserts whose
    test calls something that may have side effects, and asserts in a class body (a lambda there
    cannot see the class's names), are mutated by reruns instead (``rerun_mutants``), except a
    comparison whose side effects are all in its operands (``hoisted``): those are evaluated once."""

    def __init__(self):
        self.lines: dict[int, int] = {}  # assert (or pytest.raises) line -> number of its mutants
        self._in_class = False
        self._raises: set[int] = set()

    def visit_Module(self, node):
        self._raises = raises_in_place(node)
        return self.generic_visit(node)

    def visit_With(self, node):
        self.generic_visit(node)
        if id(node) not in self._raises:
            return node
        call = node.items[0].context_expr  # (its only block: raises_in_place)
        pairs = []
        for target, text in raises_targets(call):
            mutated = _replace(call, target, ast.parse(text, mode="eval").body)
            pairs.append(ast.Tuple([ast.Constant(_describe(target, text)), _thunk(mutated)], ast.Load()))
        self.lines[call.lineno] = self.lines.get(call.lineno, 0) + len(pairs)
        # inside the real block, a block that sees its exception first and lets it go on
        probe = ast.Call(ast.Attribute(ast.Name(RECORDER, ast.Load()), "caught", ast.Load()),
                         [ast.Constant(call.lineno), ast.List(pairs, ast.Load())], [])
        inner = ast.With([ast.withitem(probe)], node.body)
        node.body = [ast.copy_location(inner, node.body[0])]
        return ast.fix_missing_locations(node)

    def visit_ClassDef(self, node):
        saved, self._in_class = self._in_class, True
        try:
            return self.generic_visit(node)
        finally:
            self._in_class = saved

    def visit_FunctionDef(self, node):
        saved, self._in_class = self._in_class, False
        try:
            return self.generic_visit(node)
        finally:
            self._in_class = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assert(self, node):
        before = []
        if not self._in_class and (split := hoisted(node.test)):
            names, test = split
            before = [ast.copy_location(ast.Assign([ast.Name(n, ast.Store())], operand), node)
                      for n, operand in names]
            node = ast.copy_location(ast.Assert(test, node.msg), node)
            ast.fix_missing_locations(node)
        here = in_place(node.test) and not self._in_class
        mutants = assert_mutants(node.test) if here else []
        count = len(mutants) if here else len(_rerun_sites(node))
        self.lines[node.lineno] = self.lines.get(node.lineno, 0) + count
        pairs = [ast.Tuple([ast.Constant(f"{node.lineno}: {d}"), _thunk(expr)], ast.Load()) for d, expr in mutants]
        call = ast.Expr(ast.Call(ast.Name(RECORDER, ast.Load()), [ast.Constant(node.lineno), ast.List(pairs, ast.Load())], []))
        ast.copy_location(call, node)
        ast.fix_missing_locations(call)
        return [*before, node, call]


def _thunk(expr: ast.AST) -> ast.Lambda:
    return ast.Lambda(ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]), expr)


class Log:
    """The recorder: evaluates each mutated test where the real assert just passed, and each
    mutated pytest.raises on the exception the real one caught.  A pytest.raises that runs more
    than once (in a loop) counts each mutant once, killed if any turn refused the exception, as
    a rerun would fail at that turn."""

    def __init__(self):
        self.reached: set[int] = set()
        self._killed = 0
        self._survivors: list[str] = []
        self._refused: dict[str, bool] = {}  # mutated pytest.raises -> refused in some turn

    @property
    def killed(self) -> int:
        return self._killed + sum(self._refused.values())

    @property
    def survivors(self) -> list[str]:
        return self._survivors + [d for d, refused in self._refused.items() if not refused]

    def __call__(self, line, mutants):
        self.reached.add(line)
        for description, mutated in mutants:
            try:
                survived = bool(mutated())
            except Exception:  # a mutated claim that raises fails too
                survived = False
            if survived:
                self._survivors.append(description)
            else:
                self._killed += 1

    def refused(self, description: str, refused: bool) -> None:
        self._refused[description] = self._refused.get(description, False) or refused

    def caught(self, line, mutants):
        return _Caught(self, line, mutants)


def _literal_text(text: str, value, identity: bool) -> str:
    """The mutated source of a literal: strings keep their prefix and quotes."""
    if isinstance(value, (str, bytes)) and not isinstance(value, bool):
        quotes = 3 if text.endswith(('"""', "'''")) else 1
        return text[:-quotes] + "_mut" + text[-quotes:]
    return repr(_changed(value, identity))


def _rerun_sites(node: ast.Assert) -> list[tuple[ast.AST, ast.AST]]:
    """(node, replacement) for an assert mutated by reruns: each literal and dtype it compares
    against, and each comparison operator flipped (the replacement is then the whole test)."""
    sites = []
    for compare in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
        for i, operand in enumerate([compare.left, *compare.comparators]):
            identity = any(isinstance(op, (ast.Is, ast.IsNot)) for op in compare.ops[max(i - 1, 0): i + 1])
            for constant in _literal_constants(operand):
                sites.append((constant, ast.Constant(_changed(constant.value, identity))))
            for attr in (n for n in ast.walk(operand) if isinstance(n, ast.Attribute) and n.attr in DTYPE_SWAPS):
                sites.append((attr, ast.Attribute(attr.value, DTYPE_SWAPS[attr.attr], ast.Load())))
    if isinstance(node.test, ast.Compare):
        for i, op in enumerate(node.test.ops):
            flipped = copy.deepcopy(node.test)
            flipped.ops[i] = FLIPS[type(op)]()
            sites.append((node.test, flipped))
    return sites


def rerun_mutants(fence, source: str) -> list[tuple[str, object]]:
    """(description, mutated fence) for what cannot be evaluated in place: each exception type and
    match= fragment of a pytest.warns, and of a pytest.raises not in ``raises_in_place``, and each
    literal, dtype and comparison of an assert whose test has side effects (or that sits in a
    class body)."""
    tree = ast.parse(source)
    lines = source.split("\n")
    found = []
    in_class = {id(n) for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for n in c.body}
    here = raises_in_place(tree)
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assert) and (id(node) in in_class
                                             or not (in_place(node.test) or hoisted(node.test))):
            for target, new in _rerun_sites(node):
                segment = ast.get_source_segment(source, target)
                if isinstance(target, ast.Constant) and isinstance(target.value, (str, bytes)) and segment:
                    targets.append((target, _literal_text(segment, target.value, False)))
                elif isinstance(new, ast.Constant):
                    targets.append((target, repr(new.value)))
                else:
                    targets.append((target, f"({ast.unparse(new)})"))
        if not isinstance(node, ast.With):
            found += _apply(fence, lines, targets)
            continue
        for call in (i.context_expr for i in node.items if is_raises(i.context_expr)):
            if id(node) not in here:
                found += _apply(fence, lines, raises_targets(call))
    return found


def _apply(fence, lines: list[str], targets) -> list[tuple[str, object]]:
    found = []
    for target, text in targets:
        first = lines[target.lineno - 1].encode()  # ast offsets are in UTF-8 bytes
        last = lines[target.end_lineno - 1].encode()
        new_row = (first[:target.col_offset] + text.encode() + last[target.end_col_offset:]).decode()
        code_lines = lines[:target.lineno - 1] + [new_row] + lines[target.end_lineno:]
        code = "\n".join(code_lines[fence.line - 1:])
        found.append((_describe(target, text), dataclasses.replace(fence, code=code)))
    return found
