"""The change monitor's zip: deterministic, and holding only the monitor's own sources."""

from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from pathlib import Path

from dr_infra.stack.packaging import build_package, lambda_source_root


def test_same_source_same_bytes_and_hash() -> None:
    first, second = build_package(), build_package()
    assert first.data == second.data
    assert first.sha256 == second.sha256 == hashlib.sha256(first.data).hexdigest()


def test_zip_holds_only_change_monitor_python(tmp_path: Path) -> None:
    root = tmp_path / "lambda"
    shutil.copytree(lambda_source_root() / "change_monitor", root / "change_monitor")
    cache = root / "change_monitor" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "handler.cpython-311.pyc").write_bytes(b"\0junk")
    (root / "change_monitor" / "stray.pyc").write_bytes(b"\0junk")
    names = zipfile.ZipFile(io.BytesIO(build_package(root).data)).namelist()
    assert "change_monitor/handler.py" in names
    assert all(n.startswith("change_monitor/") and n.endswith(".py") for n in names), names
    assert not any("__pycache__" in n for n in names)


def test_cache_files_do_not_change_the_hash(tmp_path: Path) -> None:
    root = tmp_path / "lambda"
    shutil.copytree(
        lambda_source_root() / "change_monitor",
        root / "change_monitor",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    clean = build_package(root).sha256
    (root / "change_monitor" / "__pycache__").mkdir()
    (root / "change_monitor" / "__pycache__" / "x.pyc").write_bytes(b"1")
    assert build_package(root).sha256 == clean


def test_a_source_change_changes_the_hash(tmp_path: Path) -> None:
    root = tmp_path / "lambda"
    shutil.copytree(
        lambda_source_root() / "change_monitor",
        root / "change_monitor",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    before = build_package(root).sha256
    handler = root / "change_monitor" / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert build_package(root).sha256 != before
