"""Prompt handling: expect_prompt, execute, login, set_unique_prompt (placeholder)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._session import Session


async def after_open(session: Session, login: tuple[str | None, str | None] | None) -> None:
    """Called once by the openers after the session is built."""
    if login is not None:
        await session.login(*login)


async def expect_prompt(session: Session, timeout: Any) -> Any:
    raise NotImplementedError("prompt handling not written yet")


async def execute(session: Session, command: str, timeout: Any) -> str:
    raise NotImplementedError("execute not written yet")


async def login(session: Session, username: str | None, password: str | None, timeout: Any) -> Any:
    raise NotImplementedError("login not written yet")


async def set_unique_prompt(session: Session, timeout: Any) -> None:
    raise NotImplementedError("set_unique_prompt not written yet")
