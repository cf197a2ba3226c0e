"""What aioexpect tells a user to do about a question that is no prompt
(a login, a password, a command's ``[confirm]``): the end of the message of
an ``execute`` or ``expect_prompt`` that met one (the command line puts its
own words in its place)."""

from __future__ import annotations

__all__ = ["WAYS_OUT"]

#: What to do about a question (by ``question_kind``) that is no prompt.
WAYS_OUT = {
    "password": (
        "answer it with send_secret(password), then expect_prompt() (or call"
        " login(password=...), which does both and stops at a rejection)"
    ),
    "login": (
        "log in with login(username, password) (connect_telnet() does on opening,"
        " given username= and password=)"
    ),
    "confirm": (
        "answer it with send('y') (one key, as [confirm] takes; Enter: sendline())"
        " or sendline(answer), then expect_prompt(); or stop the command with"
        " sendintr(); no execute is sent while the text not read yet ends with it"
        " (if it is the device's prompt, a menu's, tell execute so with set_prompt())"
    ),
}
