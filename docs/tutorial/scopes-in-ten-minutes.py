# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   scopes_options: fixture:keras3
# ---

# %% [markdown]
# # Scopes in ten minutes
#
# A hands-on tour, executed every time the site is built (any error fails the
# build), like every example on this site. Each cell states what it shows with
# an `assert`. [Download this notebook](scopes-in-ten-minutes.ipynb) and run it
# yourself.
#
# We start in TF1 graph mode, where names matter, then see what TF2 kept.

# %%
import tensorflow as tf

v1 = tf.compat.v1

# %% [markdown]
# ## 1. Every op in a graph has a unique name
#
# A tensor's name is its op's name plus the output index. Asking twice for the
# same op name gives `_1`: the graph keeps names unique
# (`tf.Graph.unique_name`).

# %%
graph = tf.Graph()
with graph.as_default():
    a = tf.constant(1.0, name="a")
    a_again = tf.constant(2.0, name="a")

assert a.name == "a:0", "op name 'a', output 0"
assert a_again.name == "a_1:0", "the second 'a' is made unique"

# %% [markdown]
# ## 2. name_scope prefixes op names
#
# Scopes nest with `/`. Entering the same scope string again opens a *new*
# scope, `block_1/`.

# %%
graph = tf.Graph()
with graph.as_default():
    with v1.name_scope("block"):
        with v1.name_scope("inner"):
            x = tf.constant(1.0, name="x")
    with v1.name_scope("block"):
        y = tf.constant(1.0, name="y")

assert x.name == "block/inner/x:0", "nested scopes join with /"
assert y.name == "block_1/y:0", (
    "re-entering by string gives a new, suffixed scope"
)

# %% [markdown]
# ## 3. get_variable ignores name_scope but follows variable_scope
#
# `tf.Variable` is made of ops, so it takes the name scope. `get_variable`
# takes its name from the *variable scope* only.

# %%
graph = tf.Graph()
with graph.as_default():
    with v1.name_scope("ns"):
        plain = tf.Variable(0.0, name="v")
        stored = v1.get_variable("w", shape=[])
    with v1.variable_scope("vs"):
        scoped = v1.get_variable("w", shape=[])

assert plain.op.type == "VarHandleOp", "tf.Variable is an op in the graph"
assert plain.name == "ns/v:0", "tf.Variable follows the name scope"
assert stored.name == "w:0", "get_variable ignores a bare name_scope"
assert scoped.name == "vs/w:0", "get_variable follows the variable scope"

# %% [markdown]
# ## 4. Sharing: reuse looks the name up in the variable store
#
# Creating `tower/w` twice is an error; with `reuse=True` (or `AUTO_REUSE`) the
# second request returns the stored variable. This is how TF1 shares weights
# between two towers.

# %%
import pytest

graph = tf.Graph()
with graph.as_default():
    def tower(inputs):
        with v1.variable_scope("tower", reuse=v1.AUTO_REUSE):
            w = v1.get_variable("w", shape=[2, 2])
            return tf.matmul(inputs, w)

    left = tower(tf.ones([1, 2]))
    right = tower(tf.ones([1, 2]))
    with pytest.raises(ValueError, match="already exists"):
        with v1.variable_scope("tower"):
            v1.get_variable("w", shape=[2, 2])
    with v1.variable_scope("tower", reuse=True):
        fetched = v1.get_variable("w", shape=[2, 2])

assert fetched.name == "tower/w:0", "reuse=True returns the stored tower/w"

# %% [markdown]
# The two towers (and the `reuse=True` request) share one variable, but the
# towers' ops live in different name
# scopes: the variable scope re-enters `tower/` for variables and opens
# `tower_1/` for ops.

# %%
with graph.as_default():
    variables = [v.name for v in v1.global_variables()]
    shared = v1.global_variables()[0]

assert variables == ["tower/w:0"], "one variable, shared by both towers"
assert fetched is shared, "the one returned to the reuse=True request"
assert left.name == "tower/MatMul:0" and right.name == "tower_1/MatMul:0", (
    "ops get a new scope"
)

# %% [markdown]
# ## 5. The picture: two registries
#
# The graph keeps op names; the variable store keeps what `get_variable` looks
# up. List both for the towers above (every variable here came from
# `get_variable`, so the graph's list of variables, `global_variables()`,
# holds the store's names):

# %%
with graph.as_default():
    graph_names = sorted(
        op.name
        for op in graph.get_operations()
        if op.type in ("MatMul", "VarHandleOp")
    )
store_names = [name.split(":")[0] for name in variables]

assert graph_names == ["tower/MatMul", "tower/w", "tower_1/MatMul"], (
    "graph names: the second tower's op moved to tower_1/, the variable not"
)
assert store_names == ["tower/w"], "the variable store: one entry"

# %% [markdown]
# Drawn from those lists when this page is built: scopes are folders (amber),
# ops and variables are leaves (blue). The drawing code is left out of this
# page; it is in the downloadable notebook.

# %% tags=["remove_input"]
from html import escape

from IPython.display import HTML, display


def rows(names):
    """(depth, label) for every scope and name, in order: scopes end in "/"."""
    seen, out = set(), []
    for name in names:
        parts = name.split("/")
        for depth, part in enumerate(parts):
            key = "/".join(parts[: depth + 1])
            if key not in seen:
                seen.add(key)
                scope = depth < len(parts) - 1
                out.append((depth, part + ("/" if scope else "")))
    return out


def described(tree_rows):
    """The tree in words: "tower/ holds MatMul and w; tower_1/ holds ..."."""
    groups, current = [], None
    for depth, label in tree_rows:
        if label.endswith("/"):
            current = [label, []]
            groups.append(current)
        elif current is not None:
            current[1].append(label)
    return "; ".join(f"{scope} holds {' and '.join(leaves)}"
                     for scope, leaves in groups)


def picture(title, tree_rows):
    """A tree as SVG: scopes in amber, leaves (ops, variables) in blue."""
    step, size = 22, 14
    longest = max(len(label) + 2 * depth for depth, label in tree_rows)
    width, height = 40 + 9 * longest, 12 + step * len(tree_rows)
    label = escape(f"{title}: {described(tree_rows)}.", quote=True)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img"'
        f' aria-label="{label}" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-size="{size}"'
        f' font-family="monospace" fill="currentColor"'
        f' style="max-width: 100%; height: auto"><title>{label}</title>'
    ]
    for i, (depth, text) in enumerate(tree_rows):
        x, y = 10 + 22 * depth, 26 + step * i
        color = "#f0b429" if text.endswith("/") else "#3f6ec6"
        parts.append(
            f'<circle cx="{x + 5}" cy="{y - 5}" r="5" fill="{color}"/>'
            f'<text x="{x + 16}" y="{y}">{escape(text)}</text>'
        )
    return "".join(parts) + "</svg>"


graph_rows, store_rows = rows(graph_names), rows(store_names)
assert graph_rows == [
    (0, "tower/"),
    (1, "MatMul"),
    (1, "w"),
    (0, "tower_1/"),
    (1, "MatMul"),
], "two op scopes"
assert store_rows == [(0, "tower/"), (1, "w")], (
    "one entry in the variable store"
)
display(HTML(
    '<div style="display: flex; flex-wrap: wrap; gap: 0 2rem">'
    f"<figure>{picture('Graph names', graph_rows)}"
    "<figcaption>Graph names</figcaption></figure>"
    f"<figure>{picture('Variable store', store_rows)}"
    "<figcaption>Variable store</figcaption></figure></div>"
))

# %% [markdown]
# ## 6. TF2: eager names are labels, sharing is a reference
#
# Eager TensorFlow has no graph to keep names unique and no variable store to
# look up: two variables can carry the same name, and you share a variable by
# holding the object.

# %%
with tf.name_scope("dense"):
    first = tf.Variable(0.0, name="w")
with tf.name_scope("dense"):
    second = tf.Variable(0.0, name="w")

assert first.name == second.name == "dense/w:0", (
    "eager names are not made unique"
)
assert first is not second, "two different variables"

with v1.variable_scope("dense", reuse=True):
    looked_up = v1.get_variable("w", shape=[])
    looked_up_again = v1.get_variable("w", shape=[])

assert looked_up is not looked_up_again, (
    "eager get_variable finds nothing: no store, a new variable each time"
)


class Dense(tf.Module):
    def __init__(self, units, name=None):
        super().__init__(name=name)
        with self.name_scope:
            self.w = tf.Variable(tf.ones([2, units]), name="w")

    def __call__(self, x):
        return tf.matmul(x, self.w)


layer = Dense(3, name="dense")
x = tf.ones([1, 2])
created = []


def record(next_creator, **kwargs):
    created.append(kwargs.get("name"))
    return next_creator(**kwargs)


with tf.variable_creator_scope(record), tf.GradientTape() as tape:
    total = tf.reduce_sum(layer(x)) + tf.reduce_sum(layer(x))
gradient = tape.gradient(total, layer.w)

assert layer.w.name == "dense/w:0", (
    "under with self.name_scope the module's name prefixes its variable"
)
assert created == [], "calling twice creates no variable"
assert gradient.numpy().tolist() == [[2.0, 2.0, 2.0]] * 2, (
    "both calls read layer.w: its gradient counts each call once"
)

# %% [markdown]
# ## 7. Keras 3: name versus path
#
# Keras 3 layers are named `dense`, `dense_1`, … and each weight has a short
# `name` and a `path`. In a model like this one the path tells the weights
# apart.

# %%
import keras

model = keras.Sequential(
    [keras.Input((2,)), keras.layers.Dense(3), keras.layers.Dense(1)]
)

assert [layer.name for layer in model.layers] == ["dense", "dense_1"], (
    "per-class counters"
)
assert [w.name for w in model.weights] == [
    "kernel",
    "bias",
    "kernel",
    "bias",
], "short names repeat"
assert model.weights[2].path == "sequential/dense_1/kernel", (
    "the path tells them apart"
)

# %% [markdown]
# The path is no unique key, though: the layers of a Functional model are
# built outside its scope, so two nested Functional models that each hold a
# layer `d` give two weights the path `d/kernel`.

# %%
def block(name):
    block_inputs = keras.Input((2,))
    outputs = keras.layers.Dense(2, name="d")(block_inputs)
    return keras.Model(block_inputs, outputs, name=name)


inputs = keras.Input((2,))
nested = keras.Model(inputs, block("second")(block("first")(inputs)))

assert [w.path for w in nested.weights] == [
    "d/kernel",
    "d/bias",
    "d/kernel",
    "d/bias",
], "nested Functional models: each path twice"

# %% [markdown]
# ## Where next
#
# - [The one-minute answer](../index.md) and
#   [two registries](../explanation/two-registries.md).
# - [The rule index](../reference/rules.md): every rule, each with executed
#   proof.
