"""The periodic dispatch: what beat (or the in-process scheduler) runs every interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roundtable.delivery.sweep import fold_tallies, sweep


@dataclass(frozen=True)
class DispatchResult:
    reclaimed: int
    abandoned: int
    missed: int
    announced: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "reclaimed": self.reclaimed,
            "abandoned": self.abandoned,
            "missed": self.missed,
            "announced": self.announced,
        }


def dispatch(now: datetime) -> DispatchResult:
    """Reclaim lost claims, announce every due row, fold the counts; safe to run twice at once."""
    result = sweep(now)
    fold_tallies()
    return DispatchResult(
        reclaimed=result.reclaimed,
        abandoned=result.abandoned,
        missed=result.missed,
        announced=len(result.announced),
    )
