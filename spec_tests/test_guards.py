"""The fence guards, each shown to fail on a deliberately bad page.

Each test writes a small Markdown page into a scratch project and runs pytest on it in this
process (pytester), with the same options and plugin as the real suite.
"""

import textwrap

import pytest

from spec_tests.plugin import import_tensorflow

pytest_plugins = ["pytester"]

FENCE = "```"


@pytest.fixture(scope="session")
def _tensorflow_imported():
    """pytester restores sys.modules after each run and TensorFlow cannot be imported twice,
    so it is imported once, before any pytester snapshot (session fixtures come first)."""
    import_tensorflow()
    import keras  # noqa: F401


@pytest.fixture
def run_page(_tensorflow_imported, pytester):
    """Write `page.md` (and a conftest that loads the plugin), run pytest, return the result."""

    def run(markdown: str):
        pytester.makeconftest('pytest_plugins = ["spec_tests.plugin"]')
        pytester.makefile(".md", page=textwrap.dedent(markdown))
        return pytester.runpytest_inprocess(
            "--markdown-docs", "--markdown-docs-syntax=superfences", "-p", "no:randomly", "-p", "no:cacheprovider"
        )

    return run


def test_a_good_page_runs_one_test_per_fence(run_page):
    result = run_page(f"""
        # Good

        {FENCE} {{ .python }}
        assert 1 + 1 == 2, "arithmetic"
        {FENCE}

        /// tab | In a tab block
        {FENCE} {{ .python fixture:graph }}
        import tensorflow as tf
        assert tf.constant(1.0, name="c").name == "c:0", "graph names"
        {FENCE}
        ///

        {FENCE} {{ .python notest }}
        # not run: shows a sketch that cannot run
        model.fit(...)
        {FENCE}
        """)
    result.assert_outcomes(passed=2)


def test_a_broken_fence_names_file_line_and_the_values_compared(run_page):
    result = run_page(f"""
        # Broken

        {FENCE} {{ .python }}
        name = "layer2/Add:0"
        assert name == "layer2_1/Add:0", "op name"
        {FENCE}
        """)
    result.assert_outcomes(failed=1)
    for expected in ["*page.md::*line:3*", '*page.md", line 5*', "*AssertionError: op name*"]:
        result.stdout.fnmatch_lines([expected])
    result.stdout.fnmatch_lines(["*'layer2/Add:0' == 'layer2_1/Add:0'*"])


def test_a_print_only_fence_fails_with_file_line(run_page):
    result = run_page(f"""
        # Prints

        {FENCE} {{ .python }}
        print("layer2/Add:0")
        {FENCE}
        """)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*page.md:3: this fence states no claim*"])


@pytest.mark.parametrize(
    ("hidden", "problem"),
    [
        pytest.param('=== "Tab"\n\n    {F} {{ .python }}\n    assert True\n    {F}\n', "5: *not collected*", id="content-tab"),
        pytest.param("!!! note\n\n    {F} {{ .python }}\n    assert True\n    {F}\n", "5: *not collected*", id="admonition"),
        pytest.param("{F}pycon\n>>> 1 + 1\n2\n{F}\n", "3: a `pycon` fence is never run*", id="pycon"),
        pytest.param("{F} {{ .py3 }}\nassert True\n{F}\n", "3: a `py3` fence is never run*", id="py3"),
        pytest.param("{F} {{ .python notest }}\nassert True\n{F}\n", "3: a `notest` fence must*", id="notest-no-reason"),
    ],
)
def test_a_fence_that_would_not_run_fails_with_file_line(run_page, hidden, problem):
    result = run_page("# Hidden\n\n" + hidden.format(F=FENCE))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*page.md:{problem}"])


def test_a_fence_that_leaks_eager_mode_fails_and_the_next_fence_is_clean(run_page):
    result = run_page(f"""
        # Leaks

        {FENCE} {{ .python }}
        import tensorflow as tf
        tf.compat.v1.disable_eager_execution()
        assert not tf.executing_eagerly(), "graph mode now"
        {FENCE}

        {FENCE} {{ .python }}
        import tensorflow as tf
        assert tf.executing_eagerly(), "the next fence is eager again"
        {FENCE}
        """)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*page.md:3: the fence leaked eager execution disabled*"])


def test_state_does_not_leak_between_fences(run_page):
    result = run_page(f"""
        # Counters

        {FENCE} {{ .python }}
        import keras
        assert keras.layers.Dense(1).name == "dense", "first Dense"
        {FENCE}

        {FENCE} {{ .python }}
        import keras
        assert keras.layers.Dense(1).name == "dense", "Keras' name counter was reset"
        {FENCE}

        {FENCE} {{ .python fixture:graph }}
        import tensorflow as tf
        with tf.compat.v1.variable_scope("s"):
            tf.compat.v1.get_variable("w", shape=[1])
        assert len(tf.compat.v1.global_variables()) == 1, "one variable"
        {FENCE}

        {FENCE} {{ .python fixture:graph }}
        import tensorflow as tf
        with tf.compat.v1.variable_scope("s"):
            w = tf.compat.v1.get_variable("w", shape=[1])
        assert w.name == "s/w:0", "a fresh graph: no 'already exists'"
        {FENCE}
        """)
    result.assert_outcomes(passed=4)


def test_keras2_fences_run_together_in_one_legacy_keras_process(run_page):
    result = run_page(f"""
        # Keras 2

        {FENCE} {{ .python runner:keras2 }}
        import os
        import tensorflow as tf
        import tf_keras
        assert tf.keras.layers.Dense is tf_keras.layers.Dense, "tf.keras is Keras 2 here"
        assert tf_keras.layers.Dense(1).name == "dense", "first Dense"
        tf_keras.probe_pid = os.getpid()
        {FENCE}

        {FENCE} {{ .python runner:keras2 }}
        import os
        import tf_keras
        assert tf_keras.probe_pid == os.getpid(), "the same child process as the first fence"
        assert tf_keras.layers.Dense(1).name == "dense", "name counters reset between Keras 2 fences"
        assert tf_keras.layers.Dense(1).name == "dense_2", "a wrong claim in the child"
        {FENCE}

        {FENCE} {{ .python }}
        import sys
        import keras
        assert keras.__version__.startswith("3."), "Keras 3 in this process"
        assert not hasattr(sys.modules.get("tf_keras"), "probe_pid"), "the Keras 2 fences ran elsewhere"
        {FENCE}
        """)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*Keras 2 process*", '*page.md", line 17*', "*a wrong claim in the child*"])


def test_keras3_fixture_runs_the_fence_when_keras3_is_installed(run_page):
    result = run_page(f"""
        {FENCE} {{ .python fixture:keras3 }}
        import keras
        assert keras.__version__.startswith("3."), "Keras 3"
        {FENCE}
        """)
    result.assert_outcomes(passed=1)


def test_a_skipped_fence_fails_the_run_on_the_pinned_tensorflow(run_page):
    result = run_page(f"""
        {FENCE} {{ .python }}
        import pytest
        pytest.skip("not applicable: pretends to need another release")
        assert False, "never reached"
        {FENCE}
        """)
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, "n/a is not allowed on the pin"
    result.stdout.fnmatch_lines(["*fences skipped on the pinned TensorFlow*", "*page.md:*: n/a: pretends to need another release*"])


def test_a_nested_session_leaves_the_outer_sessions_runner_state(run_page):
    from spec_tests.plugin import FenceRunner, keras2

    before = (FenceRunner.config, keras2.child, keras2.results)
    result = run_page(f"""
        # Nested

        {FENCE} {{ .python runner:keras2 }}
        assert True, "started a Keras 2 child in the inner session"
        {FENCE}
        """)
    result.assert_outcomes(passed=1)
    after = (FenceRunner.config, keras2.child, keras2.results)
    assert all(a is b for a, b in zip(after, before)), "the outer session's config and Keras 2 child survive"


def test_a_keras2_fence_that_leaks_fails_in_the_child_too(run_page):
    result = run_page(f"""
        # Leaks, Keras 2

        {FENCE} {{ .python runner:keras2 }}
        import tensorflow as tf
        tf.compat.v1.disable_eager_execution()
        assert not tf.executing_eagerly(), "graph mode now"
        {FENCE}
        """)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the fence leaked eager execution disabled*"])
