"""The generated cheat sheet says what the rule pages prove (each expectation names its rule)."""

import pytest

from spec_tests.generated import cheat_sheet, cheat_sheet_today, name_tree_markdown

EXPECTED = {  # (api, context): (name or error, the rule page that proves it)
    ("op", "none"): ("c:0", "NM-1"),
    ("op", "ns"): ("s/c:0", "NS-1"),
    ("op", "ns2"): ("s_1/c:0", "NS-2"),
    ("op", "vs"): ("s/c:0", "VS-1"),
    ("op", "vs2"): ("s_1/c:0", "VS-2"),
    ("op", "vs2r"): ("s_1/c:0", "VS-2"),
    ("var", "none"): ("v:0", "NM-7"),
    ("var", "ns"): ("s/v:0", "GV-1"),
    ("var", "ns2"): ("s_1/v:0", "NS-2"),
    ("var", "vs"): ("s/v:0", "GV-3"),
    ("var", "vs2"): ("s_1/v:0", "GV-3"),
    ("var", "vs2r"): ("s_1/v:0", "MX-2"),
    ("get", "none"): ("w:0", "GV-2"),
    ("get", "ns"): ("w:0", "GV-1"),
    ("get", "ns2"): ("ValueError: Variable w already exists", "RU-1"),
    ("get", "vs"): ("s/w:0", "GV-2"),
    ("get", "vs2"): ("ValueError: Variable s/w already exists", "RU-1"),
    ("get", "vs2r"): ("s/w:0", "RU-2"),
}


NO_NAME = "raises AttributeError: Tensor.name is undefined when eager execution is enabled"
ONE_TRACE = "raises ValueError: tf.function only supports singleton tf.Variables created on the first call"
EXPECTED_TODAY = {  # (call, setting): (each entry's name, or where it raised; the rule that proves it)
    ("op", "graph"): (["s/c:0", "s_1/c:0"], "VS-2"),
    ("op", "eager"): ([NO_NAME], "EG-1"),
    ("op", "function"): (["s/c:0", "s_1/c:0"], "FN-1"),
    ("op", "keras"): ([NO_NAME], "EG-1"),
    ("var", "graph"): (["s/v:0", "s_1/v:0"], "GV-3"),
    ("var", "eager"): (["s/v:0", "s/v:0"], "EG-2"),
    ("var", "function"): ([ONE_TRACE], "FN-3"),
    ("var", "keras"): (["s/v:0", "s/v:0"], "EG-2"),
    ("get", "graph"): (["s/w:0", "raises ValueError: Variable s/w already exists, disallowed"], "RU-1"),
    ("get", "eager"): (["w:0", "w:0"], "V2-4"),
    ("get", "function"): (["w:0", "raises AttributeError: Tensor.op is undefined when eager execution is enabled"],
                          "FN-4"),
    ("get", "keras"): (["w:0", "w:0"], "VE-3"),
    ("dense", "graph"): (["s/d/kernel:0", "s_1/d/kernel:0"], "GV-3"),
    ("dense", "eager"): (["s/d/kernel:0", "s/d/kernel:0"], "K3-4"),
    ("dense", "function"): ([ONE_TRACE], "FN-3"),
    ("dense", "keras"): (["kernel / s/d/kernel", "kernel / s/d/kernel"], "K3-4"),
}


@pytest.fixture(scope="module")
def table():
    return cheat_sheet()


@pytest.fixture(scope="module")
def today():
    return cheat_sheet_today()


@pytest.mark.parametrize("cell", EXPECTED, ids=lambda cell: "-".join(cell))
def test_cheat_sheet_cell(table, cell):
    expected, rule = EXPECTED[cell]
    assert table[cell] == expected, f"cheat sheet cell {cell} disagrees with {rule}"


@pytest.mark.parametrize("cell", EXPECTED_TODAY, ids=lambda cell: "-".join(cell))
def test_cheat_sheet_today_cell(today, cell):
    expected, rule = EXPECTED_TODAY[cell]
    assert today[cell] == expected, f"today's cheat sheet, cell {cell}, disagrees with {rule}"


def test_cheat_sheet_today_has_every_cell(today):
    assert set(today) == set(EXPECTED_TODAY), "every (call, setting) of the table is checked against a rule"


def test_name_tree_shows_both_registries():
    graph_svg, store_svg = name_tree_markdown().split("</svg>")[:2]
    assert ">dense/<" in graph_svg and ">dense_1/<" in graph_svg and ">dense_2/<" in graph_svg, "graph names move"
    assert ">dense/<" in store_svg and "dense_1/" not in store_svg, "the variable store has one scope"
    assert ">w<" in store_svg and ">b<" in store_svg, "and the variables w and b in it"


# --------------------------------------------------------------------------- pictures
import re  # noqa: E402

from spec_tests import generated  # noqa: E402

PICTURES = ["name_tree_markdown", "name_tree_reentry_markdown", "name_tree_checkpoint_keys_markdown",
            "name_tree_checkpoint_load_markdown", "three_names_markdown"]


@pytest.fixture(scope="module")
def drawn():
    return {name: getattr(generated, name)() for name in PICTURES}


def svgs(markdown: str) -> list[dict]:
    found = []
    for m in re.finditer(r'<svg [^>]*aria-label="([^"]*)" width="(\d+)"[^>]*viewBox="0 0 (\d+) (\d+)"'
                         r'[^>]*font-size="(\d+)"[^>]*>(.*?)</svg>', markdown, re.S):
        found.append({"label": m[1], "width": int(m[2]), "view": int(m[3]), "font": int(m[5]),
                      "texts": re.findall(r"<text[^>]*>(.*?)</text>", m[6], re.S)})
    return found


@pytest.mark.parametrize("name", PICTURES)
def test_pictures_stay_legible_on_a_phone(drawn, name):
    """Scaled down to a 390 px screen's 358 px column, every picture's text stays >= 12 px, and
    each says in words what it shows."""
    pictures = svgs(drawn[name])
    assert len(pictures) == 2, f"{name}: two pictures side by side"
    for picture in pictures:
        scale = min(1, generated.PHONE_COLUMN / picture["width"])
        assert picture["width"] == picture["view"], "drawn at its own size; the viewBox scales it"
        assert picture["font"] * scale >= 12, f"{name}: {picture['label']!r} would shrink below 12 px"
        assert len(picture["label"]) > 30 and picture["texts"], f"{name}: a picture without words"


def test_reentry_tree_shows_the_suffixed_scopes(drawn):
    by_string, captured = svgs(drawn["name_tree_reentry_markdown"])
    assert {"block/", "block_1/", "inner/", "inner_1/"} <= set(by_string["texts"]), "NS-2: _1 at any depth"
    assert "block_1/" not in captured["texts"] and "a_1" in captured["texts"], (
        "NS-3: the captured block/ is entered again, its second op is suffixed instead")


def test_checkpoint_trees_show_both_sides(drawn):
    keys, paths = svgs(drawn["name_tree_checkpoint_keys_markdown"])
    assert "mlp/ holds dense1/ and dense2/; dense1/ holds b and w" in keys["label"], "CK-1: keys are TF1 names"
    assert "dense1/ holds kernel and bias" in paths["label"], "K3-3: Keras 3 paths"
    keys, names = svgs(drawn["name_tree_checkpoint_load_markdown"])
    assert "dense1/ holds bias and kernel" in keys["label"], "CK-1: keys are TF1 names"
    assert names["texts"] == ["Variable:0"] * 4, "EG-2: eager variables made with no name, outside a name scope"


def test_three_names(drawn):
    sequential, subclassed = svgs(drawn["three_names_markdown"])
    assert ("w.name is kernel, w.path is sequential/dense/kernel, w.value.name is sequential/dense/kernel:0"
            in sequential["label"]), "K3-3: name, path, tf.Variable name"
    assert subclassed["label"].count("w.value.name is net/kernel:0") == 2, "K3-3: two kernels, one tf name"
    assert "w.path is net/dense/kernel" in subclassed["label"] and "w.path is net/dense_1/kernel" in (
        subclassed["label"]), "K3-3: distinct paths"
