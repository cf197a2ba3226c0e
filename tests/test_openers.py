"""The openers' shared behaviour: awaitable and ``async with``, URL parsing,
argument checking, and ``aioexpect.run``."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

import aioexpect
from aioexpect._openers import redact_url


async def test_opener_is_awaitable_and_an_async_context_manager():
    session = await aioexpect.spawn("echo", ["awaited"], pty=False)
    try:
        assert await session.read_all() == "awaited\n"
    finally:
        await session.close()
    async with aioexpect.spawn("echo", ["managed"], pty=False) as s:
        assert await s.read_all() == "managed\n"
    assert s.closed


async def test_spawn_url_is_shell_split_not_run_by_a_shell():
    async with aioexpect.connect("spawn:echo 'two words' $HOME", pty=False) as s:
        assert await s.read_all() == "two words $HOME\n"


@pytest.mark.parametrize(
    ("url", "error", "text"),
    [
        ("ftp://host", ValueError, "unsupported URL scheme"),
        ("ssh://", ValueError, "no host"),
        ("spawn:", ValueError, "names no command"),
        ("ssh://u:s3cret@host:notaport", ValueError, "bad port"),
        ("ssh://u:s3cret@[::1", ValueError, r"bad URL 'ssh://u:\*+@\[::1': Invalid IPv6"),
        # A password with a URL delimiter, unencoded: urlsplit would end the
        # host there (and quote the password in its own message).
        ("ssh://u:s3cret#x@host", ValueError, "percent-encode"),
        ("telnet://u:s3/cret@host:23", ValueError, "percent-encode"),
        ("ssh://u:s3cret?@host", ValueError, "percent-encode"),
    ],
)
def test_bad_urls_are_value_errors(url, error, text):
    with pytest.raises(error, match=text) as info:
        aioexpect.connect(url)
    assert "s3cret" not in str(info.value)


def test_url_credentials_conflicting_with_arguments():
    with pytest.raises(ValueError, match="both in the URL"):
        aioexpect.connect("ssh://u:p@host", username="other")
    with pytest.raises(TypeError):
        aioexpect.connect(b"ssh://host")  # type: ignore[arg-type]


def test_redact_url():
    assert redact_url("ssh://u:p%40ss@h:22/x") == "ssh://u:********@h:22/x"
    assert redact_url("telnet://h") == "telnet://h"
    assert redact_url("ssh://u@h:22") == "ssh://u@h:22"
    # Masked from the text, also where the URL does not parse.
    assert redact_url("ssh://u:p#a/s?s@w@h:22") == "ssh://u:********@h:22"
    assert redact_url("\ufefftelnet://u:pass@h") == "\ufefftelnet://u:********@h"
    assert redact_url("ssh:/u:pass@h") == "ssh:********@h"
    assert redact_url("u:pass@h") == "u:********@h"
    assert redact_url("spawn:ssh u@h") == "spawn:ssh u@h"


def test_spawn_argument_checks():
    with pytest.raises(TypeError, match="sequence of strings"):
        aioexpect.spawn("ls", "-l")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sequence of strings, not NoneType"):
        aioexpect.spawn("ls", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="env must map str to str"):
        aioexpect.spawn("ls", env={"A": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="echo must be True or False, not 'no'"):
        aioexpect.spawn("ls", echo="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pty must be True or False, not 0"):
        aioexpect.spawn("ls", pty=0)  # type: ignore[arg-type]
    for dimensions in ("24x80", (True, 80), (70000, 80), (24,)):
        with pytest.raises(ValueError, match="dimensions"):
            aioexpect.spawn("ls", dimensions=dimensions)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="does not split as a shell line"):
        aioexpect.connect("spawn:echo 'a")
    with pytest.raises(ValueError, match="dimensions"):
        aioexpect.spawn("ls", dimensions=(0, 80))
    with pytest.raises(ValueError, match="stderr"):
        aioexpect.spawn("ls", stderr=-3)


def test_an_opener_never_awaited_creates_no_coroutine():
    # Nothing runs and nothing warns ("coroutine was never awaited") until used.
    aioexpect.spawn("true")
    aioexpect.connect("spawn:true")


def test_run_uses_uvloop_and_returns_the_result():
    async def which_loop() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert aioexpect.run(which_loop()).startswith("uvloop")
    with pytest.raises(TypeError, match="coroutine"):
        aioexpect.run(which_loop)  # type: ignore[arg-type]


def test_run_leaves_the_library_users_loop_alone():
    async def inside() -> type:
        return type(asyncio.get_running_loop())

    assert asyncio.run(inside()) is not uvloop.Loop
