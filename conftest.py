# Fences in docs/ need the plugin registered at the root; everything lives in spec_tests/.
pytest_plugins = ["spec_tests.plugin"]
