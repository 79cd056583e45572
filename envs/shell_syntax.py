"""Reading a typed command line the way bash would, far enough to judge what it runs (envs/shell_gate.py).

The reader covers what people type at a prompt: words with every kind of quoting (``'…'``, ``"…"``, ``$'…'``,
backslashes), parameter expansion, command substitution (``$(…)`` and backticks), process substitution
(``<(…)``), redirections (with file descriptors, here-documents and here-strings), pipelines, lists
(``;`` ``&`` ``&&`` ``||`` newlines), groups (``{ …; }``, ``( … )``), functions, and the keywords of
``if``/``while``/``until``/``for``, which only frame commands. ``case`` is not read: a line that uses it is
reported as unreadable, and the gate treats that as risky.

Two ways a line can fail, told apart because they mean different things:

- :class:`Incomplete`: the line stops inside something (a quote, a ``$(``, a here-document, after ``|``).
  A person typing is mid-way, and bash would wait for more rather than run it; ``closer`` is text that would
  close it, so the gate can judge the words typed so far.
- :class:`ShellSyntaxError`: the line is malformed where it stands.

Data enters as a string and leaves as a :class:`Script`: every simple command, with its words unquoted and
marked where their value is not known before the shell runs (expansions, globs), and the scripts nested in
substitutions kept inside the words that hold them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPERATORS = ("&&", "||", ";;", "|&", "&>>", "&>", ">>", ">|", "<<<", "<<-", "<<", "<>", "<&", ">&", "<(", ">(",
             ";", "&", "|", "(", ")", "<", ">", "\n")  # longest first: the lexer takes the first that fits
REDIRECTIONS = {"<", ">", ">>", ">|", "&>", "&>>", "<>", "<&", ">&", "<<", "<<-", "<<<"}
WRITES = {">", ">>", ">|", "&>", "&>>", "<>"}  # redirections that write their target file
LIST_ENDS = {";", "&", "&&", "||", "\n"}
KEYWORDS = {"if", "then", "elif", "else", "fi", "do", "done", "while", "until", "!", "time"}
WORD_END = set(" \t\n;&|()<>")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
ANSI_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f",
                "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


class ShellSyntaxError(ValueError):
    """The line is malformed where it stands (bash would refuse it too, or read it in a way we do not)."""


class Incomplete(ShellSyntaxError):
    """The line stops inside something that is still open; appending ``closer`` would close it."""

    def __init__(self, closer: str):
        super().__init__(f"the line is not finished (it needs {closer!r})")
        self.closer = closer


@dataclass(frozen=True)
class Word:
    """One word after quote removal. Expansions stay as written (``$HOME/x``); the flags say what the shell
    would still change before the command sees it."""

    text: str
    expands: bool = False  # a parameter expansion or a command substitution: its value is known only then
    pattern: bool = False  # an unquoted glob (* ? [) or brace expansion ({a,b}): may become many words
    tilde: bool = False  # starts with an unquoted ~ (a home directory)
    inner: tuple["Script", ...] = ()  # the scripts of the substitutions inside it

    @property
    def literal(self) -> bool:
        """The word reaches the command exactly as ``text``."""
        return not (self.expands or self.pattern)


@dataclass(frozen=True)
class Redirect:
    op: str  # one of REDIRECTIONS
    target: Word  # the file, the fd (``2>&1``), a here-document's body or a here-string
    fd: str = ""  # an explicit file descriptor before the operator (``2>``)


@dataclass(frozen=True)
class Command:
    """A simple command: its words (the first names the program), assignments and redirections."""

    words: tuple[Word, ...]
    assignments: tuple[Word, ...] = ()
    redirects: tuple[Redirect, ...] = ()
    piped: bool = False  # its standard input comes from an earlier stage of a pipeline
    function: str = ""  # the function whose body holds it ('' outside any)


@dataclass(frozen=True)
class Script:
    commands: tuple[Command, ...] = ()
    functions: tuple[str, ...] = ()  # names of the functions it defines


def parse(text: str) -> Script:
    """The script a typed line holds; :class:`Incomplete` or :class:`ShellSyntaxError` when it has none."""
    return _Parser(_Reader(text)).script(until="")


# -- characters --------------------------------------------------------------------------------------------

@dataclass
class _Reader:
    text: str
    pos: int = 0
    skip: list | None = None  # [newline, resume]: here-document bodies between them, read already

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos:self.pos + n]

    def startswith(self, s: str) -> bool:
        return self.text.startswith(s, self.pos)

    def take(self, n: int = 1) -> str:
        s = self.text[self.pos:self.pos + n]
        self.pos += n
        return s

    @property
    def at_end(self) -> bool:
        return self.pos >= len(self.text)


class _WordBuilder:
    def __init__(self):
        self.parts: list[str] = []
        self.expands = self.pattern = self.tilde = False
        self.inner: list[Script] = []
        self.started = False

    def add(self, s: str) -> None:
        self.parts.append(s)
        self.started = True

    def word(self) -> Word:
        return Word("".join(self.parts), self.expands, self.pattern, self.tilde, tuple(self.inner))


# -- tokens and words --------------------------------------------------------------------------------------

class _Lexer:
    def __init__(self, reader: _Reader):
        self.r = reader

    def skip_blanks(self) -> None:
        r = self.r
        while not r.at_end:
            c = r.peek()
            if c in " \t":
                r.take()
            elif r.startswith("\\\n"):
                r.take(2)  # a line continuation joins the lines
            elif c == "#":
                while not r.at_end and r.peek() != "\n":
                    r.take()
            else:
                return

    def operator(self) -> str | None:
        """The operator at the cursor (not taken), or None."""
        for op in OPERATORS:
            if self.r.startswith(op):
                return op
        return None

    def word(self, parser: "_Parser") -> Word:
        """One word, up to an unquoted blank or operator. Substitutions are parsed as they are met."""
        r, w = self.r, _WordBuilder()
        if r.peek() == "~":
            w.tilde = True
        while not r.at_end:
            c = r.peek()
            if c in WORD_END and not self._substitution_start():
                break
            if c == "\\":
                r.take()
                if r.at_end:
                    break  # a backslash at the very end: the person is still typing
                nxt = r.take()
                if nxt != "\n":
                    w.add(nxt)
            elif c == "'":
                w.add(self._single_quoted())
            elif r.startswith("$'"):
                r.take()
                w.add(self._ansi_quoted())
            elif c == '"' or r.startswith('$"'):
                if c == "$":
                    r.take()
                self._double_quoted(parser, w)
            elif c in "$`" or self._substitution_start():
                self._expansion(parser, w)
            else:
                r.take()
                if c in "*?" or c == "[" and self._closes_bracket():
                    w.pattern = True
                elif c == "{" and self._brace_expansion():
                    w.pattern = True
                w.add(c)
        return w.word()

    def _substitution_start(self) -> bool:
        return self.r.startswith("<(") or self.r.startswith(">(")

    def _closes_bracket(self) -> bool:
        """After an unquoted ``[``: a ``]`` later in the same word makes it a glob (``[ab].txt``, not ``[``)."""
        rest = self.r.text[self.r.pos:]
        end = next((i for i, ch in enumerate(rest) if ch in WORD_END), len(rest))
        return "]" in rest[:end]

    def _brace_expansion(self) -> bool:
        """After an unquoted ``{``: does a ``,`` or ``..`` come before its ``}`` (``{a,b}``, ``{1..9}``)?"""
        rest = self.r.text[self.r.pos:]
        close = rest.find("}")
        body = rest[:close] if close >= 0 else ""
        return close > 0 and ("," in body or ".." in body) and not any(ch in body for ch in " \t\n;|&")

    def _single_quoted(self) -> str:
        r = self.r
        r.take()
        end = r.text.find("'", r.pos)
        if end < 0:
            raise Incomplete("'")
        s = r.text[r.pos:end]
        r.pos = end + 1
        return s

    def _ansi_quoted(self) -> str:
        """``$'…'``: bash decodes the escapes, so ``$'\\x72m'`` is the word ``rm``."""
        r, out = self.r, []
        r.take()
        while True:
            if r.at_end:
                raise Incomplete("'")
            c = r.take()
            if c == "'":
                return "".join(out)
            if c != "\\" or r.at_end:
                out.append(c)
                continue
            e = r.take()
            if e in ANSI_ESCAPES:
                out.append(ANSI_ESCAPES[e])
            elif e in "xuU":
                digits = re.match(r"[0-9A-Fa-f]{1,%d}" % {"x": 2, "u": 4, "U": 8}[e], r.text[r.pos:])
                out.append(chr(int(digits.group(), 16)) if digits else "\\" + e)
                r.pos += len(digits.group()) if digits else 0
            elif e in "01234567":
                digits = re.match(r"[0-7]{0,2}", r.text[r.pos:]).group()
                out.append(chr(int(e + digits, 8) & 0xFF))
                r.pos += len(digits)
            elif e == "c" and not r.at_end:
                out.append(chr(ord(r.take()) & 0x1F))
            else:
                out.append("\\" + e)

    def _double_quoted(self, parser: "_Parser", w: _WordBuilder) -> None:
        r = self.r
        r.take()
        w.started = True
        self.scan_expanding(parser, w, end='"')

    def scan_expanding(self, parser: "_Parser", w: _WordBuilder, end: str | None) -> None:
        """Text where only ``$`` and backticks are special (inside ``"…"``, an unquoted here-document)."""
        r = self.r
        while True:
            if r.at_end:
                if end is None:
                    return
                raise Incomplete(end)
            c = r.peek()
            if c == end:
                r.take()
                return
            if c == "\\" and r.peek(2)[1:] in ("$", "`", '"', "\\", "\n"):
                r.take()
                nxt = r.take()
                if nxt != "\n":
                    w.add(nxt)
            elif c in "$`":
                self._expansion(parser, w)
            else:
                w.add(r.take())

    def _expansion(self, parser: "_Parser", w: _WordBuilder) -> None:
        """``$NAME``, ``${…}``, ``$(…)``, a backtick pair or ``<(…)``: its text is kept, its value unknown."""
        r = self.r
        start = r.pos
        if r.startswith("$(") or self._substitution_start():
            r.take(2)
            w.inner.append(parser.nested(until=")"))
            w.expands = True
        elif r.peek() == "`":
            w.inner.append(self._backticks(parser))
            w.expands = True
        elif r.startswith("${"):
            r.take(2)
            inside = _WordBuilder()
            self.scan_expanding(parser, inside, end="}")
            w.inner.extend(inside.inner)
            w.expands = True
        elif r.peek() == "$" and re.match(r"[A-Za-z_0-9@*#?$!-]", r.peek(2)[1:]):
            r.take()
            name = NAME.match(r.text, r.pos)
            r.pos = name.end() if name else r.pos + 1
            w.expands = True
        else:
            r.take()  # a lone $ is itself
        w.add(r.text[start:r.pos])

    def _backticks(self, parser: "_Parser") -> Script:
        r = self.r
        r.take()
        body = []
        while True:
            if r.at_end:
                raise Incomplete("`")
            c = r.take()
            if c == "`":
                break
            if c == "\\" and r.peek() in ("`", "\\", "$"):
                c = r.take()
            body.append(c)
        return parse("".join(body))


# -- grammar -----------------------------------------------------------------------------------------------

class _Parser:
    """Recursive descent over tokens: lists of pipelines of commands; groups and substitutions nest."""

    def __init__(self, reader: _Reader, function: str = ""):
        self.r = reader
        self.lex = _Lexer(reader)
        self.function = function
        self.commands: list[Command] = []
        self.functions: list[str] = []

    def nested(self, until: str) -> Script:
        """A substitution's script, read from the same characters up to its closing ``)``."""
        inner = _Parser(self.r, self.function)
        return inner.script(until=until)

    def script(self, until: str) -> Script:
        self.list(until)
        return Script(tuple(self.commands), tuple(self.functions))

    # list := pipeline ((; & && || newline) pipeline)*
    def list(self, until: str) -> None:
        while True:
            self.lex.skip_blanks()
            if self.r.at_end:
                if until:
                    raise Incomplete("; }" if until == "}" else until)
                return
            op = self.lex.operator()
            if until and (op == until or until == "}" and self._reserved("}")):
                self.r.take()
                return
            if op == "\n":
                self._newline()
            elif op in (";", "&"):
                self.r.take()
            elif op in (")", ";;", "|", "|&", "&&", "||"):
                raise ShellSyntaxError(f"unexpected {op!r}")
            else:
                self.pipeline()

    def _newline(self) -> None:
        """Take a newline; the here-document bodies its line opened were read already, so jump past them."""
        r = self.r
        if r.skip is not None and r.pos == r.skip[0]:
            r.pos, r.skip = r.skip[1], None
        else:
            r.take()

    def pipeline(self) -> None:
        piped = False
        while True:
            self.command(piped)
            self.lex.skip_blanks()
            op = self.lex.operator()
            if op in ("|", "|&", "&&", "||"):
                self.r.take(len(op))
                self.lex.skip_blanks()
                while self.r.startswith("\n"):  # a pipe or && may continue on the next line
                    self._newline()
                    self.lex.skip_blanks()
                if self.r.at_end:
                    raise Incomplete(" :")
                piped = op in ("|", "|&")
                continue
            return

    def _reserved(self, word: str) -> bool:
        """Is ``word`` next, standing alone (so a keyword, not part of a longer word)?"""
        r = self.r
        return r.startswith(word) and (r.pos + len(word) >= len(r.text) or r.text[r.pos + len(word)] in WORD_END)

    def command(self, piped: bool) -> None:
        self.lex.skip_blanks()
        for keyword in KEYWORDS:
            if self._reserved(keyword):
                self.r.take(len(keyword))
                return self.command(piped)  # if/while/do …: they frame commands but run none themselves
        if self._reserved("for") or self._reserved("select"):
            return self._for_header(piped)
        if self._reserved("case"):
            raise ShellSyntaxError("case statements are not read")
        if self._reserved("function"):
            self.r.take(len("function"))
            self.lex.skip_blanks()
            name = self.lex.word(self).text
            self.lex.skip_blanks()
            if self.r.startswith("()"):
                self.r.take(2)
            return self._function_body(name, piped)
        if self._reserved("{"):
            self.r.take()
            self._group("}", piped)
            return
        if self.r.peek() == "(":
            self.r.take()
            self._group(")", piped)
            return
        self._simple(piped)

    def _group(self, closer: str, piped: bool) -> None:
        inner = _Parser(self.r, self.function)
        inner.list(until=closer)
        self._adopt(inner, piped)
        self._trailing_redirects()

    def _adopt(self, inner: "_Parser", piped: bool) -> None:
        for c in inner.commands:
            self.commands.append(Command(c.words, c.assignments, c.redirects, c.piped or piped, c.function))
        self.functions.extend(inner.functions)

    def _trailing_redirects(self) -> None:
        """Redirections after a group apply to every command in it; kept as a command of their own."""
        redirects = []
        while True:
            self.lex.skip_blanks()
            op, fd = self._redirect_op()
            if op is None:
                break
            redirects.append(self._redirect(op, fd))
        if redirects:
            self.commands.append(Command((), (), tuple(redirects), False, self.function))

    def _for_header(self, piped: bool) -> None:
        """``for NAME in WORDS``: the words may hold substitutions, which run."""
        self.r.take(3 if self._reserved("for") else 6)
        words = []
        while True:
            self.lex.skip_blanks()
            if self.r.at_end or self.lex.operator() in LIST_ENDS:
                break
            if self.r.startswith("(("):
                raise ShellSyntaxError("arithmetic for loops are not read")
            words.append(self.lex.word(self))
        # The loop's words run nothing but their substitutions, as an assignment's value does.
        self.commands.append(Command((), tuple(words), (), piped, self.function))

    def _function_body(self, name: str, piped: bool) -> None:
        self.functions.append(name)
        self.lex.skip_blanks()
        while self.r.startswith("\n"):
            self._newline()
            self.lex.skip_blanks()
        body = _Parser(self.r, name)
        if body._reserved("{"):
            self.r.take()
            body.list(until="}")
        elif self.r.peek() == "(":
            self.r.take()
            body.list(until=")")
        elif self.r.at_end:
            raise Incomplete("{ :; }")
        else:
            raise ShellSyntaxError(f"function {name} has no body")
        self._adopt(body, piped)
        self._trailing_redirects()

    def _redirect_op(self) -> tuple[str | None, str]:
        """A redirection operator at the cursor (with its fd number), taken; or (None, '') when none."""
        r = self.r
        digits = re.match(r"[0-9]+(?=[<>])", r.text[r.pos:])
        fd = digits.group() if digits else ""
        save = r.pos
        r.pos += len(fd)
        op = self.lex.operator()
        if op in REDIRECTIONS:
            r.take(len(op))
            return op, fd
        r.pos = save
        return None, ""

    def _redirect(self, op: str, fd: str) -> Redirect:
        self.lex.skip_blanks()
        if self.r.at_end:
            raise Incomplete(" /dev/null" if op not in ("<<", "<<-") else " EOF\nEOF")
        if self.lex.operator() is not None and not self.lex._substitution_start():
            raise ShellSyntaxError(f"a redirection {op!r} without a target")
        start = self.r.pos
        target = self.lex.word(self)
        if op in ("<<", "<<-"):
            quoted = any(q in self.r.text[start:self.r.pos] for q in "'\"\\")
            return Redirect(op, self._heredoc_body(target.text, expands=not quoted, strip_tabs=op == "<<-"), fd)
        return Redirect(op, target, fd)

    def _heredoc_body(self, delimiter: str, expands: bool, strip_tabs: bool) -> Word:
        """A here-document's lines, which start after the current line ends, up to the delimiter line."""
        r, text = self.r, self.r.text
        if r.skip is None:
            newline = text.find("\n", r.pos)
            if newline < 0:
                raise Incomplete(f"\n{delimiter}\n")
            r.skip = [newline, newline + 1]
        pos, lines = r.skip[1], []
        while True:
            if pos >= len(text):
                raise Incomplete(("" if text.endswith("\n") else "\n") + delimiter + "\n")
            end = text.find("\n", pos)
            line = text[pos:] if end < 0 else text[pos:end]
            pos = len(text) if end < 0 else end + 1
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                break
            lines.append(line)
        r.skip[1] = pos
        return _heredoc_word("\n".join(lines), expands)

    def _simple(self, piped: bool) -> None:
        words, assignments, redirects = [], [], []
        while True:
            self.lex.skip_blanks()
            if self.r.at_end:
                break
            op, fd = self._redirect_op()
            if op is not None:
                redirects.append(self._redirect(op, fd))
                continue
            if self.lex.operator() is not None and not self.lex._substitution_start():
                if self.r.peek() != "(":
                    break
                if len(words) == 1 and not assignments and not redirects:
                    return self._function_definition(words[0], piped)
                if not words and assignments and assignments[-1].text.endswith("="):
                    assignments.extend(self._array())
                    continue
                raise ShellSyntaxError("unexpected '(' after a command's words")
            start = self.r.pos
            w = self.lex.word(self)
            if self.r.pos == start:
                raise ShellSyntaxError(f"cannot read {self.r.peek()!r}")
            if not words and ASSIGNMENT.match(self.r.text, start) and not self.r.text[start] in "'\"":
                assignments.append(w)
            else:
                words.append(w)
        if words or assignments or redirects:
            self.commands.append(Command(tuple(words), tuple(assignments), tuple(redirects), piped, self.function))

    def _array(self) -> list[Word]:
        """``NAME=(a b c)``: the elements, which (like any assignment's value) run only their substitutions."""
        self.r.take()
        words = []
        while True:
            self.lex.skip_blanks()
            while self.r.startswith("\n"):
                self._newline()
                self.lex.skip_blanks()
            if self.r.at_end:
                raise Incomplete(")")
            if self.r.peek() == ")":
                self.r.take()
                return words
            if self.lex.operator() is not None:
                raise ShellSyntaxError(f"unexpected {self.lex.operator()!r} in an array")
            words.append(self.lex.word(self))

    def _function_definition(self, name: Word, piped: bool) -> None:
        self.lex.skip_blanks()
        self.r.take()  # (
        self.lex.skip_blanks()
        if self.r.at_end:
            raise Incomplete(") { :; }")
        if self.r.peek() != ")":
            raise ShellSyntaxError(f"unexpected {self.r.peek()!r} after {name.text}(")
        self.r.take()
        self._function_body(name.text, piped)


def _heredoc_word(body: str, expands: bool) -> Word:
    if not expands:
        return Word(body)
    reader = _Reader(body)
    lexer, builder = _Lexer(reader), _WordBuilder()
    lexer.scan_expanding(_Parser(reader), builder, end=None)
    return builder.word()
