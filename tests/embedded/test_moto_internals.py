"""The pinned moto still has every internal the embedded target hooks, and a change is reported clearly."""

from __future__ import annotations

import importlib

import pytest

from dr_infra.targets.embedded import patches


def test_every_hooked_internal_exists_in_the_pinned_moto() -> None:
    assert patches.check_internals() == []


def test_every_gap_filler_declares_its_hooked_internals() -> None:
    for name in patches.GAP_FILLERS:
        module = importlib.import_module(name)
        assert callable(module.install), name
        hooked = getattr(module, "HOOKED_INTERNALS", ())  # changefeed's are listed in patches itself
        assert isinstance(hooked, tuple) and all(h.startswith("moto.") for h in hooked), name
        assert module.__doc__ and "https://" in module.__doc__, f"{name} must cite the AWS page it models"


def test_a_missing_internal_is_reported_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    backup_routes = importlib.import_module("dr_infra.targets.embedded.backup_routes")
    missing = "moto.backup.urls.url_paths_renamed_upstream"
    monkeypatch.setattr(backup_routes, "HOOKED_INTERNALS", (*backup_routes.HOOKED_INTERNALS, missing))
    assert patches.check_internals() == [
        f"moto internal {missing} no longer exists; the embedded target needs updating"
    ]
    monkeypatch.setattr(patches, "_installed", False)
    with pytest.raises(patches.MotoInternalsChanged, match="url_paths_renamed_upstream no longer exists"):
        patches.install_all()


def test_a_different_moto_version_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patches.moto, "__version__", "9.9.9")
    assert any("moto 9.9.9 is installed" in p and "5.2.5" in p for p in patches.check_internals())
