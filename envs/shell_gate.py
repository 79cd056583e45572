"""The shell gate: what a typed command line would do, judged by class rather than by its words.

The line is read with :mod:`envs.shell_syntax` (quotes removed, substitutions and groups opened up), and every
simple command in it (pipeline stages, commands inside ``$(…)``, backticks, ``<(…)``, function bodies, the
code handed to ``bash -c``, ``ssh``, ``watch``, ``alias``) is judged on its own, after the wrappers that only
run it (``env``, ``nice``, ``timeout``, ``xargs``, ``find -exec`` …) are looked through. Each redirection is
judged too. The classes (``CLASSES``, described in docs/safety.md) are what the issue of rewordings is about:
a harm keeps its class whatever it is called, quoted or wrapped in.

The working directory is the one thing the gate cannot see: it counts a relative path with no ``..`` as
inside it (unless an earlier ``cd`` on the line left it), and anything else as outside.

Data enters as the text typed so far and leaves as a :class:`ShellRisk` (or None).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Callable

from envs.shell_syntax import Command, Incomplete, Script, ShellSyntaxError, Word, parse

CLASSES = {
    "delete": "deleting, moving over or truncating files (also disk tools that erase a device)",
    "overwrite": "writing to an existing file outside the working directory (a redirection, tee, cp, dd …)",
    "privilege": "changing privileges or accounts (sudo, su, doas, pkexec, passwd …)",
    "code": "an interpreter given code inline (python -c, perl -e, bash -c, eval, piped into a shell …)",
    "computed": "a command name that comes from a variable, a substitution or an expansion",
    "system": "package managers, services, power, the kernel, every process, a fork bomb, permissions",
    "network": "network fetches that write a file or run what they fetch",
    "git": "git commands that destroy work (reset --hard, clean -f, push --force …)",
    "unreadable": "a line that bash would run but the gate cannot read",
}
MAX_DEPTH = 6  # code inside code (bash -c "ssh h 'eval …'"): deeper than this is judged unreadable
SINKS = {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "-"}


@dataclass(frozen=True)
class ShellRisk:
    kind: str  # a key of CLASSES
    reason: str  # in words, with the command it is about


def shell_risk(text: str) -> str:
    """Why running ``text`` in a shell would be risky, or '' when it would not (see :func:`judge_line`)."""
    risk = judge_line(text)
    return risk.reason if risk else ""


def judge_line(text: str, depth: int = 0) -> ShellRisk | None:
    """The first risk of a typed line (the text so far: a line still being typed is judged on its words)."""
    if depth > MAX_DEPTH:
        return ShellRisk("unreadable", "code nested too deep to follow")
    scripts, unreadable = read_line(text)
    if unreadable:
        return ShellRisk("unreadable", f"a line the gate cannot read, which bash would run ({unreadable[0][:60]})")
    place = _Place()
    for script in scripts:
        for command in walk(script):
            risk = judge_command(command, place, depth)
            if risk:
                return risk
    return None


# -- reading -----------------------------------------------------------------------------------------------

def read_line(text: str) -> tuple[list[Script], list[str]]:
    """The scripts in ``text``, and the pieces that bash accepts but the gate could not read.

    A line that stops mid-way (an open quote, a trailing ``|``) is closed and read as far as it goes. A
    malformed line is asked of ``bash -n`` (which parses without running anything): bash refuses it too, so it
    runs nothing, or bash reads it, so the gate is blind to something that would run.
    """
    try:
        return [_parse_closing(text)], []
    except ShellSyntaxError:
        pass
    if bash_accepts(text):
        return [], [text]
    scripts, unreadable = [], []
    for line in text.split("\n"):  # bash runs each line it can parse, and refuses the others whole
        try:
            scripts.append(_parse_closing(line))
        except ShellSyntaxError:
            if bash_accepts(line):
                unreadable.append(line)
    return scripts, unreadable


def _parse_closing(text: str) -> Script:
    suffix = ""
    for _ in range(12):
        try:
            return parse(text + suffix)
        except Incomplete as e:
            suffix += e.closer
    raise ShellSyntaxError("the line could not be closed")


def bash_accepts(text: str) -> bool:
    """Whether bash parses ``text`` (``bash -n``: read, never run). Without a bash, assume it would run."""
    bash = shutil.which("bash")
    if bash is None:
        return True
    done = subprocess.run([bash, "--norc", "--noprofile", "-n"], input=text, capture_output=True, text=True,
                          timeout=10, env={"PATH": os.defpath, "LC_ALL": "C"})
    return done.returncode == 0


def walk(script: Script):
    """Every simple command of a script, each followed by those of the substitutions it holds."""
    for command in script.commands:
        yield command
        for word in command.words + command.assignments + tuple(r.target for r in command.redirects):
            for inner in word.inner:
                yield from walk(inner)


# -- one command -------------------------------------------------------------------------------------------

class _Place:
    """Whether an earlier ``cd`` on the line left the working directory (relative paths then lead outside)."""

    away = False


@dataclass(frozen=True)
class Call:
    """A program with its arguments, as a rule sees it."""

    name: str  # the program's base name (/usr/bin/rm -> rm)
    args: tuple[Word, ...]
    stdin_code: bool = False  # standard input carries text from elsewhere: a pipe, a here-document, a <(…)
    known: bool = True  # False when another program appends the operands (xargs, find -exec)
    away: bool = False  # the working directory was left earlier on the line
    function: str = ""  # the function whose body this call sits in
    depth: int = 0

    @property
    def texts(self) -> list[str]:
        return [w.text for w in self.args]

    @property
    def shown(self) -> str:
        return " ".join([self.name, *self.texts])[:80]

    def has(self, *options: str) -> bool:
        """Any of the options: one letter matches inside a cluster (-rf has r), a longer name as --name."""
        for text in self.texts:
            if text == "--":
                return False
            if text.startswith("--"):
                if text[2:].split("=", 1)[0] in options:
                    return True
            elif text.startswith("-") and len(text) > 1 and any(o in text[1:] for o in options if len(o) == 1):
                return True
        return False

    @property
    def operands(self) -> list[Word]:
        """The words that are not options (an option's value counts as an operand: good enough here)."""
        out, ended = [], False
        for w in self.args:
            if ended or not w.text.startswith("-") or w.text == "-":
                out.append(w)
            elif w.text == "--":
                ended = True
        return out

    def outside(self, word: Word) -> bool:
        """Whether a path may lie outside the working directory (an unknown one may)."""
        text = word.text
        return (not word.literal or word.tilde or text.startswith("/") or ".." in text.split("/")
                or self.away and text not in SINKS)

    def writes_outside(self, word: Word) -> bool:
        """Whether writing ``word`` may change a file outside the working directory that matters."""
        text = word.text
        if word.literal and (text in SINKS or re.fullmatch(r"/(dev|proc/self)/fd/[0-9]+", text)):
            return False
        if not self.outside(word):
            return False
        path = os.path.expanduser(text) if word.literal else ""
        fresh_temp = path and not os.path.lexists(path) and any(
            os.path.abspath(path).startswith(t.rstrip("/") + "/") for t in _temp_dirs())
        return not fresh_temp


def _temp_dirs() -> set[str]:
    return {"/tmp", "/var/tmp", tempfile.gettempdir()}


def judge_command(command: Command, place: _Place, depth: int = 0) -> ShellRisk | None:
    stdin_code = command.piped
    for r in command.redirects:
        if r.op in ("<<", "<<-", "<<<") or r.op == "<" and not r.target.literal:
            stdin_code = True
        risk = _judge_redirect(r, Call("", (), away=place.away))
        if risk:
            return risk
    if not command.words:
        return None
    call = Call(program(command.words[0].text), command.words[1:], stdin_code, True, place.away,
                command.function, depth)
    if not command.words[0].literal:
        return ShellRisk("computed", f"a command name that comes from a variable or a substitution "
                                     f"({' '.join(w.text for w in command.words)[:80]})")
    if call.name in ("cd", "pushd", "popd"):
        target = call.operands[:1]
        place.away = place.away or call.name == "popd" or not target or target[0].text == "-" \
            or call.outside(target[0])
        return None
    return judge_call(call)


def _judge_redirect(r, call: Call) -> ShellRisk | None:
    if r.op not in ("<", "<<", "<<-", "<<<", "<&") and not (r.op == ">&" and re.fullmatch(r"[0-9]+-?|-", r.target.text)):
        if call.writes_outside(r.target):
            return ShellRisk("overwrite", f"writing through a redirection to {r.target.text[:60]}, outside the "
                                          "working directory")
    return None


def program(text: str) -> str:
    return text.rsplit("/", 1)[-1]


def judge_call(call: Call) -> ShellRisk | None:
    """The risk of running one program; wrappers (env, sudo's kin, xargs …) are looked through."""
    if call.function and call.name == call.function:
        return ShellRisk("system", f"a function that calls itself, a fork bomb ({call.function})")
    rule = RULES.get(call.name) or RULES.get(_family(call.name))
    found = rule(call) if rule else None
    if found is None and rule is not None and not call.known and rule is not _wrapper:
        # xargs or find -exec appends words nobody can see yet: a program with any risky use is risky here
        return ShellRisk(_kind_of(rule), f"running {call.name} with arguments another command supplies "
                                          f"({call.shown})")
    return found or _output_option(call)


def _kind_of(rule) -> str:
    """The class a rule reports, for the risks it finds without looking at the arguments."""
    return next((kind for rules, kind in RULE_KINDS if rule in rules), "system")


def _output_option(call: Call) -> ShellRisk | None:
    """Any program's ``-o FILE`` / ``--output=FILE`` (sort, gcc, pandoc …), and where tar or unzip extract to."""
    texts = call.texts
    for i, t in enumerate(texts):
        value = None
        if t in ("-o", "--output", "--outfile", "--output-file") and i + 1 < len(texts):
            value = call.args[i + 1]
        elif t.startswith(("--output=", "--outfile=", "--output-file=")):
            value = Word(t.split("=", 1)[1])
        elif t in ("-C", "--directory", "-d") and call.name in ("tar", "unzip", "bsdtar") and i + 1 < len(texts):
            value = call.args[i + 1]
        if value is not None and call.writes_outside(value):
            return ShellRisk("overwrite", f"writing files outside the working directory ({call.shown})")
    return None


def _family(name: str) -> str:
    """python3.11 -> python, pip3 -> pip, mkfs.ext4 -> mkfs, perl5.36 -> perl."""
    if name.startswith("mkfs."):
        return "mkfs"
    return re.sub(r"(?<=[a-z])-?[0-9][0-9.]*$", "", name)


def _inner(call: Call, words: list[Word] | tuple[Word, ...], known: bool | None = None) -> ShellRisk | None:
    """Judge the command a wrapper runs (its first word names it)."""
    if not words:
        return None
    if not words[0].literal:
        return ShellRisk("computed", f"a command name that comes from a variable or a substitution ({call.shown})")
    inner = Call(program(words[0].text), tuple(words[1:]), call.stdin_code,
                 call.known if known is None else known, call.away, call.function, call.depth)
    return judge_call(inner)


def _code(call: Call, code: str) -> ShellRisk | None:
    """Judge text that a program hands to a shell (ssh's remote command, watch, alias, trap)."""
    return judge_line(code, call.depth + 1)


# -- the rules, by class -----------------------------------------------------------------------------------

def risk(kind: str, what: str) -> Callable[[Call], ShellRisk]:
    """A rule for programs that are risky whatever their arguments."""
    return lambda call: ShellRisk(kind, f"{what} ({call.shown})")


def _rm(call: Call) -> ShellRisk | None:
    if call.has("r", "R", "recursive", "no-preserve-root"):
        return ShellRisk("delete", f"deleting recursively ({call.shown})")
    if not call.known:
        return ShellRisk("delete", f"deleting files that another command names ({call.shown})")
    if any(w.pattern for w in call.operands):
        return ShellRisk("delete", f"deleting every file a pattern matches ({call.shown})")
    if any(call.outside(w) or w.text in (".", "..") for w in call.operands):
        return ShellRisk("delete", f"deleting files outside the working directory ({call.shown})")
    return None


def _mv(call: Call) -> ShellRisk | None:
    paths = call.operands
    destination = paths[-1] if paths else None
    if not call.known or any(call.outside(w) and not w.pattern for w in paths) \
            or destination is not None and (destination.text == "/dev/null" or not destination.literal):
        return ShellRisk("delete", f"moving files out of the working directory or over others ({call.shown})")
    return None


def _copy(call: Call) -> ShellRisk | None:
    """cp, install, ln, rsync, scp: the destination (last operand, or -t DIR) is written over."""
    texts = call.texts
    destination = None
    for i, t in enumerate(texts):
        if t in ("-t", "--target-directory") and i + 1 < len(texts):
            destination = call.args[i + 1]
        elif t.startswith("--target-directory="):
            destination = Word(t.split("=", 1)[1])
    operands = call.operands
    if destination is None and len(operands) >= 2:
        destination = operands[-1]
    if call.name == "rsync" and call.has("delete", "delete-before", "delete-after", "delete-during",
                                          "delete-excluded", "del", "remove-source-files"):
        return ShellRisk("delete", f"a sync that deletes files ({call.shown})")
    if call.name in ("rsync", "scp") and any(":" in w.text.split("/")[0] for w in operands[:-1]):
        return ShellRisk("network", f"fetching files from another machine ({call.shown})")
    if destination is not None and not (":" in destination.text.split("/")[0] and call.name in ("rsync", "scp")) \
            and call.writes_outside(destination):
        return ShellRisk("overwrite", f"copying over files outside the working directory ({call.shown})")
    return None


def _writes_operands(call: Call) -> ShellRisk | None:
    """tee, and in-place editors (sed -i, perl -i): every file operand is written."""
    if call.name in ("sed", "gsed") and not call.has("i", "in-place"):
        return None
    files = call.operands if call.name in ("tee",) else call.operands[1:]
    if any(call.writes_outside(w) for w in files):
        return ShellRisk("overwrite", f"writing files outside the working directory ({call.shown})")
    return None


def _dd(call: Call) -> ShellRisk | None:
    for w in call.args:
        if w.text.startswith("of="):
            target = Word(w.text[3:], w.expands, w.pattern, w.text[3:].startswith("~"))
            if call.writes_outside(target):
                return ShellRisk("delete", f"dd writing raw data over {target.text[:40]} ({call.shown})")
    return None


def _truncate(call: Call) -> ShellRisk:
    return ShellRisk("delete", f"truncating files ({call.shown})")


def _find(call: Call) -> ShellRisk | None:
    texts = call.texts
    if "-delete" in texts:
        return ShellRisk("delete", f"deleting the files a search finds ({call.shown})")
    for i, t in enumerate(texts):
        if t in ("-exec", "-execdir", "-ok", "-okdir"):
            end = next((j for j in range(i + 1, len(texts)) if texts[j] in (";", "+")), len(texts))
            found = _inner(call, call.args[i + 1:end], known=False)
            if found:
                return found
        if t in ("-fprint", "-fprint0", "-fls", "-fprintf") and i + 1 < len(texts) \
                and call.writes_outside(call.args[i + 1]):
            return ShellRisk("overwrite", f"a search writing a file outside the working directory ({call.shown})")
    return None


def _permissions(call: Call) -> ShellRisk | None:
    targets = call.operands[1:]
    whole = any(w.text in (".", "./", "*", "./*") or w.pattern for w in targets)
    if not call.known or any(call.outside(w) for w in targets) or whole and call.has("R", "recursive"):
        return ShellRisk("system", f"changing permissions or owners outside the working directory ({call.shown})")
    return None


# Wrappers run the command in their operands: (options that take a value, positional words before it).
WRAPPERS = {
    "env": ({"u", "C", "unset", "chdir"}, 0), "nohup": (set(), 0), "time": ({"f", "o", "format", "output"}, 0),
    "exec": ({"a"}, 0), "builtin": (set(), 0), "nice": ({"n", "adjustment"}, 0), "stdbuf": (set(), 0),
    "ionice": ({"c", "n", "p", "t", "class", "classdata"}, 0), "timeout": ({"s", "k", "signal", "kill-after"}, 1),
    "setsid": (set(), 0), "taskset": (set(), 1), "chrt": (set(), 1), "unbuffer": (set(), 0),
    "strace": ({"o", "e", "s", "p", "u", "E", "P", "I", "a", "b", "X"}, 0), "ltrace": ({"o", "e", "s", "p", "u"}, 0),
    "busybox": (set(), 0), "flock": ({"w", "E", "timeout", "conflict-exit-code"}, 1), "catchsegv": (set(), 0),
    "xargs": ({"a", "d", "E", "e", "I", "i", "L", "l", "n", "P", "s", "arg-file", "delimiter", "eof", "replace",
               "max-lines", "max-args", "max-procs", "max-chars", "process-slot-var"}, 0),
    "parallel": ({"j", "S", "jobs", "sshlogin"}, 0), "command": (set(), 0), "script": ({"c"}, 0),
}


def _wrapper(call: Call) -> ShellRisk | None:
    value_options, positionals = WRAPPERS[call.name]
    if call.name == "command" and call.has("v", "V"):
        return None  # command -v: a lookup, runs nothing
    code = _code_option(call)
    if code:
        return code
    words, i = list(call.args), 0
    while i < len(words):
        t = words[i].text
        if t == "--":
            i += 1
            break
        if call.name == "env" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", t):
            i += 1
            continue
        if not t.startswith("-") or t == "-":
            break
        name = t[2:].split("=", 1)[0] if t.startswith("--") else t[1:]
        if call.name == "env" and (t.startswith("-S") or t.startswith("--split-string")):
            attached = t[2:] if t.startswith("-S") else t.partition("=")[2]  # env -S'rm -rf /', --split-string=…
            rest = [w.text for w in words[i + 1:]]
            return _code(call, " ".join([attached, *rest] if attached else rest))
        takes_value = name in value_options and "=" not in t or not t.startswith("--") and len(t) == 2 \
            and t[1:] in value_options
        i += 2 if takes_value else 1
    words = words[i:]
    words = words[positionals:] if len(words) > positionals else []
    if not words and not call.known:  # xargs env, xargs nice …: the program itself comes from the input
        return ShellRisk("computed", f"a command name that comes from another command's output ({call.shown})")
    return _inner(call, words, known=call.known and call.name not in ("xargs", "parallel"))


def _code_option(call: Call) -> ShellRisk | None:
    """flock -c CMD, script -c CMD: a command line given as one string."""
    if call.name in ("flock", "script"):
        texts = call.texts
        for i, t in enumerate(texts):
            if t in ("-c", "--command") and i + 1 < len(texts):
                return _code(call, texts[i + 1])
    return None


def _shell_text(call: Call) -> ShellRisk | None:
    """watch CMD…, ssh HOST CMD…, alias N=V, trap CODE SIG: text that becomes shell code, judged as a line."""
    operands = [w.text for w in call.operands]
    if call.name == "alias":
        code = " ".join(t.split("=", 1)[1] for t in operands if "=" in t)
    elif call.name == "ssh":
        code = " ".join(_ssh_command(call))
    elif call.name == "trap":
        code = operands[0] if operands else ""
    else:  # watch [-n SECONDS] …
        code = " ".join(_after_options(call.texts, {"-n", "--interval", "-q", "--equexit"}))
    return _code(call, code) if code.strip() else None


SSH_VALUES = {f"-{c}" for c in "bcDEeFIiJLlmOopQRSWw"}


def _ssh_command(call: Call) -> list[str]:
    return _after_options(call.texts, SSH_VALUES)[1:]  # after the host


def _after_options(texts: list[str], takes_value: set[str]) -> list[str]:
    """The words after the leading options (skipping the value of each option in ``takes_value``)."""
    i = 0
    while i < len(texts) and texts[i].startswith("-"):
        if texts[i] == "--":
            return texts[i + 1:]
        i += 2 if texts[i] in takes_value else 1
    return texts[i:]


# Interpreters: the options that take code inline, for each family.
INLINE = {"python": {"c"}, "pypy": {"c"}, "perl": {"e", "E"}, "ruby": {"e"}, "node": {"e", "p", "eval", "print"},
          "nodejs": {"e", "p", "eval", "print"}, "bun": {"e", "eval", "print"}, "php": {"r", "B", "R", "E"},
          "lua": {"e"}, "luajit": {"e"}, "Rscript": {"e"}, "osascript": {"e"}, "expect": {"c"}, "tclsh": set(),
          "wish": set(), "jshell": set(), "irb": set()}
SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "ash", "yash", "rbash", "pwsh",
          "powershell"}
INTERPRETER_VALUES = {"python": {"W", "X", "m", "Q"}, "perl": {"I", "M", "m", "x"}, "ruby": {"I", "r"},
                      "node": {"r", "require", "import", "loader"}}


def _interpreter(call: Call) -> ShellRisk | None:
    family = call.name if call.name in INLINE or call.name in SHELLS else _family(call.name)
    if family in SHELLS:
        inline = {"c"} if family not in ("pwsh", "powershell") else set()
        if family in ("pwsh", "powershell") and any(t.lower() in ("-c", "-command", "-encodedcommand", "-ec", "-e")
                                                       for t in call.texts):
            return ShellRisk("code", f"running code given inline to {call.name} ({call.shown})")
    else:
        inline = INLINE.get(family, set())
    if inline and call.has(*inline):
        return ShellRisk("code", f"running code given inline to {call.name} ({call.shown})")
    script, module = _script_operand(call, INTERPRETER_VALUES.get(family, {"o", "O"}))
    if module is not None:
        return _inner(call, [Word(module.text), *call.args[call.args.index(module) + 1:]]) \
            if module.text in ("pip", "ensurepip", "pipx") else None
    if script is None or script.text == "-" or family in SHELLS and call.has("s"):
        if call.stdin_code:
            return ShellRisk("code", f"running piped or inline text as {call.name} code ({call.shown})")
        return None
    if not script.literal or script.text.startswith("/dev/") or script.text.startswith("/proc/"):
        return ShellRisk("code", f"running a script that comes from a substitution or a stream ({call.shown})")
    return None


def _script_operand(call: Call, value_options: set[str]) -> tuple[Word | None, Word | None]:
    """(the script file an interpreter runs, or the module after -m), skipping options and their values."""
    args, i = call.args, 0
    while i < len(args):
        t = args[i].text
        if t == "--":
            return (args[i + 1] if i + 1 < len(args) else None), None
        if t == "-" or not t.startswith(("-", "+")):
            return args[i], None
        if t == "-m" and i + 1 < len(args):
            return None, args[i + 1]
        i += 2 if len(t) == 2 and t[1] in value_options else 1
    return None, None


def _awk(call: Call) -> ShellRisk | None:
    if call.has("f", "file"):
        return None
    program_text = next((w.text for w in call.operands), "")
    if re.search(r"\bsystem\s*\(|\|\s*getline|\|&|\bprint[f]?\b[^;}]*[|>]", program_text):
        return ShellRisk("code", f"an awk program that runs commands or writes files ({call.shown})")
    return None


def _source(call: Call) -> ShellRisk | None:
    script = next(iter(call.operands), None)
    if script is None:
        return None
    if not script.literal or script.text.startswith(("/dev/", "/proc/")):
        return ShellRisk("code", f"sourcing a script from a substitution or a stream ({call.shown})")
    return None


PRIVILEGE = {"sudo", "su", "doas", "pkexec", "runuser", "run0", "chroot", "setpriv", "sg", "newgrp", "passwd",
             "chpasswd", "usermod", "useradd", "userdel", "adduser", "deluser", "groupadd", "groupdel", "groupmod",
             "gpasswd", "visudo", "chsh", "setcap", "machinectl"}
POWER = {"shutdown", "reboot", "poweroff", "halt", "pm-suspend", "pm-hibernate", "rtcwake", "kexec", "killall5"}
DISK_TOOLS = {"mkfs", "mke2fs", "mkswap", "wipefs", "fdisk", "sfdisk", "cfdisk", "gdisk", "sgdisk", "parted",
              "blkdiscard", "hdparm", "badblocks", "cryptsetup", "lvremove", "vgremove", "pvremove", "mdadm",
              "shred", "wipe", "srm", "zpool"}
SERVICE_READS = {"status", "show", "cat", "list", "list-units", "list-unit-files", "list-timers", "list-sockets",
                 "list-jobs", "list-dependencies", "list-machines", "is-active", "is-enabled", "is-failed",
                 "is-system-running", "help", "show-environment", "get-default", "list-sessions", "list-users",
                 "list-seats", "show-session", "show-user", "session-status", "user-status", "print", "blame"}
SERVICES = {"systemctl", "loginctl", "launchctl", "initctl", "rc-service", "rc-update", "update-rc.d", "sv",
            "chkconfig", "service", "systemd-run"}
PACKAGE_MANAGERS = {"apt", "apt-get", "aptitude", "yum", "dnf", "microdnf", "zypper", "apk", "snap", "flatpak",
                    "brew", "port", "pip", "pipx", "uv", "poetry", "npm", "pnpm", "yarn", "bun", "gem", "cargo",
                    "conda", "mamba", "micromamba", "choco", "winget", "scoop", "nix", "guix", "pkg", "opkg",
                    "composer", "cpan", "cpanm", "dpkg", "rpm", "pacman", "nix-env", "emerge", "xbps-install",
                    "xbps-remove", "easy_install", "dpkg-reconfigure", "pkcon", "eopkg"}
PACKAGE_CHANGES = {"install", "reinstall", "remove", "uninstall", "purge", "autoremove", "upgrade", "dist-upgrade",
                   "full-upgrade", "update", "add", "del", "delete", "erase", "downgrade", "i", "rm", "un", "up",
                   "refresh", "ci", "link", "unlink", "create", "build-dep", "dselect-upgrade", "global", "pull"}
PACKAGE_READS = {"run", "test", "start", "exec", "list", "show", "search", "info", "ls", "view", "help", "version",
                 "config", "freeze", "check", "outdated", "audit", "why", "query", "policy", "depends", "rdepends",
                 "env-list", "doctor", "home", "--version", "build", "fmt", "clippy", "bench", "doc", "lock", "tree",
                 "download", "hash", "inspect", "cache", "dx", "x", "npx"}
PACKAGE_FLAGS = {"dpkg": {"i", "r", "P", "install", "remove", "purge", "unpack", "configure"},
                 "rpm": {"i", "U", "F", "e", "install", "upgrade", "freshen", "erase"},
                 "pacman": {"S", "R", "U", "sync", "remove", "upgrade"}, "nix-env": {"i", "e", "u", "install",
                                                                                      "uninstall", "upgrade"}}
ALWAYS_CHANGES = {"xbps-install", "xbps-remove", "easy_install", "dpkg-reconfigure", "emerge"}


def _package_manager(call: Call) -> ShellRisk | None:
    """Risky when it installs, removes or updates; a query (list, show, search, run) is not."""
    changes = ShellRisk("system", f"installing, removing or updating packages ({call.shown})")
    if call.name in ALWAYS_CHANGES:
        return changes
    if call.name in PACKAGE_FLAGS:
        if call.name == "pacman" and call.has("Q") or call.name == "pacman" and call.has("s", "i", "l", "g", "p") \
                and not call.has("R", "U", "y", "u"):
            return None
        return changes if call.has(*PACKAGE_FLAGS[call.name]) else None
    for word in call.operands:  # the first word that names a subcommand decides
        if word.text in PACKAGE_CHANGES:
            return changes
        if word.text in PACKAGE_READS:
            return None
    return None


def _service(call: Call) -> ShellRisk | None:
    operands = [w.text for w in call.operands]
    if call.name == "service":
        if any(t in ("start", "stop", "restart", "reload", "force-reload", "try-restart", "condrestart")
               for t in operands[1:]):
            return ShellRisk("system", f"starting or stopping a service ({call.shown})")
        return None
    if not operands or operands[0] in SERVICE_READS or call.name in ("sv", "rc-service") and len(operands) > 1 \
            and operands[1] == "status":
        return None
    return ShellRisk("system", f"controlling services or the machine's power ({call.shown})")


def _init(call: Call) -> ShellRisk | None:
    return ShellRisk("system", f"shutting down or restarting the machine ({call.shown})") if call.operands else None


def _kernel(call: Call) -> ShellRisk | None:
    """mount, sysctl, firewalls, modules, network links: changes to the running system (reading them is fine)."""
    operands = [w.text for w in call.operands]
    reads = {"mount": not operands, "sysctl": not call.has("w", "p", "write", "load") and not any(
        "=" in t for t in operands), "iptables": call.has("L", "S", "list", "list-rules"),
             "ip6tables": call.has("L", "S", "list", "list-rules"), "nft": operands[:1] == ["list"],
             "ufw": operands[:1] in (["status"], ["app"]), "ip": not set(operands) & {
                 "add", "del", "delete", "set", "flush", "change", "replace", "down"},
             "hostnamectl": not any(t.startswith("set-") for t in operands),
             "timedatectl": not any(t.startswith("set-") for t in operands)}
    if reads.get(call.name, False):
        return None
    return ShellRisk("system", f"changing the running system ({call.shown})")


def _kill(call: Call) -> ShellRisk | None:
    texts = call.texts
    if len(texts) >= 2 and texts[-1] == "-1" or "1" in [w.text for w in call.operands] and call.name == "kill":
        return ShellRisk("system", f"killing every process ({call.shown})")
    return None


def _crontab(call: Call) -> ShellRisk | None:
    if call.has("r", "remove"):
        return ShellRisk("delete", f"deleting every scheduled job ({call.shown})")
    if call.operands and not call.has("l", "e", "list", "edit"):
        return ShellRisk("system", f"replacing the scheduled jobs ({call.shown})")
    return None


def _wget(call: Call) -> ShellRisk | None:
    if call.has("spider") or _output(call, "O", "output-document") in ("-", "/dev/stdout"):
        return None
    return ShellRisk("network", f"downloading a file ({call.shown})")


def _curl(call: Call) -> ShellRisk | None:
    if call.has("O", "remote-name", "remote-name-all", "J", "remote-header-name", "output-dir"):
        return ShellRisk("network", f"downloading a file ({call.shown})")
    target = _output(call, "o", "output")
    if target is not None and target not in SINKS:
        return ShellRisk("network", f"downloading a file ({call.shown})")
    return None


def _output(call: Call, letter: str, long: str) -> str | None:
    """The value of a short option (possibly the last of a cluster: -qO-, -sLo f) or of --long[=value]."""
    texts = call.texts
    for i, t in enumerate(texts):
        if t == "--":
            break
        nxt = texts[i + 1] if i + 1 < len(texts) else ""
        if t.startswith(f"--{long}"):
            return t.split("=", 1)[1] if "=" in t else nxt
        if t.startswith("-") and not t.startswith("--") and letter in t[1:]:
            rest = t[t.index(letter, 1) + 1:]
            return rest or nxt
    return None


def _fetchers(call: Call) -> ShellRisk:
    return ShellRisk("network", f"downloading a file ({call.shown})")


def _netcat(call: Call) -> ShellRisk | None:
    texts = [t.lower() for t in call.texts]
    if call.name == "socat" and any(re.match(r"(exec|system):", t) for t in texts) \
            or call.name != "socat" and call.has("e", "c", "exec", "sh-exec", "lua-exec"):
        return ShellRisk("network", f"running a program for the network ({call.shown})")
    return None


GIT_VALUES = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env"}


def _git(call: Call) -> ShellRisk | None:
    texts, i = call.texts, 0
    while i < len(texts) and texts[i].startswith("-"):
        i += 2 if texts[i] in GIT_VALUES else 1
    if i >= len(texts):
        return None
    sub, rest = texts[i], Call(call.name, call.args[i + 1:])
    args = rest.texts
    destroys = {
        "reset": rest.has("hard", "merge", "keep"),
        "clean": rest.has("f", "force") and not rest.has("n", "dry-run"),
        "push": rest.has("f", "force", "force-with-lease", "force-if-includes", "mirror", "delete", "d", "prune")
        or any(a.startswith(("+", ":")) for a in args),
        "checkout": rest.has("f", "force") or "--" in args or "." in args,
        "restore": not (rest.has("S", "staged") and not rest.has("W", "worktree")),
        "switch": rest.has("f", "force", "discard-changes"),
        "branch": rest.has("D") or rest.has("d", "delete") and rest.has("f", "force") or rest.has("M", "C"),
        "stash": args[:1] in (["drop"], ["clear"]),
        "rm": rest.has("r", "f", "force") and not rest.has("cached"),
        "reflog": args[:1] in (["expire"], ["delete"]),
        "gc": rest.has("prune"),
        "prune": True, "filter-branch": True, "filter-repo": True,
        "update-ref": rest.has("d"),
    }
    if destroys.get(sub, False):
        return ShellRisk("git", f"destroying work in a git repository ({call.shown})")
    return None


RULES: dict[str, Callable[[Call], ShellRisk | None]] = {
    "rm": _rm, "unlink": _rm, "mv": _mv, "cp": _copy, "install": _copy, "ln": _copy, "rsync": _copy, "scp": _copy,
    "tee": _writes_operands, "sed": _writes_operands, "gsed": _writes_operands, "dd": _dd, "truncate": _truncate,
    "find": _find, "chmod": _permissions, "chown": _permissions, "chgrp": _permissions, "chattr": _permissions,
    "setfacl": _permissions, "awk": _awk, "gawk": _awk, "mawk": _awk, "nawk": _awk, "source": _source, ".": _source,
    "eval": risk("code", "eval runs its arguments as shell code"), "init": _init, "telinit": _init,
    "watch": _shell_text, "ssh": _shell_text, "alias": _shell_text, "trap": _shell_text, "kill": _kill, "crontab": _crontab, "wget": _wget, "curl": _curl,
    "aria2c": _fetchers, "axel": _fetchers, "nc": _netcat, "ncat": _netcat, "netcat": _netcat, "socat": _netcat,
    "git": _git,
    **{name: _wrapper for name in WRAPPERS},
    **{name: _interpreter for name in [*INLINE, *SHELLS]},
    **{name: risk("privilege", "changing privileges or accounts") for name in PRIVILEGE},
    **{name: risk("system", "shutting down, restarting or killing everything") for name in POWER},
    **{name: risk("delete", "a disk tool that erases data") for name in DISK_TOOLS},
    **{name: _service for name in SERVICES},
    **{name: _package_manager for name in PACKAGE_MANAGERS},
    **{name: _kernel for name in ("mount", "umount", "swapoff", "swapon", "modprobe", "insmod", "rmmod", "sysctl",
                                  "iptables", "ip6tables", "nft", "ufw", "firewall-cmd", "hostnamectl",
                                  "timedatectl", "ip", "setenforce", "grub-install", "update-grub", "efibootmgr")},
}
RULE_KINDS = [({_rm, _mv, _dd, _truncate, _find, _crontab}, "delete"), ({_copy, _writes_operands}, "overwrite"),
              ({_awk, _source, _shell_text, _interpreter}, "code"), ({_wget, _curl, _fetchers, _netcat}, "network"),
              ({_git}, "git")]
