"""SHA256SUMS for a report folder, and ``drdrill verify``: has anything in it changed since it was written?

Why: a report is evidence an auditor signs; a number edited afterwards in report.html or report.json must be
detectable. The file has the format of GNU coreutils' ``sha256sum`` (``<64 hex>  <name>``, one file a line, names
relative to the folder), so ``sha256sum -c SHA256SUMS`` checks it too, on a machine without drdrill. It proves the
files are the ones drdrill wrote next to this SHA256SUMS; keep a copy of SHA256SUMS (or its own digest) somewhere
the report's readers cannot write to prove more than that.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from dr_infra.report.files import write_atomically

FILENAME = "SHA256SUMS"
_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _files(folder: Path) -> list[str]:
    """Every regular file under ``folder`` except SHA256SUMS itself, as sorted POSIX paths relative to it."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and p.relative_to(folder).as_posix() != FILENAME
    )


def write_sums(folder: Path) -> Path:
    """Write ``folder/SHA256SUMS`` over every file in the folder (re-rendering rewrites it)."""
    lines = [f"{_digest(folder / name)}  {name}\n" for name in _files(folder)]
    path = folder / FILENAME
    write_atomically(path, "".join(lines))
    return path


class NotAReportFolder(ValueError):
    """``drdrill verify`` was pointed at something it cannot check (no folder, no SHA256SUMS): a usage error."""


@dataclass
class Verification:
    """What ``drdrill verify`` found: files whose bytes changed, listed files gone, files nobody listed."""

    folder: Path
    checked: int = 0
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    malformed: list[int] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not (self.altered or self.missing or self.unlisted or self.malformed)

    def lines(self) -> list[str]:
        """One line per problem, or one line saying the folder is intact."""
        if self.intact:
            return [f"intact: {self.checked} files in {self.folder} match {FILENAME}"]
        out = [f"altered: {name} (its SHA-256 differs from {FILENAME})" for name in self.altered]
        out += [f"missing: {name} (listed in {FILENAME}, not in the folder)" for name in self.missing]
        out += [f"unlisted: {name} (in the folder, not in {FILENAME})" for name in self.unlisted]
        out += [f"malformed: {FILENAME} line {n} is not '<sha256>  <file>'" for n in self.malformed]
        return out


def verify(folder: str | Path) -> Verification:
    """Check every file of a report folder against its SHA256SUMS.

    Raises :class:`NotAReportFolder` (one line) when ``folder`` is not a folder or holds no SHA256SUMS.
    """
    root = Path(folder)
    if not root.is_dir():
        raise NotAReportFolder(
            f"no such report folder: {root}" if not root.exists() else f"{root} is a file, not a report folder"
        )
    sums = root / FILENAME
    if not sums.is_file():
        raise NotAReportFolder(f"{root} holds no {FILENAME}: it is not a report folder drdrill wrote")
    result = Verification(root)
    listed: set[str] = set()
    for number, line in enumerate(sums.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        name = match.group(2) if match else ""
        if not match or name.startswith("/") or ".." in Path(name).parts:
            result.malformed.append(number)
            continue
        listed.add(name)
        path = root / name
        if not path.is_file():
            result.missing.append(name)
            continue
        result.checked += 1
        if _digest(path) != match.group(1):
            result.altered.append(name)
    result.unlisted = [name for name in _files(root) if name not in listed]
    return result
