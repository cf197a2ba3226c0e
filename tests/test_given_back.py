"""Text that ``read_to_prompt`` read past, looking for a prompt, and gives
back at a failure or a cancel (``give_back``): the buffer's bound is kept
(over memory and in a pty), and so is a page whose pager was being
answered when the read was cancelled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import aioexpect

from .helpers import bare_shell, opened, played, typed_lines, wait_until
from .test_ssh import connect, ssh_server
from .test_telnet import telnet_server

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


async def test_text_given_back_before_an_end_of_file_comes_before_it() -> None:
    """The same, the peer gone after its flood: the text past the bound
    comes before the end of file, none of it lost."""
    session: list[aioexpect.Session] = []

    async def device(peer: Any) -> None:
        await peer.write(PROMPT.encode())
        async for _command in typed_lines(peer):
            s = session[0]
            sent = s.bytes_in + len(answer := f"flood\r\n{'x' * 20}\r\n{LOOKALIKE}")
            await peer.write(answer.encode())
            await read_alone(s, sent)
            await peer.write(b"y" * 400)
            await peer.close()
            return

    async with played(device, max_buffer=300, timeout=5, driver="generic") as s:
        session.append(s)
        with pytest.raises(aioexpect.BufferFull):
            await s.execute("flood")
        assert len(s.buffer) == 300
        full = (await s.expect(aioexpect.FULL_BUFFER)).before
        rest = (await s.expect(aioexpect.EOF)).before
        assert full + rest == f"flood\r\n{'x' * 20}\r\n{LOOKALIKE}{'y' * 400}"


async def test_text_given_back_in_a_pty_keeps_max_buffer(tmp_path: Any) -> None:
    # (the pause: the lookalike is read alone, as output that ends so)
    lookalike = f"printf 'x%.0s' $(seq 20); printf '\\n{LOOKALIKE}'; sleep 0.2\n"
    (tmp_path / "flood.sh").write_text(lookalike + "printf 'y%.0s' $(seq 400); echo\n")
    async with bare_shell(tmp_path, PROMPT, driver="generic", max_buffer=300, timeout=10) as s:
        assert await s.execute("echo hi") == "hi\n"
        text = await overflowed(s, "sh flood.sh")
        assert text.endswith(f"{'x' * 20}\r\n{LOOKALIKE}{'y' * 400}\r\n")
        assert await s.execute("echo hi") == "hi\n"


async def flooding(
    s: list[aioexpect.Session],
    readline: Callable[[], Awaitable[bytes]],
    write: Callable[[bytes], Awaitable[None]],
) -> None:
    """A server's part over a network connection: the prompt, then each
    line's answer (the flood's after its lookalike, read alone, past the
    bound), its command echoed."""
    await write(PROMPT.encode())
    while line := (await readline()).strip().decode():
        if line != "flood":
            await write(f"{line}\r\n{line[5:]}\r\n{PROMPT}".encode())
            continue
        sent = s[0].bytes_in + len(answer := f"flood\r\n{'x' * 20}\r\n{LOOKALIKE}")
        await write(answer.encode())
        await read_alone(s[0], sent)
        await write(f"{'y' * 400}\r\n{PROMPT}".encode())


@contextlib.asynccontextmanager
async def over_ssh(s: list[aioexpect.Session]) -> AsyncIterator[aioexpect.Session]:
    async def handler(process: Any) -> None:
        async def write(data: bytes) -> None:
            process.stdout.write(data)
            await process.stdout.drain()

        with contextlib.suppress(Exception):
            await flooding(s, process.stdin.readline, write)
        process.exit(0)

    async with ssh_server(handler) as server:
        async with connect(server, term_type=None, max_buffer=300, driver="generic") as session:
            yield session


@contextlib.asynccontextmanager
async def over_telnet(s: list[aioexpect.Session]) -> AsyncIterator[aioexpect.Session]:
    async def shell(reader: Any, writer: Any) -> None:
        async def write(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        with contextlib.suppress(Exception):
            await flooding(s, reader.readline, write)
        writer.close()

    async with telnet_server(shell) as port:
        opener = aioexpect.connect_telnet(
            "127.0.0.1", port, max_buffer=300, timeout=10, driver="generic"
        )
        async with opener as session:
            yield session


@pytest.mark.parametrize("over", [over_ssh, over_telnet], ids=["ssh", "telnet"])
async def test_text_given_back_over_a_network_keeps_max_buffer(over: Any) -> None:
    """The same over SSH and telnet, whose push delivery pauses the
    connection itself (the SSH window, the socket): the buffer held 341 of
    300; now the rest follows once consumed, and reading resumes."""
    s: list[aioexpect.Session] = []
    async with over(s) as session:
        s.append(session)
        assert await session.execute("echo hi") == "hi\n"
        text = await overflowed(session, "flood")
        assert text == f"flood\r\n{'x' * 20}\r\n{LOOKALIKE}{'y' * 400}\r\n"
        assert await session.execute("echo hi") == "hi\n"


@pytest.mark.parametrize("reader", ["execute", "expect_prompt", "catch-up", "typed"])
async def test_a_cancel_while_answering_a_pager_keeps_the_page(reader: str) -> None:
    """Cancelled while the pager's answer was being written (the peer not
    reading it yet), the read dropped the page it had read: ``s.buffer``
    held nothing of ``p1``.  Now that text is unread again; the pager's
    prompt, answered (the key goes all the same), is not."""
    go, shown = asyncio.Event(), asyncio.Event()

    async def device(peer: Any) -> None:
        await peer.write(PROMPT.encode())
        async for command in typed_lines(peer):
            if command == "page":
                await shown.wait()
                await peer.write(b"page\r\np1\r\n--More--")
                await go.wait()
                assert await peer.read() == b" "
                await peer.write(f"\r\np2\r\n{PROMPT}".encode())
            else:
                await peer.write(f"{command}\r\n{command[5:]}\r\n{PROMPT}".encode())

    async with opened(limit=0, timeout=5, driver="generic") as (s, peer):
        playing = asyncio.ensure_future(device(peer))
        if reader == "execute":
            reading = asyncio.ensure_future(s.execute("page"))
        elif reader == "expect_prompt":
            await s.expect_prompt()
            await s.sendline("page")
            reading = asyncio.ensure_future(s.expect_prompt())
        elif reader == "typed":  # (lines typed ahead: execute reads their prompts first)
            assert await s.execute("echo a") == "a\n"
            await s.send("page\necho b\necho c\n")
            reading = asyncio.ensure_future(s.execute("echo x"))
        else:  # (an execute cancelled before its answer came: the next reads it first)
            assert await s.execute("echo a") == "a\n"
            first = asyncio.ensure_future(s.execute("page"))
            await wait_until(lambda: bool(s._sends) and s._sends[-1][0] == "page\n", "sent")
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            reading = asyncio.ensure_future(s.execute("echo x"))
        shown.set()
        await wait_until(lambda: bytes(peer._unread) == b" ", "the pager's answer written")
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert s.buffer == "page\r\np1\r\n"
        go.set()
        if reader == "expect_prompt":
            assert (await s.expect_prompt()).before == "page\r\np1\r\n\r\np2\r\n"
        assert await s.execute("echo hi") == "hi\n"
        assert await s.execute("echo two") == "two\n"
        await s.close()
        await peer.close()
        await playing


#: Where a read with two pages is cancelled: while the first page's pager
#: waits for the second page, or while the second pager's answer is written.
STOPS = ["waiting", "answering"]


@pytest.mark.parametrize("stop", STOPS)
async def test_the_page_since_the_last_answer_is_kept(stop: str) -> None:
    """Of two pages, the second, read while its pager's answer was written,
    was dropped at the cancel (``s.buffer`` held nothing of ``p2``).  Now
    it is unread again; the first stays consumed, as its pager's answer was
    written (see ``docs/drivers.rst``), and each pager is answered once."""
    go, keys = asyncio.Event(), []

    async def device(peer: Any) -> None:
        await peer.write(PROMPT.encode())
        async for command in typed_lines(peer):
            if command == "page":
                await peer.write(b"page\r\np1\r\n--More--")
                keys.append(await peer.read())
                if stop == "answering":
                    await peer.write(b"\r\np2\r\n--More--")
                await go.wait()
                if stop != "answering":
                    await peer.write(b"\r\np2\r\n--More--")
                keys.append(await peer.read())
                await peer.write(f"\r\np3\r\n{PROMPT}".encode())
            else:
                await peer.write(f"{command}\r\n{command[5:]}\r\n{PROMPT}".encode())

    async with opened(limit=0, timeout=5, driver="generic") as (s, peer):
        playing = asyncio.ensure_future(device(peer))
        reading = asyncio.ensure_future(s.execute("page"))
        if stop == "waiting":
            await wait_until(lambda: keys == [b" "], "the first pager answered")
        else:
            await wait_until(lambda: bytes(peer._unread) == b" " and keys, "the second")
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert s.buffer == ("\r\np2\r\n" if stop == "answering" else "")
        go.set()
        assert await s.execute("echo hi") == "hi\n"
        assert keys == [b" ", b" "]  # (each pager answered once)
        assert await s.execute("echo two") == "two\n"
        await s.close()
        await peer.close()
        await playing
