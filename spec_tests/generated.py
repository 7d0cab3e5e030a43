"""Content that the site computes from TensorFlow at build time (see site_hooks.py).

A page asks for it with a marker line: ``<!-- generated: cheat-sheet -->`` or
``<!-- generated: name-tree -->``. test_generated.py checks the same data against the rules.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- today's cheat sheet
# What users write (rows; v1 is tf.compat.v1), run inside a scope named "s" entered twice, in each
# setting (columns).
TODAY_CALLS = {
    "op": '`tf.constant(0, name="c")`',
    "var": '`tf.Variable(0.0, name="v")`',
    "get": '`v1.get_variable("w", [])`',
    "dense": '`keras.layers.Dense(1, name="d")`, its kernel',
}
TODAY_SETTINGS = {  # setting: (column title, the scope it is run in)
    "graph": ("TF1 graph mode", '`v1.variable_scope("s")`'),
    "eager": ("TF2 eager", '`tf.name_scope("s")`'),
    "function": ("inside `tf.function`", '`tf.name_scope("s")`'),
    "keras": ("Keras 3: `name` / `path`", '`keras.name_scope("s")`'),
}


def _today_make(tf, api: str, setting: str) -> str:
    """Run one row's call; the name it gets (for a Keras weight: see TODAY_SETTINGS)."""
    if api == "op":
        return tf.constant(0, name="c").name
    if api == "var":
        return tf.Variable(0.0, name="v").name
    if api == "get":
        return tf.compat.v1.get_variable("w", []).name
    import keras

    layer = keras.layers.Dense(1, name="d")
    layer.build((None, 2))
    kernel = layer.kernel
    return f"{kernel.name} / {kernel.path}" if setting == "keras" else kernel.value.name


def _raised(error: BaseException) -> str:
    """`raises Type: first sentence` (a tf.function error names the original one last)."""
    kind = type(error).__name__
    text = str(error).strip()
    if f"{kind}: " in text:  # tf.function wraps it: "in user code: ... ValueError: message"
        text = text.rsplit(f"{kind}: ", 1)[1]
    text = text.splitlines()[0] if text else ""
    return f"raises {kind}: " + text.split(". ")[0].rstrip(".")


def today_cell(api: str, setting: str) -> list[str]:
    """The call entered twice in a scope "s" of that setting, from a fresh process state: the
    name of each entry, or where it raised (``raises Type: message``, always last)."""
    from spec_tests.core.run import import_tensorflow, reset_process

    tf = import_tensorflow()
    reset_process(tf)
    names: list[str] = []

    def twice(scope):
        for _ in range(2):
            with scope():
                names.append(_today_make(tf, api, setting))

    try:
        if setting == "graph":
            with tf.Graph().as_default():
                twice(lambda: tf.compat.v1.variable_scope("s"))
        elif setting == "eager":
            twice(lambda: tf.name_scope("s"))
        elif setting == "function":
            traced: list[str] = []

            @tf.function
            def traced_twice():
                names.clear()  # the first call may trace twice: keep the last trace
                twice(lambda: tf.name_scope("s"))
                traced[:] = names
                return tf.constant(0)

            traced_twice()
            names[:] = traced
        else:
            import keras

            twice(lambda: keras.name_scope("s"))
    except Exception as error:  # noqa: BLE001 - the error is the cell
        names.append(_raised(error))
    finally:
        reset_process(tf)
    return names


def cheat_sheet_today() -> dict[tuple[str, str], list[str]]:
    return {(api, setting): today_cell(api, setting) for api in TODAY_CALLS for setting in TODAY_SETTINGS}


def _today_text(entries: list[str]) -> str:
    def one(entry):
        if entry.startswith("raises "):
            kind, _, message = entry.removeprefix("raises ").partition(": ")
            return f"raises `{kind}`: {message}"
        return " / ".join(f"`{part}`" for part in entry.split(" / "))  # a Keras weight: name / path

    if len(entries) == 2 and entries[0] == entries[1]:
        return f"{one(entries[0])} both times"
    return ", then ".join(one(e) for e in entries)


def cheat_sheet_today_markdown() -> str:
    table = cheat_sheet_today()
    head = "| You write | " + " | ".join(f"{title}<br>in {scope}" for title, scope in TODAY_SETTINGS.values()) + " |"
    rule = "|---" * (len(TODAY_SETTINGS) + 1) + "|"
    rows = [
        f"| {label} | " + " | ".join(_today_text(table[api, s]) for s in TODAY_SETTINGS) + " |"
        for api, label in TODAY_CALLS.items()
    ]
    return '<div class="cheat-sheet" markdown>\n\n' + "\n".join([head, rule, *rows]) + "\n\n</div>\n"


# --------------------------------------------------------------------------- TF1 graph mode in detail

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
    return '<div class="cheat-sheet" markdown>\n\n' + "\n".join([head, rule, *rows]) + "\n\n</div>\n"


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
