"""What ``run_many`` says of a host that did not get to its job, or not in
time: the way out of a login question it has no answer for, and the errors
its ``timeout`` makes, in the words of the stage or wait it cut short."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._exceptions import AioexpectError, ConnectError, ExpectTimeout
from ._opening import Progress
from ._prompt_read import buffer_evidence, what_prompt
from ._session import Session

if TYPE_CHECKING:
    from ._many import _Plan

__all__ = ["timeout_error", "way_out"]


def way_out(plan: _Plan) -> str:
    """What to do about a login question before the first prompt, for ``plan``
    (a telnet target with credentials has had ``login()`` answer it)."""
    where = "the URL's user:password, a Host's Account; for aioexpect exec, --user with"
    where += " $AIOEXPECT_PASSWORD"
    if plan.kind == "telnet":
        return (
            f"this telnet target has no credentials: give it a user name and password ({where})"
            " and the login dialog is answered before the job"
        )
    if plan.kind == "ssh":
        return (
            f"over SSH, a target's credentials ({where}) serve the SSH login, and this question"
            " came after it; run_many and aioexpect exec answer a login dialog on telnet"
            " targets only: open this host with connect_ssh() and call login()"
        )
    return (
        "spawn: targets take no credentials: run a command that asks for none, or"
        " open it with spawn() and answer it with login() or send_secret()"
    )


def timeout_error(
    plan: _Plan,
    session: Session | Progress,
    timeout: float | None,
    in_job: bool,
    cause: TimeoutError,
) -> AioexpectError:
    """The error for run_many's ``timeout`` (the scope's ``cause``): a
    ``ConnectError`` before the job started (opening, login, first prompt),
    an ``ExpectTimeout`` in it.  Where the opening had not returned the
    session, ``session`` is its ``Progress``."""
    if isinstance(session, Progress):
        return _not_open(plan, session, timeout, cause)
    if not in_job:  # the first prompt: in its wait's words, that wait the cause
        waited = _cut_short(session, what_prompt(session), "", cause)
        return _connect_error(plan, f"no prompt within {timeout:g} s: {waited}", waited)
    before, evidence = buffer_evidence(session)
    message = f"did not finish within {timeout:g} s; last characters received: {evidence}"
    return ExpectTimeout(f"{plan.label}: {message}", before=before)


def _not_open(
    plan: _Plan, progress: Progress, timeout: float | None, cause: BaseException
) -> ConnectError:
    """run_many's ``timeout`` came while opening: the error says the stage it
    came in (``progress``); in a login dialog, also what it waited for and
    what had come, with an ``ExpectTimeout`` as the cause, as the dialog's
    own time-out (``session_timeout``) gives."""
    done = "connected" if plan.kind != "spawn" else "started"
    message = f"not {done} within {timeout:g} s: {progress.timed_out()}"
    session = progress.session
    if progress.awaited is not None and session is not None:
        cause = _cut_short(session, progress.awaited, "".join(progress.seen), cause)
        message = f"not logged in within {timeout:g} s, {progress.stage}: {cause}"
    return _connect_error(plan, message, cause)


def _connect_error(plan: _Plan, message: str, cause: BaseException) -> ConnectError:
    host = None if plan.kind == "spawn" else plan.host
    error = ConnectError(f"{plan.label}: {message}", host=host, port=plan.port)
    error.__cause__ = cause
    return error


def _cut_short(session: Session, awaited: str, earlier: str, cause: BaseException) -> ExpectTimeout:
    """The ``ExpectTimeout`` of a wait for ``awaited`` that run_many's
    ``timeout`` (``cause``) cut short, in the words of the wait's own: what
    had come is ``earlier`` (consumed by the wait's steps), then the buffer."""
    before, evidence = buffer_evidence(session, earlier)
    message = f"timed out waiting for {awaited}; last characters received: {evidence}"
    error = ExpectTimeout(message, before=before)
    error.__cause__ = cause
    return error
