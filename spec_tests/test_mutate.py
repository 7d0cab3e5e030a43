"""The mutation tester (spec_tests/mutate.py), shown on small pages: a real claim kills its
mutants, a claim that cannot fail lets them survive (named by file and line, exit code 1)."""

import textwrap

from spec_tests import mutate

FENCE = "```"


def run(tmp_path, capsys, markdown, *options):
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(markdown))
    code = mutate.main([str(page), *options])
    return code, capsys.readouterr().out, page


def test_a_real_claim_kills_every_mutant(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, f"""
        # Real

        {FENCE} {{ .python }}
        name, count = "layer2_1/Add:0", 2
        assert (name, count) == ("layer2_1/Add:0", 2), "the name and the count"
        assert (count > 1) is True, "more than one"
        {FENCE}
        """)
    assert "page.md: 1 fences, 4 mutants, 4 killed, 0 survived" in out, out
    assert "killed/total = 4/4 = 100.0%" in out, out
    assert code == 0, out


def test_a_claim_that_cannot_fail_is_reported_with_file_and_line(tmp_path, capsys):
    code, out, page = run(tmp_path, capsys, f"""
        # Always true

        {FENCE} {{ .python }}
        x = 1
        assert x == 1 or True, "the message is never mutated"
        {FENCE}
        """)
    assert f"{page}:6: 1 -> 2\n" in out, out
    assert f"{page}:6: True -> False\n" in out, out
    assert "_mut" not in out, "the assert message is not mutated"
    assert "killed/total = 0/2 = 0.0%" in out, out
    assert code == 1, out


def test_pytest_raises_type_and_match_fragment_are_mutated_and_killed(tmp_path, capsys):
    code, out, page = run(tmp_path, capsys, f"""
        # Raises

        {FENCE} {{ .python }}
        import pytest
        with pytest.raises(ValueError, match="bad value"):
            raise ValueError("a bad value")
        {FENCE}
        """)
    assert "1 fences, 2 mutants, 2 killed, 0 survived" in out, out
    assert code == 0, out
    _, listed, _ = run(tmp_path, capsys, page.read_text(), "--list")
    assert f'{page}:6: ValueError -> TypeError\n{page}:6: "bad value" -> "bad valueXYZ"\n' in listed, listed


def test_weak_claims_are_noted_broken_fences_are_not_mutated_keras2_mutants_run_in_a_child(tmp_path, capsys):
    code, out, page = run(tmp_path, capsys, f"""
        # Weak, broken, Keras 2

        {FENCE} {{ .python }}
        assert "a" != "b", "different"
        assert not any(s == "x" for s in ["y"]), "no x"
        {FENCE}

        {FENCE} {{ .python }}
        assert 1 == 2, "a wrong claim"
        {FENCE}

        {FENCE} {{ .python runner:keras2 }}
        import tensorflow as tf
        assert tf.keras.__name__.startswith("tf_keras"), "Keras 2 in the child"
        assert 1 == 1, "a claim to mutate"
        {FENCE}
        """)
    assert f'{page}:5: "b" -> "b_mut"  (compared with !=)\n' in out, out
    assert f'{page}:6: "x" -> "x_mut"  (under `not`)\n' in out, out
    assert f"{page}:9: fails unmutated: AssertionError: a wrong claim" in out, out
    assert "page.md: 3 fences, 5 mutants, 2 killed, 3 survived" in out, out
    assert code == 1, out
