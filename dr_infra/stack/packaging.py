"""The change monitor's deployment package: a deterministic zip of ``lambda/change_monitor``.

Same source, same bytes, same hash: entries are sorted, timestamps fixed to 1980-01-01, permissions fixed,
and caches (``__pycache__``, ``*.pyc``) left out. The zip ships alone: it holds only ``change_monitor/``.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import dr_infra

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
PACKAGE = "change_monitor"


def lambda_source_root() -> Path:
    """``lambda/`` of a source checkout, or the copy bundled in an installed wheel."""
    here = Path(dr_infra.__file__).resolve().parent
    for candidate in (here.parent / "lambda", here / "_bundled" / "lambda"):
        if (candidate / PACKAGE / "handler.py").is_file():
            return candidate
    raise FileNotFoundError("cannot find lambda/change_monitor/handler.py next to dr_infra")


@dataclass(frozen=True)
class LambdaPackage:
    """Zip bytes and their SHA-256 (what Lambda reports as CodeSha256, base64; here hex)."""

    data: bytes
    sha256: str


def build_package(root: Path | None = None) -> LambdaPackage:
    """Zip ``<root>/change_monitor`` deterministically."""
    return zip_directory((root or lambda_source_root()) / PACKAGE, f"{PACKAGE}/")


def user_package(source: Path) -> LambdaPackage:
    """A user's monitor code: a folder zipped deterministically (its files at the zip's root, where Lambda looks
    for the handler module), or a .zip taken byte for byte."""
    if source.is_file():
        data = source.read_bytes()
        return LambdaPackage(data, hashlib.sha256(data).hexdigest())
    return zip_directory(source, "")


def zip_directory(source: Path, prefix: str) -> LambdaPackage:
    """Zip the files under ``source`` (without caches) as ``<prefix><relative path>``, deterministically."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        files = sorted(
            p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        )
        for path in files:
            info = zipfile.ZipInfo(f"{prefix}{path.relative_to(source).as_posix()}", date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    return LambdaPackage(data, hashlib.sha256(data).hexdigest())
