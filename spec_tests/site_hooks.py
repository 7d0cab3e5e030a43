"""MkDocs hooks: what the site adds to a page at build time (the fences themselves run in pytest)."""

import re
import sys
from pathlib import Path

# MkDocs loads this file by path and restores sys.path afterwards: import the project's modules now.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from spec_tests import generated  # noqa: E402  (imports TensorFlow only when a page asks for generated content)

GENERATED = re.compile(r"^<!-- generated: (?P<what>[a-z-]+) -->$", re.M)

GRAPH_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<mark>`{3,})[ \t]*\{(?P<attrs>[^}]*\bfixture:graph\b[^}]*)\}[ \t]*$", re.M)
GRAPH_TITLE = "TF1 graph mode · runs inside: with tf.Graph().as_default() as graph:"


def on_page_markdown(markdown, page, config, files):
    """Label every fence that needs the `graph` fixture, so a reader who copies it knows the context."""

    def label(m):
        if "title=" in m["attrs"]:
            return m[0]
        return f'{m["indent"]}{m["mark"]} {{{m["attrs"].rstrip()} title="{GRAPH_TITLE}" }}'

    def generate(m):  # computed from TensorFlow now, never typed (spec_tests/generated.py)
        makers = {"cheat-sheet": generated.cheat_sheet_markdown, "name-tree": generated.name_tree_markdown}
        if m["what"] not in makers:
            raise ValueError(f"{page.file.src_path}: unknown generated block {m['what']!r}")
        return makers[m["what"]]()

    return GENERATED.sub(generate, GRAPH_FENCE.sub(label, markdown))
