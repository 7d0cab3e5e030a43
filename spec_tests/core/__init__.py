"""The verification core: what a fence is, how it is found, how it runs, what its result is.

It knows nothing of pytest or MkDocs: the pytest plugin, mutation testing, the version
matrix, the notebook and the site's hooks are thin adapters over these four things.

- ``fence``: ``Fence`` and the one scan (the site's own renderer), ``Problem``;
- ``fixtures``: the table of fence options (what each does, where it cannot apply, its label);
- ``run``: ``run(fence) -> Outcome``, the process reset and leak checks, ``Worker``, ``Runner``;
- ``results``: the results file, keyed by fence content, and a page's verdict.
"""
