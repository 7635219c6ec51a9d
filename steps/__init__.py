"""drdrill's step vocabulary, registered by the pytest plugin (``dr_infra.bdd.plugin.pytest_plugins``).

Every step function is named ``_`` (pytest-bdd's recommendation) and every pattern is anchored and typed,
so a shorter pattern can never swallow a longer step; ``tests/unit/test_vocabulary.py`` guards against
duplicate texts and ambiguous matches.
"""
