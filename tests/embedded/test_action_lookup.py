"""A handler's action methods are found as moto finds them, once per class (embedded/action_lookup.py)."""

from __future__ import annotations

import pytest
from moto.awslambda.responses import LambdaResponse
from moto.backup.responses import BackupResponse
from moto.core import responses
from moto.core.utils import method_names_from_class as motos_own
from moto.dynamodb.responses import DynamoHandler

from dr_infra.targets.embedded import action_lookup, moto_patch, patches

patches.install_all()


@pytest.mark.parametrize("handler", [DynamoHandler, LambdaResponse, BackupResponse])
def test_the_names_are_motos_own(handler: type) -> None:
    assert responses.method_names_from_class is action_lookup.method_names_from_class
    assert action_lookup.method_names_from_class(handler) == motos_own(handler)


def test_a_class_is_looked_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[type] = []
    monkeypatch.setattr(action_lookup, "_computed", lambda clazz: calls.append(clazz) or motos_own(clazz))
    monkeypatch.setattr(action_lookup, "_known", {})
    for _ in range(3):
        action_lookup.method_names_from_class(DynamoHandler)
    assert calls == [DynamoHandler]


def test_a_method_patched_in_later_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    class Handler:
        def describe_thing(self) -> None: ...

    monkeypatch.setattr(action_lookup, "_known", {})
    assert "describe_thing" in action_lookup.method_names_from_class(Handler)
    assert "start_thing" not in action_lookup.method_names_from_class(Handler)
    log = moto_patch.PatchLog()
    monkeypatch.setattr(moto_patch, "MOTO", log)
    log.add(Handler, "start_thing", lambda self: None, by=__name__)
    assert "start_thing" in action_lookup.method_names_from_class(Handler)
