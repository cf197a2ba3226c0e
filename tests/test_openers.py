"""The openers' shared behaviour: awaitable and ``async with``, URL parsing,
argument checking, and ``aioexpect.run``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys

import pytest
import uvloop

import aioexpect
from aioexpect._urls import redact_url

from .helpers import refused_port, silent_server, still_waiting


async def test_opener_is_awaitable_and_an_async_context_manager():
    session = await aioexpect.spawn("echo", ["awaited"], pty=False)
    try:
        assert await session.read_all() == "awaited\n"
    finally:
        await session.close()
    async with aioexpect.spawn("echo", ["managed"], pty=False) as s:
        assert await s.read_all() == "managed\n"
    assert s.closed


async def test_one_opener_in_several_blocks_closes_each_ones_own_session():
    """The opener kept one value for all its blocks: two tasks sharing it,
    the first to leave closed the other's session and leaked its own."""
    opener = aioexpect.spawn("cat", timeout=5)
    sessions: dict[str, aioexpect.Session] = {}
    a_in, b_in, a_out = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with opener as s:
            sessions["a"] = s
            a_in.set()
            await b_in.wait()  # the other block entered last
        assert s.closed
        a_out.set()

    async def second() -> None:
        await a_in.wait()
        async with opener as s:
            sessions["b"] = s
            b_in.set()
            await a_out.wait()
            assert not s.closed
            await s.sendline("still mine")
            await s.expect("still mine")
        assert s.closed

    await asyncio.gather(first(), second())
    assert sessions["a"] is not sessions["b"]
    async with opener as outer:
        async with opener as inner:
            assert inner is not outer
        assert inner.closed and not outer.closed
        await outer.sendline("outer")
        await outer.expect("outer")
    assert outer.closed


async def test_a_block_left_in_another_task_closes_its_session():
    # A test fixture: entered in its set-up's task, left in its teardown's.
    opener = aioexpect.spawn("cat", timeout=5)

    async def fixture():
        async with opener as s:
            yield s

    held = fixture()
    session = await asyncio.create_task(anext(held))
    assert not session.closed
    assert await asyncio.create_task(anext(held, None)) is None
    assert session.closed


async def test_an_opener_is_a_coroutine_for_create_task():
    task = asyncio.create_task(aioexpect.spawn("echo", ["tasked"], pty=False))
    session = await task
    try:
        assert await session.read_all() == "tasked\n"
    finally:
        await session.close()
    server = await asyncio.create_task(aioexpect.start_console_server())
    async with server:
        assert server.port > 0


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
        # urlsplit's own message quoted the user name and password in clear
        # ('\u2100' is 'a/c' in NFKC: a '/' where the host would end).
        ("ssh://u:s3cret\u2100@h:1", ValueError, r"netloc 'u:\*+@h:1' contains invalid char"),
        # Port 0 is no service, not "the default port" (where the password would go).
        ("ssh://u:s3cret@host:0", ValueError, "bad port.*port 0"),
        ("telnet://u:s3cret@host:0", ValueError, "bad port"),
        # Options are arguments: a query or path would be silently ignored.
        ("ssh://u:s3cret@host:22?timeout=5", ValueError, "no path, query or fragment"),
        ("telnet://u:s3cret@host/config", ValueError, "no path, query or fragment"),
        # A password with a URL delimiter, unencoded: urlsplit would end the
        # host there (and quote the password in its own message).
        ("ssh://u:s3cret#x@host", ValueError, "percent-encode"),
        ("telnet://u:s3/cret@host:23", ValueError, "percent-encode"),
        ("ssh://u:s3cret?@host", ValueError, "percent-encode"),
        # urlsplit deletes a tab or line end anywhere: another password than
        # the one given was tried, or another host dialled.
        ("ssh://u:s3c\tret@127.0.0.1:22", ValueError, "holds a control character"),
        ("telnet://u:s3cret@127.0.\n0.1", ValueError, "holds a control character"),
        ("ssh://u:s3cret@host\r", ValueError, "holds a control character"),
        # urlsplit dials the address in brackets and drops what is around it
        ("ssh://u:s3cret@[::1]x", ValueError, r"text around the \[address\]"),
        ("ssh://u:s3cret@x[::1]:22", ValueError, r"text around the \[address\]"),
        ("telnet://u:s3cret@[::1]x:23", ValueError, r"text around the \[address\]"),
    ],
)
def test_bad_urls_are_value_errors(url, error, text):
    with pytest.raises(error, match=text) as info:
        aioexpect.connect(url)
    # (nor in the error it was raised from, which ``from None`` only hides:
    # urlsplit's NFKC message, the __context__, quoted the password)
    chain = [info.value, info.value.__context__, info.value.__cause__]
    assert not any("s3cret" in f"{e} {e.args!r}" for e in chain if e is not None)


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        # Taken as having no scheme, these were user "telnet" with password
        # "u:s3cret" (run_many sent them over SSH); connect said "no host".
        ("telnet:u:s3cret@127.0.0.1:2323", "telnet://u:********@127.0.0.1:2323"),
        ("ssh:u@127.0.0.1:2222", "ssh://u@127.0.0.1:2222"),
        ("SSH:/u:s3cret@h", "ssh://u:********@h"),
        ("Telnet:h", "telnet://h"),
    ],
)
def test_a_scheme_without_its_slashes_is_refused_with_the_fix(url, fix):
    with pytest.raises(ValueError, match="has no '//' after") as info:
        aioexpect.connect(url)
    assert f"write {fix!r}" in str(info.value)
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # '://' in a password, where the target names no scheme: 'admin' may
        # be named (it can be a scheme), the URL masked from its first ':'
        # (the host named, among many targets); 'admin:x' cannot be one and
        # starts the password (it was quoted, and run_many quoted the URL).
        ("admin://s3cret@127.0.0.1:1", "unsupported URL scheme 'admin' in 'admin:********@127."),
        ("admin:x://s3cret@127.0.0.1:1", "URL 'admin:********@127.0.0.1:1' does not parse"),
        ("ftp://u:s3cret@h", "unsupported URL scheme 'ftp' in 'ftp:********@h': "),
    ],
)
async def test_an_unsupported_scheme_shows_no_part_of_a_password(url, shown):
    for opening in (lambda: aioexpect.connect(url), lambda: aioexpect.run_many([url], _noop)):
        with pytest.raises(ValueError) as info:
            await opening()
        assert str(info.value).startswith(shown)
        assert "s3cret" not in str(info.value) and "x'" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    ["ssh://admin:Tr0ub4dor[s3cret]x@127.0.0.1:1", "telnet://admin:pa[s3cret@[::1]:1"],
)
async def test_a_bracket_in_a_password_is_refused_without_showing_it(url):
    # urlsplit checks what follows the netloc's first '[' as an IPv6
    # address, and its message quoted that part of the password.
    for opening in (lambda: aioexpect.connect(url), lambda: aioexpect.run_many([url], _noop)):
        with pytest.raises(ValueError, match=r"percent-encode it \(.*%5B, %5D\)") as info:
            await opening()
        assert "s3cret" not in str(info.value)


async def _noop(session):
    return None


@pytest.mark.parametrize("url", ["router1", "127.0.0.1:2222", "u:s3cret@router1"])
def test_a_url_without_a_scheme_is_refused_saying_so(url):
    # (not "unsupported URL scheme 'router1'": run_many takes these as ssh://)
    with pytest.raises(ValueError, match="names no scheme") as info:
        aioexpect.connect(url)
    assert "'ssh://" + url.replace("s3cret", "********") + "'" in str(info.value)
    assert "run_many" in str(info.value) and "s3cret" not in str(info.value)


async def test_a_url_may_end_with_a_slash_and_name_an_ipv6_zone():
    # The zone is percent-encoded in a URL (%25) and dialled decoded; the
    # error names the peer in brackets (refused, unresolvable, or timed out).
    with pytest.raises(aioexpect.ConnectError) as info:
        await aioexpect.connect("telnet://[fe80::1%25nosuchif0]:1/", timeout=0.5)
    assert "[fe80::1%nosuchif0]:1" in str(info.value)
    with pytest.raises(ValueError, match="bad port"):
        aioexpect.connect("ssh://h:70000")


def test_network_openers_check_their_arguments_before_connecting():
    # Raised by the call itself: nothing is dialled, no device sees a login
    # before a typo in a session option is found.  Port 1 has no server.
    for opener in (aioexpect.connect_ssh, aioexpect.connect_telnet):
        bad: list[tuple[dict[str, object], type[Exception], str]] = [
            ({"timeout": -1}, ValueError, "timeout must be"),
            ({"timeout": float("nan")}, ValueError, "timeout must be"),
            ({"timeout": "3"}, TypeError, "timeout must be"),
            ({"max_buffer": 0}, ValueError, "max_buffer"),
            ({"driver": "bogus"}, ValueError, "bogus"),
            ({"encoding": "bogus"}, ValueError, "unknown encoding"),
            ({"encoding": "rot13"}, ValueError, "not a text encoding"),
            ({"encoding": "zlib"}, ValueError, "not a text encoding"),
            # (output never came, and close() raised a bare UnicodeError)
            ({"encoding": "idna"}, ValueError, "cannot decode output as it arrives"),
            ({"codec_errors": "bogus"}, ValueError, "codec_errors"),
            ({"logfile": 123}, TypeError, "logfile"),
            ({"strip_ansi": "yes"}, TypeError, "strip_ansi"),
            ({"username": 5}, TypeError, "username must be a str"),
            ({"password": 5}, TypeError, "password must be a str"),
            ({"username": "a\nb"}, ValueError, "username must not hold control"),
            ({"password": "pw\x00"}, ValueError, "password must not hold control"),
            # (asyncssh's UnicodeEncodeError, the cause of the ConnectError
            # once awaited, held the password in its args)
            ({"password": "s3cret\udcff"}, ValueError, "password holds a lone surrogate"),
        ]
        for kwargs, error, text in bad:
            with pytest.raises(error, match=text) as info:
                opener("127.0.0.1", 1, **kwargs)  # type: ignore[arg-type]
            chain = [info.value, info.value.__context__, info.value.__cause__]
            assert not any("s3cret" in f"{e} {e.args!r}" for e in chain if e is not None)
        with pytest.raises(ValueError, match="port must be"):
            opener("127.0.0.1", 0)
        with pytest.raises(ValueError, match="host must not be empty"):
            opener("", 22)
        # (a NUL was the resolver's bare ValueError, once awaited)
        for host in ("h\x00st", "127.0.0.1\n", "h\tst"):
            with pytest.raises(ValueError, match="host must not hold control"):
                opener(host, 22)
    with pytest.raises(ValueError, match="host must not hold control"):
        aioexpect.connect("telnet://h%00st:2323")
    # SSH sends a user name as SASLprep (RFC 4013) prepares it: one it
    # refuses was asyncssh's own exception, from inside connect, once awaited.
    for name in ("admin\u05d0", "u\ue000", "u\udc80"):
        with pytest.raises(ValueError, match=r"cannot be sent over SSH.*SASLprep"):
            aioexpect.connect_ssh("127.0.0.1", 1, username=name)
    aioexpect.connect_ssh("127.0.0.1", 1, username="jos\u00e9")  # (prepared: taken)
    aioexpect.connect_telnet("127.0.0.1", 1, username="admin\u05d0")  # (telnet: bytes)
    with pytest.raises(TypeError, match=r"connect_ssh\(\) got unexpected .*timout"):
        aioexpect.connect_ssh("127.0.0.1", 1, timout=3)
    aioexpect.connect_ssh("127.0.0.1", 1, keepalive_interval=5)  # asyncssh's own: taken
    aioexpect.connect_ssh("127.0.0.1", 1, flags=0, sock=None, options=None)  # connect()'s own
    with pytest.raises(TypeError, match="takes timeout="):
        aioexpect.connect_ssh("127.0.0.1", 1, connect_timeout=5)
    with pytest.raises(ValueError, match="term_type"):
        aioexpect.connect_telnet("127.0.0.1", 1, term_type="vté")
    with pytest.raises(ValueError, match="term_type must not be empty"):
        aioexpect.connect_ssh("127.0.0.1", 1, term_type="")
    with pytest.raises(ValueError, match="printable ASCII"):
        aioexpect.connect_telnet("127.0.0.1", 1, term_type="xterm\r\n")
    for blank in ("", " "):
        with pytest.raises(ValueError, match="term_type must not be empty"):
            aioexpect.connect_telnet("127.0.0.1", 1, term_type=blank)


@pytest.mark.parametrize(
    "host", [" 127.0.0.1", "127.0.0.1 ", "  ", "router 1", "r1\u00a0", "\u3000r1"]
)
def test_a_host_with_a_space_is_refused_by_the_call(host: str) -> None:
    # A copy-and-paste's space failed only when dialled, as a name that does
    # not resolve ("[Errno -2] Name or service not known").
    for opener in (aioexpect.connect_ssh, aioexpect.connect_telnet):
        with pytest.raises(ValueError, match="host must not hold spaces"):
            opener(host, 22)
    url_host = host.replace(" ", "%20")
    for scheme in ("ssh", "telnet"):
        with pytest.raises(ValueError, match="host must not hold spaces"):
            aioexpect.connect(f"{scheme}://{url_host}:22")


def test_a_host_of_a_wrong_type_or_empty_is_refused_as_such() -> None:
    for opener in (aioexpect.connect_ssh, aioexpect.connect_telnet):
        with pytest.raises(TypeError, match="host must be a str, not int"):
            opener(3, 22)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="host must be a str, not bytes"):
            opener(b"127.0.0.1", 22)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="host must not be empty"):  # (was a TypeError)
            opener("", 22)


@pytest.mark.parametrize(
    ("term_type", "error", "words"),
    [
        (3, TypeError, "term_type must be a str.*, not int"),  # (telnet: a ValueError)
        (b"xterm", TypeError, "term_type must be a str.*, not bytes"),
        ("", ValueError, "term_type must not be empty"),
        ("  ", ValueError, "term_type must not be empty"),  # (SSH took these four)
        ("xterm\n", ValueError, "printable ASCII"),
        ("xterm\x00", ValueError, "printable ASCII"),
        ("vt\u00e9", ValueError, "printable ASCII"),
        ("\x1b[0m", ValueError, "printable ASCII"),
    ],
)
def test_both_network_openers_refuse_a_term_type_alike(
    term_type: object, error: type[Exception], words: str
) -> None:
    for opener in (aioexpect.connect_ssh, aioexpect.connect_telnet):
        with pytest.raises(error, match=words):
            opener("127.0.0.1", 1, term_type=term_type)  # type: ignore[arg-type]
    aioexpect.connect_ssh("127.0.0.1", 1, term_type=None)  # (SSH: no pty)
    with pytest.raises(TypeError, match="term_type must be a str, not NoneType"):
        aioexpect.connect_telnet("127.0.0.1", 1, term_type=None)  # type: ignore[arg-type]


def test_connect_names_the_url_scheme_for_an_option_its_opener_does_not_take():
    # An SSH option given with a telnet:// or spawn: URL said
    # "connect_telnet() got an unexpected keyword argument", naming a
    # function the user never called.
    with pytest.raises(
        TypeError, match=r"telnet:// URLs do not take: known_hosts \(known_hosts: ssh:// only\)"
    ):
        aioexpect.connect("telnet://127.0.0.1:1", known_hosts=None)
    with pytest.raises(
        TypeError, match=r"spawn: URLs do not take: client_keys, pty_size .*see spawn\(\)"
    ):
        aioexpect.connect("spawn:cat", pty_size=(1, 2), client_keys=())
    aioexpect.connect("telnet://127.0.0.1:1", term_type="vt100")  # its own: taken


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        # What the URL gives, given again: Python's 'spawn() got multiple
        # values for argument', naming a function the user never called.
        ("spawn:ls -l", {"command": "ls"}, r"got command=, which the spawn: URL gives"),
        ("spawn:ls -l", {"args": ["-a"]}, r"got args=, which the spawn: URL gives"),
        ("telnet://127.0.0.1", {"port": 2323}, r"got port=, which the telnet:// URL gives"),
        ("ssh://127.0.0.1", {"host": "h"}, r"got host=, which the ssh:// URL gives"),
        # ssh:// was not checked by scheme: 'connect_ssh() got unexpected...'
        ("ssh://127.0.0.1", {"pty": False}, r"ssh:// URLs do not take: pty \(pty: spawn: only\)"),
        ("ssh://127.0.0.1", {"timout": 3}, r"ssh:// URLs do not take: timout; see connect_ssh"),
        # The hints named ssh:// alone for what telnet:// takes too, and no
        # scheme for asyncssh's own options.
        (
            "spawn:ls",
            {"password": "x"},
            r"do not take: password \(password: telnet:// and ssh:// only\)",
        ),
        (
            "telnet://127.0.0.1",
            {"keepalive_interval": 30},
            r"\(keepalive_interval: ssh:// only\)",
        ),
        # The scheme check came first and lost connect_ssh()'s own hint.
        ("ssh://127.0.0.1", {"connect_timeout": 5}, r"connect\(\) takes timeout= \(it bounds"),
        ("telnet://127.0.0.1", {"connect_timeout": 5}, r"connect\(\) takes timeout="),
        ("spawn:ls", {"connect_timeout": 5}, r"connect\(\) takes timeout= \(for every wait\)"),
    ],
)
def test_connect_names_what_the_url_gives_and_which_schemes_take_an_option(url, options, message):
    with pytest.raises(TypeError, match=message):
        aioexpect.connect(url, **options)
    aioexpect.connect("ssh://127.0.0.1", keepalive_interval=30)  # asyncssh's: taken


def test_key_and_known_hosts_files_are_checked_by_the_call(tmp_path):
    # A ConnectError after dialling, which a retry would repeat, before.
    key = tmp_path / "id_test"
    key.write_text("not checked here: asyncssh reads it")
    for kwargs, text in [
        ({"client_keys": ["/no/key"]}, "client_keys: '/no/key': no such file"),
        ({"client_keys": "/no/key"}, "client_keys: '/no/key': no such file"),
        ({"client_keys": [(str(tmp_path / "k2"), str(key))]}, "k2': no such file"),
        ({"known_hosts": str(tmp_path / "kh")}, "known_hosts: .*kh': no such file"),
        ({"known_hosts": [str(key), tmp_path / "kh2"]}, "kh2': no such file"),
        ({"known_hosts": str(tmp_path)}, "a directory, not a file"),
        ({"client_keys": [tmp_path]}, "a directory, not a file"),
    ]:
        with pytest.raises(ValueError, match=text):
            aioexpect.connect_ssh("127.0.0.1", 1, **kwargs)
        with pytest.raises(ValueError, match=text):
            aioexpect.connect("ssh://127.0.0.1:1", **kwargs)
    aioexpect.connect_ssh("127.0.0.1", 1, client_keys=[str(key)], known_hosts=key)  # readable
    aioexpect.connect_ssh("127.0.0.1", 1, client_keys=None, known_hosts=None)


def test_a_client_key_of_a_wrong_type_is_a_type_error_from_the_call(tmp_path):
    # Before: taken, then an AttributeError from inside asyncssh.connect
    # ("'int' object has no attribute 'public_data'"), and from run_many a
    # host's failure instead of an error before anything opened.
    import asyncssh

    text = r"client_keys: a key is a file name, key data \(bytes\), an asyncssh key"
    for client_keys in (3, [3], [None], [["/a/key"]]):
        with pytest.raises(TypeError, match=text):
            aioexpect.connect_ssh("127.0.0.1", 1, client_keys=client_keys)
        with pytest.raises(TypeError, match=text):
            aioexpect.connect("ssh://127.0.0.1:1", client_keys=client_keys)
    key = asyncssh.generate_private_key("ssh-ed25519")
    pair = asyncssh.load_keypairs([key])[0]
    for client_keys in ([key], [pair], key, [b"key data"], None, ()):
        aioexpect.connect_ssh("127.0.0.1", 1, client_keys=client_keys, known_hosts=None)


async def test_network_errors_show_an_ipv6_peer_in_brackets():
    with socket.socket(socket.AF_INET6) if socket.has_ipv6 else socket.socket() as probe:
        host = "::1" if socket.has_ipv6 else None
        if host is None:
            pytest.skip("no IPv6 here")
        try:
            probe.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback here")
        port = probe.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(aioexpect.ConnectError) as info:
            await aioexpect.connect_telnet("::1", port, timeout=5)
    assert f"[::1]:{port}" in str(info.value)


_FOR_EVER = {  # an int past a float's range: for ever, as math.inf
    "ssh": lambda port: aioexpect.connect_ssh(
        "127.0.0.1", port, username="u", password="p", timeout=10**400
    ),
    # (ASCII: no wait for BINARY; the login waits for a prompt that never comes)
    "telnet": lambda port: aioexpect.connect_telnet(
        "127.0.0.1", port, username="u", password="p", encoding="ascii", timeout=10**400
    ),
}


@pytest.mark.parametrize("kind", sorted(_FOR_EVER))
async def test_an_int_timeout_past_a_float_connects_as_math_inf_does(kind):
    # The openers bounded the connection with timeout as given:
    # asyncio.timeout(10**400) (SSH) and loop.time() + 10**400 (telnet)
    # raised OverflowError, from no hierarchy, where math.inf waits.
    opening = _FOR_EVER[kind]
    with refused_port() as port, pytest.raises(aioexpect.ConnectError, match=str(port)):
        await opening(port)
    async with silent_server() as (port, accepted):
        await still_waiting(opening(port), accepted)


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
    # Only ssh:// and telnet:// are taken for a scheme: before another '://'
    # may be a user name, its password holding the '://'.
    assert redact_url("\ufefftelnet://u:pass@h") == "\ufefftelnet:********@h"
    assert redact_url("admin://pass@h:1") == "admin:********@h:1"
    assert redact_url("admin:x://pass@h") == "admin:********@h"
    assert redact_url("FTP://u:pass@h") == "FTP:********@h"
    assert redact_url("Telnet://u:pass@h") == "Telnet://u:********@h"
    assert redact_url("ssh:/u:pass@h") == "ssh:********@h"
    assert redact_url("u:pass@h") == "u:********@h"
    assert redact_url("spawn:ssh u@h") == "spawn:ssh u@h"


def test_spawn_argument_checks():
    with pytest.raises(TypeError, match="sequence of strings"):
        aioexpect.spawn("ls", "-l")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sequence of strings, not NoneType"):
        aioexpect.spawn("ls", None)  # type: ignore[arg-type]
    # Each argument went through str(): b'hi' reached the program as "b'hi'";
    # a NUL gave Python's bare 'embedded null byte' when awaited.
    with pytest.raises(TypeError, match=r"strings or paths, not bytes \(args\[1\]\)"):
        aioexpect.spawn("echo", ["-n", b"hi"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"not int \(args\[0\]\)"):
        aioexpect.spawn("sleep", [5])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"args\[0\] holds a NUL") as nul:
        aioexpect.spawn("echo", ["pass\0word"])
    assert "pass" not in str(nul.value)
    # ... and so did one in the command, the directory or the environment
    # (a '=' in a name: 'illegal environment variable name'), when awaited.
    for opener, named in [
        (lambda: aioexpect.spawn("ec\0ho"), "command holds a NUL"),
        (lambda: aioexpect.spawn("pwd", cwd="/t\0mp"), "cwd holds a NUL"),
        (lambda: aioexpect.spawn("env", env={"PW": "pass\0word"}), r"env\['PW'\] holds a NUL"),
        (lambda: aioexpect.spawn("env", env={"A=B": "x"}), "env name 'A=B' holds '='"),
        (lambda: aioexpect.spawn("env", env={"A\0": "x"}), "env name 'A.x00' holds"),
        (lambda: aioexpect.connect("spawn:env", env={"PW": "pass\0word"}), "env.'PW'. holds"),
        # A lone surrogate: a bare UnicodeEncodeError holding the value, when awaited.
        (lambda: aioexpect.spawn("echo", ["-n", "pass\ud800"]), r"args\[1\] cannot be encoded"),
        (lambda: aioexpect.spawn("env", env={"PW": "pass\ud800"}), r"env\['PW'\] cannot be"),
        (lambda: aioexpect.spawn("ec\ud800ho"), "command cannot be encoded"),
    ]:
        with pytest.raises(ValueError, match=named) as nul:
            opener()
        assert "pass" not in str(nul.value)
    with pytest.raises(TypeError, match="env must map str to str"):
        aioexpect.spawn("ls", env={"A": 1})  # type: ignore[dict-item]
    # The message showed the whole mapping, the other values with it.
    with pytest.raises(TypeError, match=r"env\['PGPORT'\] is int") as wrong:
        aioexpect.spawn("psql", env={"PGPASSWORD": "hunter2", "PGPORT": 5432})  # type: ignore[dict-item]
    assert "hunter2" not in str(wrong.value)
    with pytest.raises(TypeError, match="not bytes names") as wrong:
        aioexpect.spawn("psql", env={"PGPASSWORD": "hunter2", b"X": "y"})  # type: ignore[dict-item]
    assert "hunter2" not in str(wrong.value)
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


@pytest.mark.parametrize(
    ("options", "words"),
    [
        # Python's own, once awaited: "'int' object is not iterable", "dictionary
        # update sequence element #0 has length 1" and "expected str, bytes or
        # os.PathLike object, not int"; a list of pairs was taken.
        ({"env": 3}, "env must be a mapping of str to str, or None, not int"),
        ({"env": "A=b"}, "env must be a mapping of str to str, or None, not str"),
        ({"env": [("A", "b")]}, "env must be a mapping of str to str, or None, not list"),
        ({"cwd": 3}, "cwd must be a str or a path, not int"),
        ({"cwd": ["/tmp"]}, "cwd must be a str or a path, not list"),
    ],
)
@pytest.mark.parametrize("pty", [True, False])
async def test_spawn_refuses_an_env_or_cwd_of_a_wrong_type(
    options: dict[str, object], words: str, pty: bool
) -> None:
    # Raised by the call: nothing started, no descriptor or pty left open
    # (the harness checks that after each test).
    with pytest.raises(TypeError, match=words):
        aioexpect.spawn("true", pty=pty, **options)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="command must be a str or a path, not int"):
        aioexpect.spawn(3, pty=pty)  # type: ignore[arg-type]


async def test_a_command_and_cwd_given_as_bytes_still_run():
    # Checking them for a NUL must not refuse the bytes form os.fspath takes.
    async with aioexpect.spawn(b"pwd", cwd=b"/", pty=False, timeout=10) as s:  # type: ignore[arg-type]
        assert await s.read_all() == "/\n"


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


@pytest.mark.parametrize("closed", [0, 1, 2])
def test_run_with_a_standard_descriptor_closed_runs_on_asyncio(closed: int) -> None:
    # 'prog <&-' (or >&-, 2>&-): a descriptor of libuv's own could land on the
    # closed one, and libuv aborted the process closing it (status -6,
    # "uv__close: Assertion `fd > STDERR_FILENO' failed"), the job's result lost.
    program = (
        "import asyncio, os, aioexpect\n"
        "async def main():\n"
        "    async with aioexpect.spawn('cat', timeout=10) as s:\n"
        "        await s.sendline('ping')\n"
        "        await s.expect_exact('ping\\r\\n')\n"
        "    return type(asyncio.get_running_loop()).__module__\n"
        "os.write(int(sys.argv[1]), aioexpect.run(main()).encode())\n"
    )
    read, write = os.pipe()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import os, sys; os.close({closed}); exec({program!r})",
                str(write),
            ],
            pass_fds=(write,),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
        )
        os.close(write)
        said = os.read(read, 100).decode()
    finally:
        os.close(read)
        with contextlib.suppress(OSError):
            os.close(write)
    assert done.returncode == 0 and said == "asyncio.unix_events", (done, said)


def test_run_leaves_the_library_users_loop_alone():
    async def inside() -> type:
        return type(asyncio.get_running_loop())

    assert asyncio.run(inside()) is not uvloop.Loop
