"""Mutation testing (spec_tests/mutate.py), shown on small pages: real claims kill their
mutants; a claim a mutant survives, an assert that never ran, a fence whose claims pass with
TensorFlow replaced by stand-ins, a fence with nothing to mutate: each is named with its file and
line, and the exit code is 1.  The kinds of mutant (literals, dtypes, flipped comparisons,
`is`/`is not`, exception types, match= fragments) are shown on the mutant makers themselves."""

from __future__ import annotations

import ast
import textwrap

import pytest

from spec_tests import mutate
from spec_tests.core.fence import Fence
from spec_tests.core.mutants import Instrument, assert_mutants, rerun_mutants

F = "```"


@pytest.fixture
def mutate_page(tmp_path, capsys):
    """Write a page (or a notebook), run `python -m spec_tests.mutate` on it: (exit code, output, path)."""

    def run(text: str, name: str = "page.md"):
        page = tmp_path / name
        page.write_text(textwrap.dedent(text).lstrip("\n"))
        code = mutate.main([str(page)])
        return code, capsys.readouterr().out, page

    return run


def score(out: str) -> str:
    return out.split("mutants killed/total = ", 1)[1].split(",", 1)[0]


# --------------------------------------------------------------------------- the kinds of mutant
def mutants_of(test: str) -> list[str]:
    return [description for description, _ in assert_mutants(ast.parse(test, mode="eval").body)]


def test_an_assert_is_mutated_in_its_literals_dtypes_and_comparisons():
    assert mutants_of('x.dtype == tf.float64') == ["tf.float64 -> tf.float32", "Eq -> NotEq (flipped)"]
    assert mutants_of('x.dtype is tf.float64') == ["tf.float64 -> tf.float32", "Is -> IsNot (flipped)"]
    assert mutants_of('x is not None') == ["None -> False", "IsNot -> Is (flipped)"]
    assert mutants_of('name == "a:0"') == ["'a:0' -> 'a:0_mut'", "Eq -> NotEq (flipped)"]
    assert mutants_of('0 < n <= 2') == ["0 -> 1", "2 -> 3", "Lt -> GtE (flipped)", "LtE -> Gt (flipped)"]


def test_a_raises_in_the_top_level_is_mutated_in_place_in_its_exception_type_and_match_fragment():
    source = 'import pytest\nwith pytest.raises(ValueError, match="positive integer"):\n    f()\n'
    fence = Fence("page.md", 1, "python", (), source)
    assert rerun_mutants(fence, source) == [], "no rerun: the mutants get the exception the block caught"
    instrument = Instrument()
    text = ast.unparse(instrument.visit(ast.parse(source)))
    assert ("with pytest.raises(ValueError, match='positive integer'):\n"
            "    with __mutants__.caught(2, [('2: ValueError -> TypeError', "
            "lambda: pytest.raises(TypeError, match='positive integer')), "
            "(\"2: 'positive integer' -> 'positive integerXYZ'\", "
            "lambda: pytest.raises(ValueError, match='positive integerXYZ'))]):\n        f()") in text, text
    assert instrument.lines == {2: 2}, "a block that never ran is reported, as an assert that never ran"


@pytest.mark.parametrize("where", [
    "def g():\n    with pytest.raises(ValueError, match='positive integer'):\n        f()\n",
    "try:\n    with pytest.raises(ValueError, match='positive integer'):\n        f()\nexcept TypeError:\n    pass\n",
    "with contextlib.suppress(TypeError):\n    with pytest.raises(ValueError, match='positive integer'):\n        f()\n",
    "with pytest.raises(KeyError):\n    with pytest.raises(ValueError, match='positive integer'):\n        f()\n",
    "with pytest.warns(UserWarning, match='positive integer'):\n    f()\n",
    "with pytest.raises(ValueError, match='positive integer'), as_runtime():\n    f()\n",
    "with pytest.raises(ValueError, match='positive integer', check=lambda e: calls.append(e)):\n    f()\n",
    "with pytest.raises(next(kinds), match='positive integer'):\n    f()\n",
], ids=["in-a-function", "in-a-try", "in-suppress", "in-another-raises", "warns", "with-another-block",
        "check", "argument-with-side-effects"])
def test_a_raises_something_could_catch_around_and_a_warns_are_mutated_by_reruns(where):
    source = f"import contextlib\nimport pytest\n{where}"
    fence = Fence("page.md", 1, "python", (), source)
    found = [d for d, _ in rerun_mutants(fence, source)]
    line = where.split("\n").index(next(r for r in where.split("\n") if "positive integer" in r)) + 3
    assert [d for d in found if "positive integer" in d] == [f"{line}: 'positive integer' -> 'positive integerXYZ'"], found
    instrumented = ast.unparse(Instrument().visit(ast.parse(source)))
    assert instrumented.count("__mutants__.caught") == where.startswith("with pytest.raises(KeyError)"), instrumented


def test_an_assert_with_side_effects_in_its_operands_is_evaluated_once_and_mutated_in_place():
    source = 'assert tf.Variable(2.0, name="w").name == "w:0"\nassert tf.Variable(2.0).dtype is tf.float32\n'
    fence = Fence("page.md", 1, "python", (), source)
    assert rerun_mutants(fence, source) == [], "no rerun: each operand is evaluated once"
    instrument = Instrument()
    text = ast.unparse(instrument.visit(ast.parse(source)))
    assert text.count("tf.Variable(") == 2, "each variable is created once, as in the fence"
    assert "lambda: __operand_1_7_0 == 'w:0_mut'" in text and "lambda: __operand_2_7_0 is tf.float64" in text, text
    assert instrument.lines == {1: 2, 2: 2}, "a literal or dtype changed, and the comparison flipped"


def test_an_assert_with_a_dtype_inside_a_call_or_in_a_class_body_is_mutated_by_reruns():
    source = ('assert tf.zeros([1], tf.float64).dtype.name == "float64"\n'
              'class A:\n    assert tf.constant(1).dtype == tf.int32\n')
    fence = Fence("page.md", 1, "python", (), source)
    assert [d for d, _ in rerun_mutants(fence, source)] == [
        "1: tf.float64 -> (tf.float32)", "1: 'float64' -> \"float64_mut\"",
        "1: tf.zeros([1], tf.float64).dtype.name == 'float64' -> (tf.zeros([1], tf.float64).dtype.name != 'float64')",
        "3: tf.int32 -> (tf.int64)", "3: tf.constant(1).dtype == tf.int32 -> (tf.constant(1).dtype != tf.int32)"]


# --------------------------------------------------------------------------- whole pages
def test_real_claims_kill_every_mutant_here_and_in_the_keras2_child(mutate_page):
    code, out, _ = mutate_page(f"""
        # Real

        {F} {{ .python }}
        import pytest
        import tensorflow as tf

        x = tf.constant(1.0, dtype=tf.float64)
        assert x.dtype == tf.float64, "float64"
        assert x.dtype is tf.float64, "the same DType object"
        assert x.shape.rank == 0, "a scalar"
        with pytest.raises(ValueError, match="positive integer"):
            tf.keras.layers.Dense(-1)
        {F}

        {F} {{ .python }}
        import tensorflow as tf

        assert tf.Variable(2.0, name="w").name == "w:0", "a side effect: mutated by reruns"
        {F}

        {F} {{ .python runner:keras2 }}
        import tf_keras

        assert tf_keras.layers.Dense(1).name == "dense", "Keras 2, mutated in the child"
        {F}
        """)
    assert score(out) == "12/12 = 100.0%", out
    assert "mutation: 3 fences" in out and "survived" not in out, out
    assert code == 0, out


def test_a_claim_a_mutant_survives_is_named_with_file_and_line(mutate_page):
    code, out, page = mutate_page(f"""
        # Survivor

        {F} {{ .python }}
        import tensorflow as tf

        dtype = tf.constant(1).dtype
        assert dtype in (tf.int32, tf.int64), "either integer"
        {F}
        """)
    assert f"survived: {page}:7: tf.int64 -> tf.int32" in out, out
    assert score(out) == "2/3 = 66.7%", out
    assert code == 1, out


def test_a_raises_mutant_survives_in_place_when_a_rerun_would_pass_too(mutate_page):
    code, out, page = mutate_page(f"""
        # Survivor

        {F} {{ .python }}
        import pytest
        import tensorflow as tf

        with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes|Dimensions"):
            tf.zeros([2]) + tf.zeros([3])
        {F}
        """)
    assert f"survived: {page}:7: 'Incompatible shapes|Dimensions' -> 'Incompatible shapes|DimensionsXYZ'" in out, out
    assert score(out) == "1/2 = 50.0%", "the type changed is refused, so that mutant is killed"
    assert code == 1, out


def test_a_raises_mutant_is_made_as_the_block_is_entered_as_a_rerun_makes_it(mutate_page):
    """The body rebinds a name the call reads: the mutated call still reads it as it was."""
    code, out, page = mutate_page(f"""
        # Survivor

        {F} {{ .python }}
        import pytest
        import tensorflow as tf

        pattern = "Input to reshape"
        with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match=pattern):
            pattern = "no such message"
            tf.reshape(tf.zeros([2]), [3])
        {F}
        """)
    assert f"survived: {page}:8: ValueError -> TypeError" in out, "TensorFlow raises InvalidArgumentError, still listed"
    assert code == 1, out


def test_a_raises_in_a_loop_counts_each_mutant_once_killed_if_any_turn_refused(mutate_page):
    code, out, page = mutate_page(f"""
        # Loop

        {F} {{ .python }}
        import numpy as np
        import pytest
        import tensorflow as tf

        for reshape in [tf.reshape, np.reshape]:
            with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match="reshape"):
                reshape(tf.zeros([2]), [3])
        {F}
        """)
    assert score(out) == "3/3 = 100.0%", "each type is refused in one turn (a rerun fails there); the match in both"
    assert code == 0, out


def test_a_class_body_assert_is_rerun_so_a_name_error_kills_no_mutant(mutate_page):
    code, out, page = mutate_page(f"""
        # Class body

        {F} {{ .python }}
        import tensorflow as tf


        class Probe:
            dtype = tf.constant(1).dtype
            assert dtype in (tf.int32, tf.int32), "int32"
        {F}
        """)
    assert f"survived: {page}:9: tf.int32 -> (tf.int64)" in out, out
    assert code == 1, out


def test_an_assert_that_never_ran_is_reported(mutate_page):
    code, out, page = mutate_page(f"""
        # Unreached

        {F} {{ .python }}
        import tensorflow as tf

        x = tf.constant(1)
        assert x.dtype == tf.int32, "int32"
        for v in []:
            assert v.dtype == tf.float32, "a loop over nothing"
        for v in x.shape:
            assert v.name.startswith("d"), "no mutant of its own, but it must run"
        {F}
        """)
    assert f"{page}:9: this claim never ran, so its 2 mutants were never tried" in out, out
    assert f"{page}:11: this claim never ran" in out, out
    assert code == 1, out


def test_a_claim_that_passes_with_tensorflow_replaced_by_stand_ins_is_reported(mutate_page):
    code, out, page = mutate_page(f"""
        # Not about TensorFlow

        {F} {{ .python }}
        import tensorflow as tf

        size = int(tf.size(tf.constant([1, 2])))  # stand-ins let this line run on
        label = "two"
        assert label == "two", "a Python value, computed without TensorFlow"
        {F}

        {F} {{ .python }}
        import tensorflow as tf

        assert tf.constant(1).dtype != tf.constant(1.0).dtype, "a claim about TensorFlow, with !="
        assert len(tf.constant([1, 2]).shape) == 1, "rank 1"
        {F}
        """)
    assert out.count("replaced by stand-ins") == 1, out
    assert (f"{page}:4: passes with TensorFlow, Keras and tf_keras replaced by stand-ins: its claims are not "
            "about TensorFlow") in out, out
    assert code == 1, out


def test_a_fence_with_nothing_to_mutate_is_reported(mutate_page):
    code, out, page = mutate_page(f"""
        {F} {{ .python }}
        import tensorflow as tf

        assert tf.executing_eagerly(), "eager"
        {F}
        """)
    assert f"{page}:2: nothing to mutate: no literal compared, no pytest.raises" in out, out
    assert code == 1, out


def test_a_claim_that_cannot_fail_fails_before_any_mutant(mutate_page):
    code, out, page = mutate_page(f"""
        {F} {{ .python }}
        import tensorflow as tf

        x = tf.constant(1)
        assert x.dtype == tf.int32 or True, "always"
        {F}
        """)
    assert f"{page}:2: fails unmutated (in reverse order): {page}:5: a claim that cannot fail: `or` with `True`" in out
    assert code == 1, out


NOTEBOOK = """\
    # ---
    # jupyter:
    #   jupytext:
    #     formats: py:percent
    #     text_representation:
    #       extension: .py
    #       format_name: percent
    # ---

    # %%
    import tensorflow as tf

    # %%
    x = tf.constant(1)
    assert x.dtype == tf.int32, "int32"
    """


def test_the_notebook_is_mutated_too(mutate_page):
    code, out, _ = mutate_page(NOTEBOOK, "nb.py")
    assert score(out) == "2/2 = 100.0%", out
    assert code == 0, out


def test_a_notebook_cell_whose_claim_cannot_fail_is_reported(mutate_page):
    code, out, page = mutate_page(NOTEBOOK.replace('tf.int32, "int32"', 'tf.float32 or True, "always"'), "nb.py")
    assert f"{page}:15: a claim that cannot fail: `or` with `True`" in out, out
    assert code == 1, out


BEFORE_CLAIMS = "fails on stand-ins before its claims (line {}): cannot tell whether they are about TensorFlow"


@pytest.mark.parametrize(("code", "reported"), [
    pytest.param('values = {v.name: v for v in [tf.Variable(1.0, name="w")]}\nlabel = values["w:0"].name\n'
                 'assert label == "w:0", "the variable\'s name"', BEFORE_CLAIMS.format(5), id="a-lookup-fails"),
    pytest.param("n = int(tf.size(tf.constant([1, 2])))\nhalf = 2 // n\nassert half == 1, \"Python arithmetic\"",
                 BEFORE_CLAIMS.format(5), id="arithmetic-fails"),
    pytest.param('for t in tf.unstack(tf.constant([1, 2])):\n    assert t.dtype == tf.int32, "each slice is int32"',
                 BEFORE_CLAIMS.format(5), id="a-loop-over-nothing-runs-no-claim"),
    pytest.param('first, second = tf.split(tf.constant([1, 2]), 2)\nlabel = "two"\n'
                 'assert label == "two", "a Python value, computed without TensorFlow"',
                 "passes with TensorFlow, Keras and tf_keras replaced by stand-ins", id="unpacking-runs-on"),
])
def test_a_fence_that_fails_on_stand_ins_before_any_claim_is_reported(mutate_page, code, reported):
    """A fence is about TensorFlow when a claim fails on stand-ins, not when code around its claims does:
    that is reported (stand-ins unpack into stand-ins, so that code runs on to the claims where it can)."""
    exit_code, out, page = mutate_page(f"{F} {{{{ .python }}}}\nimport tensorflow as tf\n\n{code}\n{F}\n")
    assert f"{page}:2: {reported}" in out, out
    assert exit_code == 1, out


def test_a_fence_whose_claim_fails_on_stand_ins_after_other_code_is_not_reported(mutate_page):
    exit_code, out, page = mutate_page(f"""
        {F} {{ .python }}
        import tensorflow as tf

        first, second = tf.split(tf.constant([1, 2, 3, 4]), 2)
        assert first.numpy().tolist() == [1, 2], "the first half"
        {F}
        """)
    assert "stand-ins" not in out, out
    assert exit_code == 0, out



def test_with_reuse_a_page_mutated_cleanly_is_not_mutated_again_until_a_fence_changes(tmp_path, capsys,
                                                                                      monkeypatch):
    monkeypatch.setenv("SCOPES_RESULTS", str(tmp_path / "results" / "fences.json"))
    monkeypatch.delenv("SCOPES_FRESH", raising=False)  # set by ./dev test --fresh
    path = tmp_path / "page.md"
    path.write_text(f'{F} {{ .python }}\nimport tensorflow as tf\nassert tf.constant(1).dtype == tf.int32, "int32"\n{F}\n')

    def run(*args):
        code = mutate.main([str(path), *args])
        return code, capsys.readouterr().out

    plain = run()
    assert not (tmp_path / "results" / "mutation.json").exists(), "without --reuse nothing is recorded"
    first, second = run("--reuse"), run("--reuse")
    path.write_text(path.read_text().replace('"int32"', '"an edited message"'))
    edited = run("--reuse")
    monkeypatch.setenv("SCOPES_FRESH", "1")
    fresh = run("--reuse")
    for code, out in (plain, first, edited, fresh):
        assert code == 0 and "reused" not in out and score(out) == "2/2 = 100.0%", out
    assert second[0] == 0 and score(second[1]) == "2/2 = 100.0%", second[1]
    assert "(1 fences on 1 pages reused: the same text was mutated cleanly before" in second[1], second[1]


def test_with_reuse_a_page_with_a_survivor_is_mutated_again(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SCOPES_RESULTS", str(tmp_path / "results" / "fences.json"))
    path = tmp_path / "page.md"
    path.write_text(f'{F} {{ .python }}\nimport tensorflow as tf\nx = tf.constant(1)\n'
                    f'assert x.dtype == tf.int32 or x.dtype != tf.int32, "cannot fail"\n{F}\n')
    outs = []
    for _ in range(2):
        code = mutate.main([str(path), "--reuse"])
        outs.append((code, capsys.readouterr().out))
    assert [code for code, _ in outs] == [1, 1] and all("reused" not in out for _, out in outs), outs
