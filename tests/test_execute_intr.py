"""execute() after lines sent ahead beyond what the record of sends holds
(``SENDS``), and after an interrupt sent while lines were still owed.

The record kept the last ``SENDS`` sends and dropped older ones silently:
their lines uncounted, the next ``execute`` read too few prompts and
returned an earlier line's answer as its own.
"""

from __future__ import annotations

import pytest

from aioexpect._session import SENDS

from .test_execute_cut import PEERS
from .test_execute_cut_lines import at_unread_prompt

#: Lines sent one at a time: more than the record holds.
MANY = SENDS + 44


@pytest.mark.parametrize("kind", list(PEERS))
async def test_each_of_more_sends_than_the_record_holds_owes_its_answer(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The peer reads nothing until go(): all MANY lines are unanswered
    # when execute starts.  The old code counted the last SENDS only.
    async with at_unread_prompt(kind, monkeypatch) as (s, go, lines):
        for i in range(MANY):
            await s.sendline(f"echo {i}")
        go()
        assert await s.execute("echo mine", timeout=60) == "mine\n"
        assert await s.execute("echo two") == "two\n"
        if lines is not None:
            assert len(lines) == MANY + 2
            assert lines[-3:] == [f"echo {MANY - 1}".encode(), b"echo mine", b"echo two"]
