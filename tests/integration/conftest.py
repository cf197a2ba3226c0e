"""Real servers for the integration tier, on 127.0.0.1 ports chosen by the OS.

- ``sshd``: OpenSSH's sshd in inetd mode (``sshd -i``) behind ``socat``,
  with its own config, host key and authorized_keys in a temporary
  directory; password and public-key login for ``it_user``.
- ``telnetd``: inetutils telnetd behind ``socat``, serving the real
  ``/bin/login``.

``socat TCP-LISTEN:0`` lets the kernel pick the port; ``socat -d -d`` says
which.  Creating the test user (``useradd`` + ``chpasswd``) needs root; the
fixtures skip without it, or fail under ``AIOEXPECT_REQUIRE_INTEGRATION=1``
like ``need()``.  Every process started here is killed at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from tests.conftest import REQUIRE_INTEGRATION, need

#: The account the servers log in; created for the session, removed after.
#: One per test process: concurrent runs must not reset each other's
#: password or delete the account under each other's feet.
USER = f"aioexpect-it-{os.getpid()}"
#: A prompt the tests set (PS1), built so that the echoed command differs.
PROMPT = "IT-PROMPT> "
SET_PROMPT = (
    "PS1='IT-''PROMPT> '; PS2=''; unset PROMPT_COMMAND; bind 'set enable-bracketed-paste off'"
)
_LISTENING = re.compile(r"listening on AF=2 127\.0\.0\.1:(\d+)")


@dataclass(frozen=True)
class Account:
    name: str
    password: str
    home: Path


@dataclass
class Server:
    """A socat-fronted server: its port and everything it logged."""

    port: int
    process: subprocess.Popen[bytes]
    log: list[str]
    known_hosts: Path | None = None
    client_key: Path | None = None
    #: The thread reading ``process``'s log; it closes the pipe at its end.
    drain: threading.Thread | None = None

    def logged(self) -> str:
        return "".join(self.log)


def _need_root() -> None:
    if os.geteuid() != 0:
        message = "integration tests need root to create a test user (useradd, chpasswd)"
        if REQUIRE_INTEGRATION:
            pytest.fail(message + " (AIOEXPECT_REQUIRE_INTEGRATION=1)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def it_user() -> Iterator[Account]:
    """A fresh local account with a random password and bash as its shell."""
    _need_root()
    useradd = need("useradd", "Debian passwd")
    chpasswd = need("chpasswd", "Debian passwd")
    userdel = need("userdel", "Debian passwd")
    created = subprocess.run(["id", USER], capture_output=True, check=False).returncode != 0
    if created:
        subprocess.run([useradd, "-m", "-s", "/bin/bash", USER], check=True, capture_output=True)
    password = "It-" + secrets.token_urlsafe(12)
    subprocess.run([chpasswd], input=f"{USER}:{password}\n".encode(), check=True)
    home = Path(os.path.expanduser(f"~{USER}"))
    try:
        yield Account(USER, password, home)
    finally:
        if created:
            subprocess.run([userdel, "-r", "-f", USER], check=False, capture_output=True)


def _start_socat(target: str, log_prefix: str) -> Server:
    """``socat`` listening on a kernel-chosen 127.0.0.1 port, exec'ing ``target``
    (with the connection as its stdin/stdout) for each client."""
    socat = need("socat", "Debian socat")
    proc = subprocess.Popen(
        [socat, "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork", f"EXEC:{target},nofork"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    log: list[str] = []
    found: list[int] = []
    ready = threading.Event()

    def drain() -> None:
        # Read socat's (and the server's) log until it exits; keeps the pipe
        # from filling up, and finds the port.
        # The pipe is closed here, at its end, not by _stop: closed under
        # a read in this thread, it failed in the read.
        assert proc.stderr is not None
        with proc.stderr:
            for raw in proc.stderr:
                line = raw.decode(errors="replace")
                log.append(line)
                if not found and (m := _LISTENING.search(line)):
                    found.append(int(m.group(1)))
                    ready.set()
        ready.set()

    reader = threading.Thread(target=drain, name=f"{log_prefix}-log", daemon=True)
    reader.start()
    if not ready.wait(10) or not found:
        _stop(proc, reader)
        pytest.fail(f"{log_prefix}: socat did not start listening:\n{''.join(log)}")
    return Server(port=found[0], process=proc, log=log, drain=reader)


def _stop(proc: subprocess.Popen[bytes], reader: threading.Thread | None) -> None:
    """Kill socat and every process it started (sshd/telnetd, login, shells),
    and let ``reader`` read their log to its end (all writers gone)."""
    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    for p in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.send_signal(signal.SIGTERM)
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    _, alive = psutil.wait_procs(family, timeout=3)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    if reader is not None:
        reader.join(10)


SSHD_CONFIG = """\
HostKey {dir}/ssh_host_ed25519_key
ListenAddress 127.0.0.1
PidFile none
UsePAM no
StrictModes no
PermitRootLogin no
AllowUsers {user}
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile {dir}/authorized_keys
PrintMotd no
PrintLastLog no
Banner none
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
LogLevel VERBOSE
"""


@pytest.fixture(scope="session")
def sshd(it_user: Account) -> Iterator[Server]:
    """OpenSSH's sshd for ``it_user`` (password or the fixture's client key)."""
    sshd_path = need("sshd", "Debian openssh-server")
    keygen = need("ssh-keygen", "Debian openssh-client")
    # Not under pytest's 0700 tmp root: sshd reads authorized_keys as the user.
    d = Path(tempfile.mkdtemp(prefix="aioexpect-sshd-"))
    d.chmod(0o755)
    try:
        yield from _serve_sshd(sshd_path, keygen, d, it_user)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _serve_sshd(sshd_path: str, keygen: str, d: Path, it_user: Account) -> Iterator[Server]:
    for name in ("ssh_host_ed25519_key", "id_ed25519"):
        subprocess.run(
            [keygen, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(d / name)],
            check=True,
        )
    (d / "authorized_keys").write_text((d / "id_ed25519.pub").read_text())
    (d / "authorized_keys").chmod(0o644)
    config = d / "sshd_config"
    config.write_text(SSHD_CONFIG.format(dir=d, user=it_user.name))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
    check = subprocess.run(
        [sshd_path, "-t", "-f", str(config)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, f"sshd rejects its config: {check.stderr}"
    server = _start_socat(f"{sshd_path} -i -e -f {config}", "sshd")
    host_key = (d / "ssh_host_ed25519_key.pub").read_text().split()
    known_hosts = d / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{server.port} {host_key[0]} {host_key[1]}\n")
    server.known_hosts = known_hosts
    server.client_key = d / "id_ed25519"
    try:
        yield server
    finally:
        _stop(server.process, server.drain)


@pytest.fixture(scope="session")
def telnetd(it_user: Account) -> Iterator[Server]:
    """inetutils telnetd (serving /bin/login) for ``it_user``."""
    telnetd_path = need("telnetd", "Debian inetutils-telnetd")
    if not os.access("/bin/login", os.X_OK):
        need("login", "Debian login")
    server = _start_socat(f"{telnetd_path} -h", "telnetd")
    try:
        yield server
    finally:
        _stop(server.process, server.drain)
