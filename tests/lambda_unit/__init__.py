"""Unit tests of the change monitor Lambda (lambda/change_monitor).

``lambda/`` is a source root, not a package (``lambda`` is a keyword). The project
config puts it on pytest's ``pythonpath``; this package adds it as well, before any
test module imports ``change_monitor``, so the suite also runs on its own.
"""

import sys
from pathlib import Path

_LAMBDA_ROOT = str(Path(__file__).resolve().parents[2] / "lambda")
if _LAMBDA_ROOT not in sys.path:
    sys.path.insert(0, _LAMBDA_ROOT)
