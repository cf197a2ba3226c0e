"""The spaced prompts (FreeBSD's ``root@fbsd:~ #``, macOS's ``alice@mbp ~ %``
and ``mbp:~ alice$``) wider than an 80-column terminal, as bash's readline
wraps them: ``\\r`` at the margin, then the character that ended the row
again.  No shipped driver found them, and every ``execute`` timed out."""

from __future__ import annotations

from typing import Any

import pytest

import aioexpect

from .helpers import bare_shell

SHAPES = [
    pytest.param("root@fbsd:~/{d} # ", 12, id="freebsd"),
    pytest.param("alice@MacBook-Pro ~/{d} % ", 20, id="macos-zsh"),
    pytest.param("MacBook-Pro:~/{d} alice$ ", 14, id="macos-bash"),
]


@pytest.mark.parametrize(("shape", "before"), SHAPES)
@pytest.mark.parametrize("driver", ["generic", "shell", "auto"])
async def test_a_spaced_prompt_wrapped_at_the_margin(
    shape: str, before: int, driver: str, tmp_path: Any
) -> None:
    # (the directory's lengths that put the margin in the directory, at the
    # spaces, in the user, and past the prompt's end)
    for n in range(80 - before - 9, 80 - before + 2):
        env = {
            "PATH": "/usr/bin:/bin",
            "TERM": "xterm",
            "HOME": str(tmp_path),
            "PS1": shape.format(d="d" * n),
        }
        argv = ["bash", "--norc", "--noprofile"]
        async with aioexpect.spawn(argv[0], argv[1:], env=env, driver=driver, timeout=5) as s:
            assert await s.execute("echo hi") == "hi\n", n
            assert await s.execute("echo there") == "there\n", n
            assert s.driver.name in ("generic", "shell")


@pytest.mark.parametrize("driver", ["generic", "shell"])
async def test_a_progress_meter_is_output(driver: str, tmp_path: Any) -> None:
    """A meter's ``eta:00:01 10%``, written after ``\\r``, then a pause: the
    shape of macOS's bash prompt (``mbp:~ alice$``) with ``%`` for its sign
    took it for the prompt, and ``execute`` returned before the meter ran."""
    meter = 'for i in 1 2 3; do printf "\\reta:00:0%d %d0%%" $i $i; sleep 0.2; done; echo done\n'
    (tmp_path / "meter.sh").write_text(meter)
    async with bare_shell(tmp_path, "alice@host:~$ ", driver=driver, timeout=10) as s:
        assert await s.execute("sh meter.sh") == "eta:00:03 30%done\n"
        assert await s.execute("echo next") == "next\n"
