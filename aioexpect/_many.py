"""Many hosts at once (placeholder until the many-hosts work lands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Account:
    username: str
    password: str | None = None
    key: Any = None


@dataclass(frozen=True)
class Host:
    url: str
    account: Account | None = None


@dataclass(frozen=True)
class Result:
    host: Any
    ok: bool
    value: Any = None
    error: BaseException | None = None
    duration: float = 0.0


async def run_many(*args: Any, **kwargs: Any) -> list[Result]:
    raise NotImplementedError("run_many not written yet")


async def expect_any(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("expect_any not written yet")
