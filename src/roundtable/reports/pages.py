"""One page of a longer list: what every paginated query answers, and its bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list, and where it sits in it."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.items) - 1 if self.items else 0


def page_bounds(page: int, per_page: int) -> tuple[int, int]:
    """A sane (page, per_page): pages count from 1, sizes stay between 1 and the maximum."""
    return max(1, page), min(max(1, per_page), MAX_PAGE_SIZE)
