"""Text that ``read_to_prompt`` read past, looking for a prompt, and gave
back at a failure (``give_back``): the buffer's bound and the text itself
are kept, over memory and in a pty."""

from __future__ import annotations

from typing import Any

import pytest

import aioexpect

from .helpers import bare_shell, played, typed_lines, wait_until

PROMPT = "alice@host:~$ "
#: Output shaped like a wrapped prompt (``\r`` not at any margin): read past
#: and held, then given back when the read fails.
LOOKALIKE = "a:bb\rcc dd# "


async def overflowed(s: aioexpect.Session, command: str) -> str:
    """Run ``command``, whose answer overflows ``max_buffer`` after the
    lookalike; the answer, read with ``FULL_BUFFER`` up to the prompt, once
    the buffer was seen never past the bound."""
    with pytest.raises(aioexpect.BufferFull) as caught:
        await s.execute(command)
    assert LOOKALIKE in caught.value.before
    text = ""
    for _ in range(100):  # (bounded: a few hundred characters a round)
        assert len(s.buffer) <= s.max_buffer
        m = await s.expect([aioexpect.FULL_BUFFER, PROMPT.replace("$", r"\$")])
        assert len(m.before) <= s.max_buffer
        text += m.before
        if m.index == 1:
            return text
    raise AssertionError("no prompt")


async def read_alone(s: aioexpect.Session, received: int) -> None:
    """Until ``received`` bytes came and were consumed (the lookalike, read
    past as output, before anything else comes)."""
    await wait_until(lambda: s.bytes_in == received and not s.buffer, "the lookalike read")


async def test_text_given_back_over_memory_keeps_max_buffer() -> None:
    """The lookalike and what came before it, given back at ``BufferFull``,
    took the buffer past the bound (339 characters of 300); now the rest
    waits behind the buffer, and comes once the caller consumes."""
    flood = "y" * 400
    session: list[aioexpect.Session] = []

    async def device(peer: Any) -> None:
        await peer.write(PROMPT.encode())
        async for command in typed_lines(peer):
            if command == "flood":
                s = session[0]
                sent = s.bytes_in + len(answer := f"flood\r\n{'x' * 20}\r\n{LOOKALIKE}")
                await peer.write(answer.encode())
                await read_alone(s, sent)
                await peer.write(f"{flood}\r\n{PROMPT}".encode())
            else:
                await peer.write(f"{command}\r\n{command[5:]}\r\n{PROMPT}".encode())

    async with played(device, max_buffer=300, timeout=5, driver="generic") as s:
        session.append(s)
        text = await overflowed(s, "flood")
        assert text == f"flood\r\n{'x' * 20}\r\n{LOOKALIKE}{flood}\r\n"
        assert await s.execute("echo hi") == "hi\n"


async def test_text_given_back_in_a_pty_keeps_max_buffer(tmp_path: Any) -> None:
    # (the pause: the lookalike is read alone, as output that ends so)
    lookalike = f"printf 'x%.0s' $(seq 20); printf '\\n{LOOKALIKE}'; sleep 0.2\n"
    (tmp_path / "flood.sh").write_text(lookalike + "printf 'y%.0s' $(seq 400); echo\n")
    async with bare_shell(tmp_path, PROMPT, driver="generic", max_buffer=300, timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        text = await overflowed(s, "sh flood.sh")
        assert text.endswith(f"{'x' * 20}\r\n{LOOKALIKE}{'y' * 400}\r\n")
        assert await s.execute("echo hi") == "hi\n"
