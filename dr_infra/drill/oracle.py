"""The oracle ledger: drdrill's own record of every write, so "the table as it was" is computed, not read.

Reading the expected state back from the target would make a broken restore look fine (the bug would be on
both sides). Instead, every seed write and every injection is recorded here with the client clock before
and after its call; the expected table at time ``T`` is the seed overlaid with every write that had
*finished* by ``T``. Seed items are regenerated from their index (:mod:`dr_infra.drill.items`), so the ledger
holds only the writes made after seeding.

Writes whose call window straddles ``T`` are ambiguous (the server's timestamp lies somewhere inside the
window); scenarios avoid them by keeping the harmful change at least one whole second after the last write
that must survive (PITR's granularity is one second).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dr_infra.drill.items import Item, ItemMaker, Key, item_key


@dataclass(frozen=True)
class Write:
    """One recorded write: ``new`` is ``None`` for a delete."""

    key: Key
    new: Item | None
    started_at: datetime
    finished_at: datetime
    harmful: bool = False
    canary: bool = False


@dataclass
class Oracle:
    """Seed description plus the ordered ledger of later writes for one table."""

    hash_key: str
    key_type: str = "S"
    key_attributes: tuple[str, ...] = ()
    maker: ItemMaker | None = None
    """How items fit the table (keys, indexes, sample); default: the seed's generated items on ``hash_key``."""
    seed_count: int = 0
    seeded_at: datetime | None = None
    writes: list[Write] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.maker is None:
            self.maker = ItemMaker(hash_key=(self.hash_key, self.key_type))
        if not self.key_attributes:
            self.key_attributes = self.maker.key_attributes

    @classmethod
    def for_maker(cls, maker: ItemMaker) -> Oracle:
        return cls(hash_key=maker.hash_key[0], key_type=maker.hash_key[1], maker=maker)

    @property
    def items(self) -> ItemMaker:
        assert self.maker is not None
        return self.maker

    def seed(self, index: int) -> Item:
        return self.items.seed(index)

    def key(self, item: Item) -> Key:
        return item_key(item, self.key_attributes)

    def record(self, write: Write) -> None:
        with self._lock:
            self.writes.append(write)

    def age(self, seconds: float) -> None:
        """Date every write recorded so far ``seconds`` earlier: the target's clock for this table's backups moved
        forward by as much (:mod:`dr_infra.drill.plan_runs`), so in its world they were made that long ago."""
        shift = timedelta(seconds=seconds)
        with self._lock:
            self.writes = [
                replace(w, started_at=w.started_at - shift, finished_at=w.finished_at - shift) for w in self.writes
            ]
            if self.seeded_at is not None:
                self.seeded_at -= shift

    def writes_until(self, moment: datetime) -> list[Write]:
        """Writes that had finished by ``moment`` (in the order they were made)."""
        with self._lock:
            return [w for w in self.writes if w.finished_at <= moment]

    def state_at(self, moment: datetime | None = None, include_canaries: bool = False) -> Callable[[], Iterator[Item]]:
        """A re-iterable factory of the expected items at ``moment`` (``None``: every recorded write)."""

        def items() -> Iterator[Item]:
            with self._lock:
                writes = [w for w in self.writes if moment is None or w.finished_at <= moment]
            overlay: dict[Key, Item | None] = {}
            for write in writes:
                overlay[write.key] = write.new
            seen: set[Key] = set()
            if self.seeded_at is not None and (moment is None or self.seeded_at <= moment):
                for index in range(self.seed_count):
                    item = self.seed(index)
                    key = self.key(item)
                    if key in overlay:
                        seen.add(key)
                        replacement = overlay[key]
                        if replacement is not None:
                            yield replacement
                    else:
                        yield item
            for key, new in overlay.items():
                if key not in seen and new is not None and (include_canaries or not _is_canary(new)):
                    yield new

        return items

    def live_keys(
        self, moment: datetime | None = None, limit: int | None = None, keys_only: bool = False
    ) -> list[Item]:
        """Current items (not canaries) in a stable order, for choosing what to delete or modify.

        ``keys_only``: each item cut down to its key attributes (what a delete needs; a bulk delete of 100 000
        whole items would hold about 450 MB of them at once)."""
        chosen: list[Item] = []
        if limit is not None and limit <= 0:
            return chosen
        for item in self.state_at(moment)():
            if _is_canary(item):
                continue
            chosen.append({name: item[name] for name in self.key_attributes} if keys_only else item)
            if limit is not None and len(chosen) >= limit:
                break
        return chosen

    def last_write_finished(self, include_canaries: bool = False) -> datetime | None:
        with self._lock:
            times = [w.finished_at for w in self.writes if include_canaries or not w.canary]
        if self.seeded_at is not None:
            times.append(self.seeded_at)
        return max(times) if times else None


CANARY_KIND = "canary"


def _is_canary(item: Item) -> bool:
    return item.get("kind") == {"S": CANARY_KIND}
