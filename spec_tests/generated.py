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
    return pictures(graph_svg, store_svg)


def name_tree_reentry_markdown() -> str:
    """NS-2: a name scope entered twice by its string, and twice by the string captured with `as`."""
    from spec_tests.core.run import import_tensorflow

    tf = import_tensorflow()
    v1 = tf.compat.v1
    with tf.Graph().as_default() as by_string:
        with v1.name_scope("block"):
            tf.constant(1.0, name="a")
        with v1.name_scope("block"):
            tf.constant(1.0, name="a")
            with v1.name_scope("inner"):
                tf.constant(1.0, name="x")
            with v1.name_scope("inner"):
                tf.constant(1.0, name="x")
    with tf.Graph().as_default() as by_capture:
        with v1.name_scope("block") as block:
            tf.constant(1.0, name="a")
        with v1.name_scope(block):
            tf.constant(1.0, name="a")
    return pictures(
        svg_tree(sorted(op.name for op in by_string.get_operations()),
                 'Op names: name_scope("block") entered twice by its string'),
        svg_tree(sorted(op.name for op in by_capture.get_operations()),
                 "Op names: entered again by the captured string block/"),
    )


def _tf1_mlp_checkpoint(tf, directory, scopes, leaves):
    """A TF1 two-layer network saved by tf.compat.v1.train.Saver: its checkpoint's keys."""
    import os

    v1 = tf.compat.v1
    with tf.Graph().as_default():
        x = tf.ones([2, 3])
        for scope, shape in zip(scopes, ([3, 4], [4, 1])):
            with v1.variable_scope(scope):
                x = tf.matmul(x, v1.get_variable(leaves[0], shape)) + v1.get_variable(leaves[1], shape[1:])
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            path = v1.train.Saver().save(sess, os.path.join(directory, "model.ckpt"))
    return [key for key, _ in tf.train.list_variables(path)]


def name_tree_checkpoint_keys_markdown() -> str:
    """The how-to's TF1 checkpoint (mlp/dense1/w ...) beside the Keras 3 model's weight paths."""
    import tempfile

    import keras

    from spec_tests.core.run import import_tensorflow, reset_process

    tf = import_tensorflow()
    with tempfile.TemporaryDirectory() as tmp:
        keys = _tf1_mlp_checkpoint(tf, tmp, ["mlp/dense1", "mlp/dense2"], ["w", "b"])
    reset_process(tf)
    model = keras.Sequential([
        keras.Input((3,)), keras.layers.Dense(4, name="dense1"), keras.layers.Dense(1, name="dense2"),
    ], name="mlp")
    paths = [w.path for w in model.weights]
    reset_process(tf)
    return pictures(svg_tree(keys, "TF1 checkpoint keys of the weights"),
                    svg_tree(paths, "Keras 3 weight paths (w.path)"))


def name_tree_checkpoint_load_markdown() -> str:
    """The how-to's TF1 checkpoint (dense1/kernel ...) beside the names of the tf.Variables that
    the TF2 model made (no name given, no name scope)."""
    import tempfile

    from spec_tests.core.run import import_tensorflow, reset_process

    tf = import_tensorflow()
    with tempfile.TemporaryDirectory() as tmp:
        keys = _tf1_mlp_checkpoint(tf, tmp, ["dense1", "dense2"], ["kernel", "bias"])

    class Dense(tf.Module):
        def __init__(self, units_in, units_out):
            super().__init__()
            self.kernel = tf.Variable(tf.zeros([units_in, units_out]))
            self.bias = tf.Variable(tf.zeros([units_out]))

    layers = [Dense(3, 4), Dense(4, 1)]
    names = [v.name for layer in layers for v in (layer.kernel, layer.bias)]
    reset_process(tf)
    return pictures(svg_tree(keys, "TF1 checkpoint keys"), svg_tree(names, "Names of the TF2 model's variables"))


def three_names_markdown() -> str:
    """K3-3: the three names of Keras 3 weights: a Sequential model's kernel, and the kernels of a
    subclassed model whose layers are built on its first call."""
    import keras
    import numpy as np

    from spec_tests.core.run import import_tensorflow, reset_process

    tf = import_tensorflow()
    reset_process(tf)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)], name="sequential")
    sequential = [model.weights[0]]
    reset_process(tf)  # new layer-name counters, as in a fresh program

    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.first = keras.layers.Dense(2)
            self.second = keras.layers.Dense(1)

        def call(self, x):
            return self.second(self.first(x))

    net = Net()
    net(np.ones((1, 3), dtype="float32"))
    subclassed = [w for w in net.weights if w.name == "kernel"]
    drawn = pictures(
        svg_three_names([(w.name, w.path, w.value.name) for w in sequential], "A Sequential model's kernel"),
        svg_three_names([(w.name, w.path, w.value.name) for w in subclassed],
                        "A subclassed model's two kernels, built on its first call"),
    )
    reset_process(tf)
    return drawn


# --------------------------------------------------------------------------- pictures
FONT = 14  # px at natural size; a picture is never wider than PHONE_COLUMN / 12 * FONT px, so text
CHAR = 0.62 * FONT  # stays >= 12 px when a 390 px screen (358 px column) scales it down
PHONE_COLUMN = 358


def pictures(*figures: str) -> str:
    """Figures side by side, wrapping on narrow screens (raw HTML: no blank line inside)."""
    return '<div class="name-trees">' + "".join(figures) + "</div>\n"


def _figure(svg_body: str, width: float, height: float, title: str, description: str, kind: str) -> str:
    from html import escape

    width, height = round(width), round(height)
    label = escape(f"{title}. {description}", quote=True)
    return (
        f'<figure class="{kind}-figure"><svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{label}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-size="{FONT}" class="{kind}"><title>{label}</title>{svg_body}</svg>'
        f"<figcaption>{escape(title)}</figcaption></figure>"
    )


def tree_rows(names) -> list[tuple[int, str, bool, int]]:
    """(depth, label, is_scope, parent row or -1) for every scope and name, in order. A scope is
    drawn once; every name is a leaf of its own (two variables may share one eager name)."""
    rows, scopes = [], {}
    for name in names:
        parts = name.split("/")
        parent = -1
        for depth, part in enumerate(parts):
            key = "/".join(parts[: depth + 1])
            if depth < len(parts) - 1:
                if key not in scopes:
                    scopes[key] = len(rows)
                    rows.append((depth, part, True, parent))
                parent = scopes[key]
            else:
                rows.append((depth, part, False, parent))
    return rows


def describe_tree(rows) -> str:
    """The tree in words, for readers who do not see it: "block/ holds a; block_1/ holds ..."."""
    def label(i):
        return rows[i][1] + ("/" if rows[i][2] else "")

    def holds(children):
        names = [label(c) for c in children]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    top = [i for i, row in enumerate(rows) if row[3] == -1]
    parts = [f"{label(i)} holds {holds([c for c, r in enumerate(rows) if r[3] == i])}"
             for i, row in enumerate(rows) if row[2]]
    loose = [label(i) for i in top if not rows[i][2]]
    if loose:
        parts.insert(0, ("at the top: " + holds([i for i in top if not rows[i][2]])))
    return "; ".join(parts) + "."


def svg_tree(names, title: str) -> str:
    """Names as a tree picture: scopes are folders, the last part of each name a leaf."""
    from html import escape

    rows = tree_rows(names)
    step, indent, pad = 1.6 * FONT, 1.5 * FONT, 8
    width = pad + max(indent * d + 18 + CHAR * (len(label) + is_scope) for d, label, is_scope, _ in rows) + pad
    height = pad + step * len(rows)
    out = []
    for i, (depth, label, is_scope, parent) in enumerate(rows):
        x, y = pad + indent * depth, pad + step * (i + 0.7)
        if parent >= 0:
            top = pad + step * (parent + 0.7) + 2
            out.append(f'<path d="M{x - indent + 6:.1f},{top:.1f} V{y - 5:.1f} H{x - 2:.1f}" class="name-tree-edge"/>')
        icon = (f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="9" rx="2" class="name-tree-scope"/>'
                if is_scope else f'<circle cx="{x + 6:.1f}" cy="{y - 5:.1f}" r="4" class="name-tree-leaf"/>')
        out.append(icon + f'<text x="{x + 18:.1f}" y="{y:.1f}">{escape(label + ("/" if is_scope else ""))}</text>')
    return _figure("".join(out), width, height, title, describe_tree(rows), "name-tree")


THREE = ("w.name", "w.path", "w.value.name")


def svg_three_names(weights, title: str) -> str:
    """Each weight's three names, one under the other: the short name under the end of the path
    it ends, scopes in amber, the short name in blue, so what each name leaves out shows."""
    from html import escape

    pad, step, gap = 8, 1.7 * FONT, 2
    x0 = pad + CHAR * (max(map(len, THREE)) + gap)

    def spans(text: str, hidden: int = 0) -> str:
        """text as tspans: its first `hidden` characters invisible (to align the short name)."""
        out = f'<tspan class="three-names-hidden">{escape(text[:hidden])}</tspan>' if hidden else ""
        text = text[hidden:]
        index = text.rsplit(":", 1)[1] if text.count(":") == 1 else None
        body = text[: -len(index) - 1] if index is not None else text
        parts = body.split("/")
        for i, part in enumerate(parts):
            kind = "leaf" if i == len(parts) - 1 else "scope"
            out += f'<tspan class="three-names-{kind}">{escape(part)}</tspan>'
            if i < len(parts) - 1:
                out += '<tspan class="three-names-sep">/</tspan>'
        if index is not None:
            out += f'<tspan class="three-names-sep">:{escape(index)}</tspan>'
        return out

    body, y, said = [], pad, []
    for n, (name, path, tf_name) in enumerate(weights):
        if n:
            y += step * 0.5
        for label, value in zip(THREE, (name, path, tf_name)):
            y += step
            hidden = len(path) - len(name) if label == "w.name" and path.endswith("/" + name) else 0
            base = y - step * 0.3
            body.append(f'<text x="{pad}" y="{base:.1f}" class="three-names-label">{label}</text>'
                        f'<text x="{x0:.1f}" y="{base:.1f}">{spans(path if hidden else value, hidden)}</text>')
        said.append(f"w.name is {name}, w.path is {path}, w.value.name is {tf_name}")
    width = x0 + CHAR * max(max(len(p), len(t)) for _, p, t in weights) + pad
    return _figure("".join(body), width, y + pad, title, "; ".join(said) + ".", "three-names")
