"""Content that the site computes from TensorFlow at build time (see site_hooks.py).

A page asks for it with a marker line: ``<!-- generated: cheat-sheet -->`` or
``<!-- generated: name-tree -->``. test_generated.py checks the same data against the rules.
"""

from __future__ import annotations

CONTEXTS = {
    "none": "no scope",
    "ns": '`name_scope("s")`',
    "ns2": '`name_scope("s")` entered again',
    "vs": '`variable_scope("s")`',
    "vs2": '`variable_scope("s")` entered again',
    "vs2r": '`variable_scope("s", reuse=True)` entered again',
}
APIS = {
    "op": '`tf.constant(0, name="c")`',
    "var": '`tf.Variable(0.0, name="v")`',
    "get": '`get_variable("w", [])`',
}


def _make(tf, api):
    if api == "op":
        return tf.constant(0, name="c").name
    if api == "var":
        return tf.Variable(0.0, name="v").name
    return tf.compat.v1.get_variable("w", []).name


def _scope(tf, context, second):
    v1 = tf.compat.v1
    if context.startswith("ns"):
        return v1.name_scope("s")
    if context == "vs2r" and second:
        return v1.variable_scope("s", reuse=True)
    return v1.variable_scope("s")


def cell(api: str, context: str) -> str:
    """The name the API call gets in that context, or the error it raises, in a fresh graph."""
    from spec_tests.core.run import import_tensorflow

    tf = import_tensorflow()
    with tf.Graph().as_default():
        try:
            if context == "none":
                return _make(tf, api)
            if context in ("ns", "vs"):
                with _scope(tf, context, second=False):
                    return _make(tf, api)
            with _scope(tf, context, second=False):
                _make(tf, api)
            with _scope(tf, context, second=True):
                return _make(tf, api)
        except ValueError as error:
            return "ValueError: " + str(error).split(". ")[0].split(",")[0]


def cheat_sheet() -> dict[tuple[str, str], str]:
    return {(api, ctx): cell(api, ctx) for api in APIS for ctx in CONTEXTS}


def cheat_sheet_markdown() -> str:
    table = cheat_sheet()
    head = "| API \\ context | " + " | ".join(CONTEXTS.values()) + " |"
    rule = "|---" * (len(CONTEXTS) + 1) + "|"
    rows = [
        f"| {label} | " + " | ".join(f"`{table[api, ctx]}`" for ctx in CONTEXTS) + " |" for api, label in APIS.items()
    ]
    return "\n".join([head, rule, *rows])


def name_tree_markdown() -> str:
    """Both registries of one small TF1 graph, drawn as folders (scopes) and leaves (names)."""
    from spec_tests.core.run import import_tensorflow

    tf = import_tensorflow()
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph:
        with v1.variable_scope("dense"):
            w = v1.get_variable("w", [2, 2])
            v1.get_variable("b", [2])
            tf.matmul(tf.ones([1, 2]), w, name="matmul")
        with v1.variable_scope("dense", reuse=True):
            tf.matmul(tf.ones([1, 2]), v1.get_variable("w"), name="matmul")
        with v1.name_scope("dense"):
            tf.Variable(0.0, name="step")
        ops = sorted(op.name for op in graph.get_operations() if op.type in ("MatMul", "VarHandleOp"))
        store = sorted(v.name for v in v1.global_variables() if v.op.type == "VarHandleOp" and "step" not in v.name)
    graph_svg = svg_tree(ops, "Graph names: ops, including each variable's VarHandleOp")
    store_svg = svg_tree([v.split(":")[0] for v in store], "Variable store: what get_variable looks up")
    return f'<div class="name-trees" markdown>\n{graph_svg}\n{store_svg}\n</div>\n'


def svg_tree(names, title: str) -> str:
    """Names as a tree picture: scopes are folders, the last part of each name a leaf."""
    from html import escape

    rows, seen = [], set()
    for name in names:
        parts = name.split("/")
        for depth in range(len(parts)):
            key = "/".join(parts[: depth + 1])
            if key not in seen:
                seen.add(key)
                rows.append((depth, parts[depth], depth < len(parts) - 1))
    step, indent = 22, 22
    width = max(16 + 8 * len(title), 40 + max(indent * d + 9 * len(label) for d, label, _ in rows) + 40)
    height = 34 + step * len(rows)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="name-tree"><title>{escape(title)}</title>',
        f'<text x="8" y="16" class="name-tree-title">{escape(title)}</text>',
    ]
    for i, (depth, label, is_scope) in enumerate(rows):
        x, y = 16 + indent * depth, 34 + step * i
        if depth:
            out.append(f'<path d="M{x - indent + 6},{y - 14} V{y - 4} H{x - 2}" class="name-tree-edge"/>')
        icon = f'<rect x="{x}" y="{y - 11}" width="12" height="9" rx="2" class="name-tree-scope"/>' if is_scope else (
            f'<circle cx="{x + 6}" cy="{y - 6}" r="4" class="name-tree-leaf"/>'
        )
        out.append(icon + f'<text x="{x + 18}" y="{y - 2}">{escape(label + ("/" if is_scope else ""))}</text>')
    out.append("</svg>")
    return "".join(out)
