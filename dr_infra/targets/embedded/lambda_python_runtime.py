"""What a Python function can import: its own package, and what AWS's Python runtime ships - nothing else.

What AWS does (https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html,
https://docs.aws.amazon.com/lambda/latest/dg/python-package.html,
https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html#packaging-layers-paths): a Python function's
``sys.path`` is its deployment package (``/var/task``), its layers (``/opt/python``), and the runtime: the
standard library plus the AWS SDK for Python (``boto3``, ``botocore`` and their dependencies ``jmespath``,
``s3transfer``, ``dateutil``, ``six``, ``urllib3``). Importing anything else fails at Init with
``Runtime.ImportModuleError`` ("Unable to import module 'handler': No module named 'yaml'"), in the invocation
result and in the function's log.

What is modelled: the worker runs the interpreter that runs drdrill with ``-S -s`` (no site-packages, no
``.pth`` files) and, instead of the interpreter's site-packages, one folder per process holding links to
exactly :data:`RUNTIME_PACKAGES` (the copies installed next to drdrill, so boto3's version is drdrill's, not
the one AWS's runtime pins). moto, tenacity, requests, yaml, pytest - everything else installed for drdrill -
cannot be imported, so a function that imports something it does not ship fails here as on AWS. Not modelled:
layers (a function with ``Layers`` runs without them), and the interpreter version: whatever ``Runtime`` says,
the function runs under :func:`interpreter` (the journal notes a mismatch, :mod:`dr_infra.drill.state`).
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import threading
from pathlib import Path

RUNTIME_PACKAGES: tuple[str, ...] = ("boto3", "botocore", "jmespath", "s3transfer", "dateutil", "six", "urllib3")
"""Top-level modules AWS's Python runtimes provide besides the standard library."""

_lock = threading.Lock()
_folder: str | None = None


def interpreter() -> str:
    """The ``Runtime`` identifier of the interpreter functions run under here, e.g. ``python3.11``."""
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def _location(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin) if spec.origin else None


def packages_folder() -> str:
    """A folder holding links to :data:`RUNTIME_PACKAGES` only (made once per process)."""
    global _folder
    with _lock:
        if _folder is None:
            folder = Path(tempfile.mkdtemp(prefix="drdrill-python-runtime-"))
            for name in RUNTIME_PACKAGES:
                source = _location(name)
                if source is not None and source.exists():
                    (folder / source.name).symlink_to(source, target_is_directory=source.is_dir())
            _folder = str(folder)
        return _folder
