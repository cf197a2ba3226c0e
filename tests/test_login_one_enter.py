"""``login`` with a ``linesep`` of CR LF on a terminal (a pty): each answer
is one line, the CR LF sent as CR (a terminal's Enter key), as ``execute``
sends its command.  Sent whole, the CR LF was two Enters there: the
username's second one answered the password question, empty (the child got
user 'admin', password ''), and the login was rejected; so was the Enter
that answers "Press RETURN" (the username question got it)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

import aioexpect

PASSWORD = "s3cret-Pw"

CHILD = """
import sys
if "press" in sys.argv:
    input("Press RETURN to get started.")
user = input("Username: ")
password = input("Password: ")
right = (user, password) == ("admin", "s3cret-Pw")
print("got user", repr(user), "and the", "right" if right else "wrong", "password")
if not right:
    print("Login incorrect")
    sys.exit(1)
while True:
    print("you said", repr(input("dev> ")))
"""


@pytest.mark.parametrize("press", [False, True], ids=["asked", "press RETURN first"])
async def test_a_crlf_linesep_on_a_terminal_answers_each_question_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, press: bool
) -> None:
    log = tmp_path / "session.log"
    argv = ["-c", CHILD, *(["press"] if press else [])]
    caplog.set_level(logging.DEBUG, logger="aioexpect")
    async with aioexpect.spawn(sys.executable, argv, timeout=10, logfile=log) as s:
        s.linesep = "\r\n"
        m = await s.login("admin", PASSWORD)
        assert m.after == "dev> "
        assert "got user 'admin' and the right password" in m.before
        assert await s.execute("hello") == "you said 'hello'\n"
        assert await s.execute("again") == "you said 'again'\n"
        assert PASSWORD not in repr(s)
    # What was sent and echoed, the password as the mask only.
    assert "********" in caplog.text
    assert PASSWORD not in caplog.text
    assert PASSWORD not in log.read_text()
