"""The pytest-bdd glue: the plugin's hooks, the session's state, feature collection, xdist and progress lines."""
