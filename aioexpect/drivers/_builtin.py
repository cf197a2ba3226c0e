"""The shipped drivers: generic, shell, ios, iosxr, nxos, eos, junos, vrp.

Prompt patterns share three rules, so that output does not pass for a prompt:
a prompt starts a line (after ``\\n``, ``\\r`` or backspaces), it is the last thing
received (``\\Z``: a device prints its prompt, then waits), and it may be
interleaved with terminal control sequences (colours, window titles,
bracketed-paste switches), which ``strip_ansi=False`` sessions still see.
"""

from __future__ import annotations

from typing import Any

from .._driver import SHORT_CONTROL, Driver
from .._output import RIGHT_PROMPT

__all__ = ["BUILTIN", "SHELL", "prompt_pattern"]

# -- building blocks ---------------------------------------------------------
#
# Every repetition is bounded, so each pattern has a maximum width and the
# session resumes each search just that far before the end of what it
# already searched: linear time also on output with very long lines.

#: readline's wrap after a prompt as wide as the terminal: `` \r``; where
#: its last character ends a row, the space after it starts the next row
#: (`` \r ``: the space, ``\r``, the space again).
_WRAP = r"(?:(?<= )\r ?)?"
#: The NULs a terminal's padding is written as: terminfo delays a
#: sequence on some terminals (vt100's ``$<2>`` after a colour, ``$<3>``
#: after ``ESC[K``; vt220's after a colour), and zsh, bash's readline and
#: ``tput`` write that delay as NULs after it, as many as the line's speed
#: sends in it (8 and 12 at 38400 baud, a pty's and sshd's; 25 and 38 at
#: 115200), which the terminal shows as nothing.  Up to 26 after each
#: sequence in a prompt or after it (every delay at 38400 baud, a colour's
#: at 115200): the bound keeps the patterns as narrow as they were.
_PAD = r"\x00{0,26}"
#: A short control sequence: CSI (colours, modes), charset, keypad,
#: save/restore cursor, shift in/out, bell; then its padding, if any.
_SEQ = f"(?:{SHORT_CONTROL})"
_CSI = f"{_SEQ}{_PAD}"
#: Any control sequence: also OSC (a window title, up to 200 characters).
_OSC = r"\x1b\][^\x07\x1b\r\n]{0,200}(?:\x07|\x1b\\)"
ESC = rf"(?:{_CSI}|{_OSC})"
#: A run of sequences (after a prompt's sign or space, around its parts):
#: seven at most, the padding after a sequence counted as one (so up to
#: four sequences, three of them padded), as narrow as four padded ones
#: would be wide.  (Padding only right after a sequence's last byte, and
#: taken whole: a run of NULs is never split, never retried.)
_C = rf"(?:{_SEQ}|(?<=[@-~\x07\x0e\x0f])\x00{{1,26}}+){{0,7}}"
#: Start of a line: the buffer start, after a line feed or a carriage return,
#: or after backspaces (a pager prompt erased, then the prompt on its line);
#: or after padding (``_PAD``), which may be longer than any bound (``ESC[J``'s
#: ``$<50>`` is 213 NULs at 38400 baud, 640 at 115200, zsh's before its
#: prompt): a NUL shows nothing, so what follows starts where the padded
#: sequence left the cursor (zsh's clearing, at a line's start).
_SOL = r"(?:^|(?<=[\r\x08\x00]))"
#: After the prompt character: at most two spaces and control sequences, then
#: nothing (the device waits for input) -- but for the space and carriage
#: return with which readline moves to the next line a prompt that ends
#: exactly at the terminal's right margin.
_END = rf"{_C}(?: {_C}){{0,2}}{_WRAP}\Z"
#: ksh93's line editor (emacs or vi), as it starts to read its first line:
#: the prompt drawn again (``\r ESC[J \r`` first), then spaces to the
#: line's last column and backspaces back to where the prompt ends (one
#: fewer: the prompt's last space is one of them), where the cursor waits;
#: on a terminal up to 160 columns wide.
_ERASED = r" {1,160}\x08{1,160}"
#: ``_END``, or ksh93's spaces and backspaces right after the sign and its
#: sequences (Unix prompts; not after ``_END``'s spaces: as wide as those).
_SHELL_END = rf"{_C}(?:(?: {_C}){{0,2}}{_WRAP}|{_ERASED})\Z"
#: zsh's continuation prompts (``PS2``, ``%_> ``: ``quote> ``, ``then> ``)
#: are shaped like ``router>``, but the shell waits for the rest of a command
#: (what may follow: a space, a sequence, padding, nothing; not ``_END``
#: itself, which would widen every pattern).
_ZSH_PS2 = (
    r"(?!(?:for|foreach|while|until|repeat|select|if|then|else|elif|case|function|subsh"
    r"|cursh|array|quote|dquote|bquote|cmdsubst|mathsubst|math|cond|cmdor|cmdand|pipe"
    r"|errpipe|heredoc|heredocd|brace|braceparam|always)>(?![^ \x1b\x00]))"
)
#: The control sequences a prompt may begin with, eight at most: colours,
#: window titles and shell-integration marks (iTerm2 writes four or five:
#: OSC 133's ``D`` and ``A``, 1337's host and directory; VS Code's 633,
#: WezTerm's and Kitty's 133 and 7), then anything but a zsh continuation
#: prompt.  Unpadded: after padding the prompt starts anew (``_SOL``).
_A = rf"(?:{_SEQ}|{_OSC}){{0,8}}{_ZSH_PS2}"


def prompt_pattern(body: str) -> str:
    """A prompt regex that follows the three rules above, for ``body``."""
    return rf"{_SOL}{_A}(?:{body}){_END}"


# One piece of a Unix-style prompt: a run of name characters (possessive, so
# a failed match never tries to re-split it), a bracketed, parenthesised or
# braced group, or a control sequence.
_UNIX_TOKEN = (
    rf"(?:[\w.@:~/+,=!*^-]{{1,64}}+|{_CSI}"
    r"|\[[^\]\r\n\x1b]{0,48}\]|\([^)\r\n\x1b]{0,48}\)|\{[^}\r\n\x1b]{0,48}\})"
)
#: Readline's wrap of a prompt wider than the terminal (at 80 columns, a
#: deep directory): ``\r``, then the character that ended the row again
#: (``dir\rr``, `` \r ``, ``%\r%``).  A spaced prompt's parts may hold it:
#: a row of its own is no prompt (``ddd %``).  Any character is taken
#: here (a back-reference would not survive the patterns' alternation):
#: the session checks a match's wraps (``_wrap.wraps_fit``: the same
#: character, at the terminal's margin), or ``x:y\ry z$`` is a prompt.
_RW = r"\r(?=[^\s\x1b])"
#: The space before a spaced prompt's directory or sign, and the colours
#: around it (Gentoo's default, ``\[\e[01;32m\]\u@\h\[\e[01;34m\] \w \$``).
_S = rf"{_C} (?:\r )?{_C}"
#: A spaced prompt's directory, as deep as a path goes in a line, and one
#: that starts with ``~`` or ``/``; its sign (``%`` only after ``user@host``,
#: zsh's: ``eta:00:05 45%`` and ``sda1:ext4 98%`` are progress lines, where
#: a meter's pause ends a read).
_DIR = rf"(?:[^\s\x1b]|{_RW}){{1,255}}"
_PATH = rf"[~/](?:[^\s\x1b]|{_RW}){{0,254}}"
_SIGN = r"[$#%](?:\r[$#%])?"
_BASH_SIGN = r"[$#](?:\r[$#])?"
#: The usual prompts with spaces, a directory after the host name:
#: ``host:dir user$ `` (bash on macOS), ``user@host dir % `` (zsh on
#: macOS, Gentoo's ``$``) and ``user@host:~/dir # `` (FreeBSD's sh and
#: csh: the directory from ``~`` or ``/``, or a git remote such as
#: ``git@host:me/repo.git # notes`` would pass).  Only these shapes: a run
#: of words before ``%`` or ``>`` is as likely a progress line (``Downloading
#: 45%``), and a path before `` #`` or `` $`` without ``user@`` a command
#: in a script (``/usr/local/bin/backup.sh # nightly``, ``db1:/var/lib/mysql
#: # persist``, ``/usr/bin/java $OPTS``), cut short where a read ends after
#: its sign: BusyBox's ``/ # `` and root's ``host:~ # `` on SUSE are no
#: prompts here (``set_unique_prompt``).
_SPACED = (
    rf"[\w.\-]{{1,64}}(?::{_DIR}{_S}(?:[\w.\-]|{_RW}){{1,32}}{_BASH_SIGN}"
    rf"|@[\w.\-]{{1,64}}(?:{_S}{_DIR}|{_C}:{_C}{_PATH}){_S}{_SIGN})"
)
#: A bare sign is none alone in inverse video (``ESC[7m`` right before
#: it, ``ESC[27m`` or the text's end right after): zsh's PROMPT_SP mark (a
#: bold inverse ``#`` as root, ``%`` else, then spaces to the margin),
#: which a read that ends inside it (its one write split under load) cut
#: short into what looked like ``# ``: the answer ended there, and the
#: next one was shifted by one.  (A prompt drawn in inverse video up to
#: its space, or with more than the sign inverse, is still one; zsh's
#: ``%S%#%s `` is not.)
_BARE = r"(?!(?<=\x1b\[7m)[$#%](?:\x1b\[27m|(?:\x1b(?:\[(?:27?)?)?)?\Z))"
#: ``user@host:~/dir$ ``, ``[user@host ~]$ ``, ``(venv) host% ``,
#: ``MyHost-A1(config)# ``, coloured or titled; the spaced shapes
#: above; or a bare ``$ `` / ``# ``.  A prompt starts with a letter, ``_``,
#: ``~``, ``/`` or a bracket; a ``-`` only in bash's default of a login
#: shell, ``-bash-4.2$ `` (RHEL's for a user without a profile, ``su -
#: postgres``): ``-n%`` or ``--> x>`` is output.
UNIX_PROMPT = (
    rf"{_SOL}{_A}(?:\([\w.\-]{{1,40}}\) {_C})?"
    rf"(?:(?=[A-Za-z_~/\[({{]|-bash-\d)(?:{_UNIX_TOKEN}){{1,24}}+[$#%>]|{_SPACED}|{_BARE}[$#])"
    rf"{_SHELL_END}"
)
#: A Unix prompt, then zsh's right prompt (``RPROMPT``, ``RPS1``: a time,
#: the directory, a git branch), which zsh draws at the margin and moves
#: the cursor back from (``_output.RIGHT_PROMPT``): both moves, or text
#: after a prompt is output.  With them a bare ``% `` is a prompt too
#: (zsh's ``%# `` as a user).  A pattern of its own, with shorter window
#: titles in front than ``UNIX_PROMPT`` takes, to keep it as narrow.
_SHORT_ESC = rf"(?:{_SEQ}|\x1b\][^\x07\x1b\r\n]{{0,64}}(?:\x07|\x1b\\))"
#: What zsh writes after its right prompt's move back (bracketed paste on,
#: padded or not): a shorter run than ``_C``, to keep the pattern within
#: the searched width's bound.
_C_AFTER = rf"(?:{_SEQ}|(?<=[@-~\x07\x0e\x0f])\x00{{1,26}}+){{0,4}}"
UNIX_RIGHT_PROMPT = (
    rf"{_SOL}(?:{_SHORT_ESC}){{0,10}}{_ZSH_PS2}(?:\([\w.\-]{{1,40}}\) {_C})?"
    rf"(?:(?=[A-Za-z_~/\[({{]|-bash-\d)(?:{_UNIX_TOKEN}){{1,24}}+[$#%>]|{_SPACED}|{_BARE}[$#%])"
    rf"{_C}(?: {_C}){{0,2}}{RIGHT_PROMPT}{_C_AFTER}\Z"
)
_HOST = r"[A-Za-z][\w.\-/:]{0,63}"
#: A Cisco or Arista host name may start with a digit (``9k-core``, ``1R``:
#: NX-OS and EOS take one, as RFC 1123 does), then holds a letter, and no
#: ``:`` or ``/``: a number, an address or a time (``100#``, ``10.0.0.1>``,
#: ``2001:db8::1#``, ``12:00:01AM#``) on a line of its own is output.
_CISCO_HOST = rf"(?:{_HOST}|\d(?=[\w.\-]{{0,62}}[A-Za-z])[\w.\-]{{0,63}})"
#: ``router>``, ``router#``, ``MyHost-A1(config-if)#``, ``sw(s1)(config-s-s1)#``,
#: ``9k-core(config)#``.
CISCO_PROMPT = rf"{_SOL}{_A}{_CISCO_HOST}(?:\([\w.+\-/: ]{{1,60}}\)){{0,2}}[>#]{_END}"
#: ``RP/0/RSP0/CPU0:router#`` (the ``RP/...:`` prefix is optional).
_XR_NODE = r"RP/\d{1,3}/\w{1,16}/CPU\d{1,3}:"
IOSXR_PROMPT = rf"{_SOL}{_A}(?:{_XR_NODE})?{_CISCO_HOST}(?:\([\w.+\-/: ]{{1,60}}\))?[>#]{_END}"
#: ``user@router> `` (operational), ``user@router# `` (configuration),
#: ``root@router:RE:0% `` (the FreeBSD shell); with no host name set,
#: ``root@> ``, ``root> `` and ``root@:RE:0% ``.  JunOS always shows the
#: user, so a bare ``router#`` (IOS's shape) is not one of its prompts: it
#: would make ``junos`` a candidate for every Cisco-like prompt in
#: ``driver="auto"``, and a banner naming Juniper would then win.
_JUNOS_NAME = r"(?:[\w.\-]{1,64}@(?:[A-Za-z0-9:][\w.\-:]{0,63})?|root)"
_JUNOS_BODY = rf"{_JUNOS_NAME}[>#%]"
JUNOS_PROMPT = rf"{_SOL}{_A}{_JUNOS_BODY}{_END}"
#: The context line JunOS prints above its prompt: the chassis role
#: (``{master:0}``, ``{backup}``, ``{linecard:2}``, ``{primary:node0}`` in an
#: SRX cluster), the configuration level (``[edit]``, ``[edit interfaces
#: ge-0/0/0]``), or both (``{master:0}[edit]``).
_JUNOS_EDIT = r"\[edit(?: [^\]\r\n]{1,200})?\]"
_JUNOS_ROLE = (
    r"\{(?:master|backup|linecard|primary|secondary|secondary-hold|hold|ineligible|disabled"
    r"|lost)(?::[\w\-]{1,32})?\}"
)
JUNOS_CONTEXT = rf"(?:{_JUNOS_ROLE}(?:{_JUNOS_EDIT})?|{_JUNOS_EDIT})"
#: The prompt with its context line, if any, and the blank line JunOS puts
#: between output and context (or prompt, with no context: a router with one
#: routing engine, in operational mode); the blank line starts a line of its
#: own (after ``\n``, or at the buffer start).  They belong to the prompt, not
#: to the output.  The match spans three lines, so it is searched in the last
#: ones only (it is bounded and ends at ``\Z``: see ``_scan``).  The CLI's
#: prompts only (``>``, ``#``): the FreeBSD shell's (``%``) has no blank line.
JUNOS_CONTEXT_PROMPT = (
    rf"(?:^(?:\r{{0,2}}\n)?|{_SOL})(?:{JUNOS_CONTEXT}[ \t]{{0,8}}\r{{0,2}}\n)?"
    rf"{_A}{_JUNOS_NAME}[>#]{_END}"
)
#: ``<HUAWEI>`` (user view), ``[HUAWEI]``, ``[~HUAWEI-GigabitEthernet0/0/1]``.
VRP_PROMPT = rf"{_SOL}{_A}(?:<[~*]?{_HOST}>|\[[~*]?{_HOST}\]){_END}"
VRP_USER_VIEW = rf"{_SOL}{_A}<[~*]?{_HOST}>{_END}"

#: Where a device puts its refusal of a command: the first line of its
#: answer (after blank lines), which is the start of ``execute``'s output.
#: Error patterns whose words any output may hold at a line start (a log
#: file shown, a banner in the configuration) are searched there only.
_FIRST = r"\A\s*"
CISCO_ERRORS = (
    # (Cisco ASA puts ``ERROR: `` in front: ``ERROR: % Invalid input detected ...``)
    r"^[ \t]*(?:ERROR: )?% ?(?:Invalid|Incomplete|Ambiguous|Unknown|Unrecognized|Unavailable|Unable"
    r"|Not supported|Bad|Error|Failed)\b[^\r\n]*",
    # (``banner motd ^C`` then ``% Access denied to unauthorised users``)
    rf"{_FIRST}% ?(?:Access denied|Permission denied)\b[^\r\n]*",
)
#: NX-OS refuses configuration in capitals: ``ERROR: Ethernet1/1: Config not
#: allowed, ...``.
NXOS_ERRORS = (*CISCO_ERRORS, rf"{_FIRST}ERROR: [^\r\n]*")
#: JunOS: ``syntax error, expecting <command>.``, ``unknown command.``
JUNOS_ERRORS = (
    r"^[ \t]*(?:syntax error\b|unknown command\.)[^\r\n]*",
    r"^[ \t]*error: [^\r\n]*",
)
#: VRP's syntax errors; ``generic`` knows these only (a Unix program's
#: ``Error: ...`` line need not mean its command failed).
VRP_SYNTAX_ERRORS = (
    r"^[ \t]*Error: ?(?:Unrecognized command|Wrong parameter|Incomplete command|"
    r"Too many parameters|Ambiguous command|Failed)[^\r\n]*",
)
#: Every VRP error starts so (``Error: The interface does not exist.``,
#: ``Error: You do not have permission ...``); a counter (``Error: 0``) and
#: a field with no value (``Error: N/A``, ``Error: None``, ``Error: -``) do not.
VRP_ERRORS = (
    *VRP_SYNTAX_ERRORS,
    rf"{_FIRST}Error: ?(?!(?i:n/a|none)[ \t]*$)[A-Za-z][^\r\n]*",
)
#: A shell's name, as its own messages start (``/bin/sh``, a login shell's
#: ``-sh``; mksh R59 puts ``E: `` in front): not another program's (``grep:
#: x: No such file or directory`` is the output of a command that ran).
_SH = r"-?(?:[\w.\-]{0,64}/){0,8}(?:sh|ash|dash|bash|ksh|ksh93|mksh|lksh|pdksh|oksh|posh|yash)"
_SHELL_NAME = rf"(?:E: )?{_SH}"
#: A shell's own words for a command it could not parse, after its name:
#: ``syntax error`` or ``parse error``, and those that say neither: bash's
#: unclosed quote or bracket (``unexpected EOF while looking for matching
#: `"'``) and ``[[ ]]`` (``unexpected argument `]]' to conditional binary
#: operator``), ksh93's arithmetic (``1+: more tokens expected``), zsh's
#: (``bad math expression: operand expected``, ``unmatched "``, ``closing
#: brace expected``), mksh's unclosed quote (``no closing quote``), dash's
#: arithmetic (``arithmetic expression: expecting primary: "1+"``).  In
#: English: the C locale's (bash translates them, ``Syntaxfehler``).
_PARSE_WORDS = (
    r"(?:[Ss]yntax|parse) error\b|unexpected EOF while looking for "
    r"|conditional binary operator expected|to conditional (?:unary|binary) operator$"
    r"|in conditional command$|expected `\)'$|more tokens expected$|bad math expression: "
    r"|unmatched [`'\"]$|closing brace expected$|no closing quote$"
    r"|arithmetic expression: expecting "
)
#: A shell's own syntax error: its name first (``bash: syntax error near
#: unexpected token``, ``dash: 2: Syntax error:``, ``zsh: parse error
#: near``, ``ksh: syntax error:``, ``E: mksh: syntax error:``, BusyBox's
#: ``sh: syntax error:``; ``bash: -c: line 1:``, ``zsh:1:``; the words
#: above), or a script's name in the shell's own form: bash's and BusyBox's
#: ``x.sh: line 3: syntax error`` then `` near``, ``:`` or `` in`` (bash's
#: ``unexpected EOF while looking for``), dash's ``x.sh: 3: Syntax
#: error:`` (``arithmetic expression: expecting``), ksh93's ``x.sh: syntax
#: error at line 3:``, mksh's ``E: x.sh[3]: syntax error:`` (``no closing
#: quote``), zsh's ``x.sh:3: parse error`` (``bad math expression:``,
#: ``unmatched "``; and its ``(eval):1:``), and bash's in arithmetic, in a
#: script (``x.sh: line 2: 1+: syntax error: operand expected (error token
#: is "+")``; a function under ``-c``: ``environment: line 1: ...``; ksh93's
#: ``x.sh: line 2: 1+: more tokens expected``), BusyBox's (``x.sh: line 2:
#: arithmetic syntax error``), mksh's (``W: x.sh[2]: 1+: unexpected 'end of
#: expression'``, ``W: mksh: 1 @ 2: unexpected '@'``).  Not a program's
#: (``jq: error: syntax error, unexpected``, ``mawk: line 1: syntax error
#: at or near``, ``expr: syntax error:``, ``(standard_in) 1: syntax error``
#: from bc, a log line quoted by ``cat``): the command ran, and its output
#: is output.
_SHELL_SYNTAX = (
    rf"^(?:(?:{_SHELL_NAME}|-?(?:[\w.\-]{{0,64}}/){{0,8}}zsh)(?::\d+)?: [^\r\n]*?"
    rf"(?:{_PARSE_WORDS})"
    r"|[^\r\n]*?(?:: line \d+: (?:syntax error(?: near |: | in )|unexpected EOF while looking for )"
    r"|: line \d+: arithmetic syntax error$"
    r"|: \d+: (?:eval: )?(?:Syntax error: |arithmetic expression: expecting )"
    r"|: syntax error at line \d+: |\[\d+\]: (?:syntax error: |no closing quote$)"
    r"|:\d+: (?:parse error(?: near | in |: |$)|bad math expression: |unmatched [`'\"]$))"
    # (bash's and ksh93's arithmetic: the script's name, no ':' in it, first,
    # so that a line of many ': line 1: ' is not searched from each)
    r"|[^\r\n:]{1,255}: line \d+: [^\r\n]{1,1024}?: (?:syntax error(?:: operand expected"
    r"|: invalid arithmetic operator| in expression| in variable assignment)"
    r' \(error token is "|more tokens expected$|arithmetic syntax error$)'
    # (mksh's: a warning's ``W: `` first, the shell's or a script's name)
    rf"|W: (?:{_SH}|[^\r\n:\[]{{1,255}}\[\d+\]): [^\r\n]{{1,1024}}?: "
    r"unexpected '[^'\r\n]{1,64}'$)[^\r\n]*"
)
SHELL_ERRORS = (
    # (ending its line, as a shell, sudo and a command-not-found handler
    # print it: Fedora's with "...", where sudo's log line goes on, ``alice :
    # command not found ; TTY=pts/1 ; ...``, and is output)
    r"^[^\r\n]*: command not found(?:\.{3})?[ \t]*$",
    r"^[^\r\n]*\bcommand not found: [^\r\n]*",
    r"^[\w./\-]*sh: \d+: [^\r\n]*: not found$",
    # ksh93, mksh and BusyBox's ash (``sh``) name no line: ``ksh: x: not
    # found``, ``E: mksh: x: inaccessible or not found``
    rf"^{_SHELL_NAME}: [^\r\n]*: (?:inaccessible or )?not found(?: \[[^\]\r\n]{{1,64}}\])?$",
    # A command the shell could not run, named by a path (dash says ``not
    # found``, above): missing, not executable, a directory, or a
    # redirection's file.  The shell's name, then the path alone (bash's
    # ``bash: ./deploy.sh: No such file or directory``, dash's ``dash: 4:
    # ./x: Permission denied``, ksh93's ``ksh: ./x: cannot execute
    # [Permission denied]``, mksh's ``E: mksh: ./x: can't execute: Is a
    # directory``), or zsh's words first (``zsh: permission denied: ./x``):
    # a builtin's (``bash: cd: /x: No such file or directory``, zsh's ``cd:
    # no such file or directory: /x``) and a program's (``cat: x:
    # Permission denied``) are output.
    rf"^{_SHELL_NAME}: (?:\d+: )?[^\r\n:]{{1,255}}: "
    r"(?:cannot (?:execute|open|create) \[|can't execute: )?"
    r"(?:No such file or directory|Permission denied|Is a directory)\]?$",
    # A redirection's file as dash and BusyBox's ash word it (``dash: 3:
    # cannot create /x/y: Directory nonexistent``, ``sh: can't open x: no
    # such file``): the words first, then the path (``sh: 2: .: cannot
    # open x``, the ``.`` builtin's, is output, as bash's ``cd``'s is).
    rf"^{_SHELL_NAME}: (?:\d+: )?(?:cannot|can't) (?:create|open) [^\r\n]{{1,255}}: "
    r"(?:No such file|no such file|Directory nonexistent|nonexistent directory"
    r"|Permission denied|Is a directory)$",
    r"^-?(?:[\w.\-]{0,64}/){0,8}zsh: (?:no such file or directory|permission denied"
    r"|is a directory): [^\r\n]*",
    _SHELL_SYNTAX,
)

#: Where a question's word starts: a word boundary, or right after a colour
#: (``\x1b[1mPassword:``, where ``m`` and ``P`` are both word characters).
_WORD = r"(?:\b|(?<=[0-9;\[]m))"
#: Between a question's word and its colon: a colour may end there
#: (``\x1b[1mPassword\x1b[0m: ``), before or after a space.
_Q = rf"(?:{_CSI}){{0,2}}"
_COLON = rf" ?{_Q}:"
#: The questions' words, in any case (``Username``, ``USERNAME``, ``LOGIN``),
#: the username's and the password's alike.
_USER_WORD = r"(?i:(?:user|login)(?: ?(?:name|id))?)"
_PASSWORD_WORD = r"(?i:pass(?:word|wd|code|phrase))"
#: A default offered in parentheses: ``Username (admin): ``.
_DEFAULT = r"(?: \([^()\r\n\x1b]{1,32}\))?"
LOGIN = (rf"{_WORD}{_USER_WORD}{_Q}(?: as)?{_DEFAULT}{_COLON} ?{_END}",)
PASSWORD = (rf"{_WORD}{_PASSWORD_WORD}{_Q}(?: for [^\r\n:]{{1,64}})?{_COLON} ?{_END}",)
LOGIN_FAILURE = (
    r"Login incorrect",
    r"% ?(?:Login invalid|Authentication failed|Access denied|Bad (?:passwords?|secrets?))",
    r"[Aa]ccess denied",
    r"Permission denied",
    r"[Aa]uthentication fail(?:ed|ure)",
    r"Error: (?:Username or password error|Failed to authenticate|Authentication fail)",
    r"[Ii]nvalid (?:login|password|username|credentials)",
    r"[Ll]ogin (?:failed|invalid)",
)
#: `` --More-- `` (Cisco, Arista), ``  ---- More ----`` (Huawei),
#: ``---(more 42%)---`` (JunOS), ``--More--(50%)`` (more(1)), ``<--- More --->``
#: (Cisco ASA: the others' dashes start after no ``<``, or ``<--- More --``,
#: cut short by a chunk's end, would be answered and its ``->`` be output).
PAGER = (
    rf"(?<![<-])-{{2,4}} ?\(?[Mm]ore(?: \d{{1,3}}%)?\)? ?-{{2,4}}(?:\(\d{{1,3}}%\))?{_END}",
    rf"<--- More --->{_END}",
)

# Guessing: banners, and a prompt shape as IOS's weaker evidence.
_CISCO_SHAPE = (
    rf"{_SOL}{_A}(?=[A-Za-z]|\d[\w.\-]{{0,62}}[A-Za-z])[\w.\-]{{1,64}}"
    rf"(?:\(config[\w.\-]*\))?[>#]{_END}"
)
#: The login dialog's header of every Cisco OS: it counts for each (ios,
#: iosxr, nxos), so it decides none of their ties.
_CISCO_LOGIN = r"User Access Verification"

# -- the drivers ---------------------------------------------------------------


def _driver(name: str, **fields: Any) -> Driver:
    """A shipped driver: the usual login dialog and pager unless ``fields``
    say otherwise."""
    dialog: dict[str, Any] = {
        "login_patterns": LOGIN,
        "password_patterns": PASSWORD,
        "login_failure_patterns": LOGIN_FAILURE,
        "pager_patterns": PAGER,
    }
    return Driver(name, **(dialog | fields))


GENERIC = _driver(
    "generic",
    prompt_patterns=(UNIX_PROMPT, VRP_USER_VIEW, UNIX_RIGHT_PROMPT),
    error_patterns=CISCO_ERRORS + JUNOS_ERRORS[:1] + VRP_SYNTAX_ERRORS,
    description="Unix, Cisco, Arista, Juniper and Huawei prompts ending in $ # > %",
)

SHELL = _driver(
    "shell",
    prompt_patterns=(UNIX_PROMPT, UNIX_RIGHT_PROMPT),
    error_patterns=SHELL_ERRORS,
    pager_patterns=(),  # a shell's pagers (less, more) are not answered blindly
    guess_patterns=(
        rf"{_SOL}{_A}[\w.\-]+@[\w.\-]+:[^\r\n]*[$#]{_END}",
        # (the spaced shapes: macOS's bash and zsh, Gentoo, FreeBSD's csh)
        rf"{_SOL}{_A}(?:{_SPACED}){_END}",
        r"\[[\w.\-]+@[\w.\-]+ [^\]\r\n]*\][$#]",
        r"\bbash-\d+\.\d+[$#]",
        # (not "Last login:": every Linux-based network OS prints it too,
        # Arista EOS over SSH, say, before its "leaf1>")
        r"\b(?:GNU/Linux|Ubuntu|Debian|CentOS|Red Hat|Fedora|FreeBSD|OpenBSD|Darwin)\b",
    ),
    description="POSIX shells: bash, dash, zsh, ksh, mksh, BusyBox ash",
)

IOS = _driver(
    "ios",
    prompt_patterns=(CISCO_PROMPT,),
    error_patterns=CISCO_ERRORS,
    guess_patterns=(
        r"Cisco IOS(?: XE)? Software",
        r"\bIOS \(tm\)",
        r"Cisco Internetwork Operating System",
        _CISCO_LOGIN,
        _CISCO_SHAPE,
    ),
    init_commands=("terminal length 0", "terminal width 0"),
    description="Cisco IOS and IOS-XE",
)

IOSXR = _driver(
    "iosxr",
    prompt_patterns=(IOSXR_PROMPT,),
    error_patterns=CISCO_ERRORS,
    guess_patterns=(
        r"Cisco IOS XR Software",
        r"\bIOS XR\b",
        r"(?:^|\r)RP/\d+/\w+/CPU\d+:",
        _CISCO_LOGIN,
    ),
    init_commands=("terminal length 0", "terminal width 512"),
    description="Cisco IOS-XR",
)

NXOS = _driver(
    "nxos",
    prompt_patterns=(CISCO_PROMPT,),
    error_patterns=NXOS_ERRORS,
    guess_patterns=(
        r"Cisco Nexus Operating System",
        r"\bNX-OS\b",
        r"\bNexus \d+",
        _CISCO_LOGIN,
    ),
    init_commands=("terminal length 0", "terminal width 511"),
    description="Cisco NX-OS",
)

EOS = _driver(
    "eos",
    prompt_patterns=(CISCO_PROMPT,),
    error_patterns=CISCO_ERRORS,
    guess_patterns=(r"\bArista\b", r"\bArista Networks EOS\b", r"\bEOS version\b"),
    init_commands=("terminal length 0", "terminal width 32767"),
    description="Arista EOS",
)

JUNOS = _driver(
    "junos",
    prompt_patterns=(JUNOS_CONTEXT_PROMPT, JUNOS_PROMPT),
    error_patterns=JUNOS_ERRORS,
    guess_patterns=(
        r"\bJUNOS\b",
        r"\bJunos\b",
        r"\bJuniper\b",
        _JUNOS_ROLE,
        rf"{_SOL}{_A}(?:[\w.\-]+@[\w.\-]*|root)[>#]{_END}",
        rf"{_SOL}{_A}[\w.\-]+@[\w.\-]*:RE:\d{{1,2}}%{_END}",  # (the shell's)
    ),
    init_commands=("set cli screen-length 0", "set cli screen-width 0"),
    description="Juniper JunOS",
)

VRP = _driver(
    "vrp",
    prompt_patterns=(VRP_PROMPT,),
    error_patterns=VRP_ERRORS,
    guess_patterns=(
        r"\bHuawei\b",
        r"\bHUAWEI\b",
        r"Versatile Routing Platform",
        r"\bVRP\b",
        VRP_PROMPT,
    ),
    init_commands=("screen-length 0 temporary",),
    pager_response=" ",
    description="Huawei VRP",
)

#: In registration order.  Ties in guessing go to the driver whose patterns
#: find the prompt itself, then to the later one: a bare ``name#`` prompt is
#: IOS (only IOS guesses from that shape alone), also after a banner with
#: one word of another vendor's in it, unless a banner says more (two
#: patterns of a driver's, ``Arista Networks EOS``) or a shell-like prompt
#: does.  SHELL, last, wins its ties (a Unix banner) with a prompt's shape.
BUILTIN = (GENERIC, IOS, IOSXR, NXOS, EOS, JUNOS, VRP, SHELL)
