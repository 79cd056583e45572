"""Grammar-constrained references: a reply may only name what the observation lists.

When a model writes ``element='…'`` or ``start_box='(x,y)'``, the characters that may follow are those that
continue some element text, or some element position, of the element list in the prompt (core/elements.py
``describe_elements``: ``[3] button 'Submit'``, ``[4] textbox at (65,170)``). Everything else in the reply
(the Thought, the action name, typed content, other arguments) stays free. This is the observation-dependent
part of structured decoding: the model still chooses *which* element, by its own likelihoods, but it can no
longer misspell one or invent one that is not on the screen.

It works on token bytes, so it fits any tokenizer: byte-level BPE vocabularies (the embedded model's
one-byte-per-token vocabulary, Qwen's) through GPT-2's byte map, added tokens through UTF-8. A token may run
past the closing quote (``')``, ``', content='``): once the reference is complete the rest is free.

With ``quotes`` (``"constrain_quotes": true``), a listed line quoted in the reply must be quoted right: once
the reply has written a line's description and `` at (`` (``div white at (``, as the list shows it without its
``[id]``), the position that follows is one the list gives a line of that description. The model still
chooses the description (which colour), but the position is then read off the list rather than recalled; the
embedded model's thoughts quote the line of a text-less target before acting on it (models/student_form.py).

A checkpoint opts in with ``"constrain_references": true`` in its ``screenwise.json``. Sampling then draws from
the masked distribution, and the logprobs a generation reports are those of that distribution;
``TransformersModel.allowed_masks`` rebuilds the masks of a reply so that training (GRPO's ratios) sees the same
distribution the sampler did.
"""

from __future__ import annotations

import re
from collections import defaultdict

OPENERS = (b"element='", b"start_box='(")
COPIES = (b"content='", b"option='")
"""With ``copy_content``, typed text and a chosen option must be a run of whole words copied out of the
instruction and history, as written there or all in upper or all in lower case: a pointer-style copy. Every
typed value and option of the core tasks' teachers is one; computed answers (dates, sums) and text read off the
page are not."""
_SPECIAL = re.compile(r"<\|[a-z_]+\|>")
_LINE = re.compile(r"^\[(?P<id>\d+)\] [\w-]+(?: '(?P<text>.*?)')?(?: (?!at )[a-z]+)?(?: for '(?P<label>[^'\\]*)')?"
                   r"(?: \((?!\d)[^)]*\))?(?: at \((?P<x>\d+),(?P<y>\d+)\))?$")


def listed_references(prompt: str, lines: list | None = None, ids: list | None = None) -> tuple[list[str], list[str]]:
    """Element texts and ``x,y`` positions from the last element list in ``prompt``.

    ``lines``, when given, collects ``(description, "x,y")`` for every listed line with a position: the line
    without its ``[id]`` and position (``div white`` of ``[3] div white at (111,167)``). ``ids`` collects the ids.
    """
    at = prompt.rfind("Elements:\n")
    if at < 0:
        return [], []
    names, points = [], []
    block = prompt[at + len("Elements:\n"):].split("<|im_end|>")[0]  # the chat template closes the turn
    for line in block.split("\n"):
        m = _LINE.match(line)
        if not m:
            if line.startswith("["):
                continue
            break  # the list has ended
        if ids is not None:
            ids.append(m["id"])
        if m["text"] and "'" not in m["text"] and "\\" not in m["text"]:
            names.append(m["text"])
        if m["x"] is not None:
            points.append(f"{m['x']},{m['y']}")
            if lines is not None:
                lines.append((line[line.index("] ") + 2:line.rindex(" at (")], f"{m['x']},{m['y']}"))
    return names, points


def _byte_decoder() -> dict[str, int]:
    """GPT-2's printable-character -> byte map (the inverse of what byte-level BPE vocabularies are written in)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


class ReferenceConstraint:
    """Token tables for one tokenizer; ``session(prompt, rows)`` starts a decode."""

    def __init__(self, tokenizer):
        decoder = _byte_decoder()
        added = set(tokenizer.get_added_vocab().values()) if hasattr(tokenizer, "get_added_vocab") else set()
        self.vocab_size = len(tokenizer)
        self.bytes: list[bytes] = []
        for i in range(self.vocab_size):
            piece = tokenizer.convert_ids_to_tokens(i) or ""
            if i not in added and piece and all(ch in decoder for ch in piece):
                self.bytes.append(bytes(decoder[ch] for ch in piece))
            else:
                self.bytes.append(piece.encode())
        self.by_first: dict[int, list[int]] = defaultdict(list)
        for i, b in enumerate(self.bytes):
            if b:
                self.by_first[b[0]].append(i)
        # Typed content and options are an action's last argument (core/actions.py writes them last): the
        # closing quote may only be followed by the call's ")", so a copy cannot run on into a second argument.
        self.closers = sorted(i for i in self.by_first.get(ord(")"), ()) if self.bytes[i] == b")")
        self.quote_closers = sorted(i for i in self.by_first.get(ord("'"), ()) if self.bytes[i] in (b"'", b"')"))

    def session(self, prompt: str, rows: int, copy_content: bool = False, quotes: bool = False) -> "Session":
        lines: list = []
        names, points = listed_references(prompt, lines)
        session = Session(self, [n.encode() + b"'" for n in names], [p.encode() + b")'" for p in points], rows)
        if quotes:
            for description, point in lines:
                session.targets.setdefault(f"{description} at (".encode(), []).append(point.encode() + b")")
        if copy_content:
            body = prompt.split("<|im_start|>user", 1)[-1].split("Elements:\n")[0]  # the instruction and history
            session.source = _SPECIAL.sub(" ", body).encode()  # not the image's markup: <|vision_start|> is no word
        return session


class Session:
    """The bytes each row has written so far, and the ids allowed next."""

    def __init__(self, table: ReferenceConstraint, names: list[bytes], points: list[bytes], rows: int):
        self.table = table
        self.targets: dict[bytes, list[bytes]] = {OPENERS[0]: names, OPENERS[1]: points}
        self.text = [b""] * rows
        self.source: bytes | None = None

    def push(self, row: int, token_id: int) -> None:
        if token_id < len(self.table.bytes):
            self.text[row] += self.table.bytes[token_id]

    def allowed(self, row: int) -> list[int] | None:
        """Ids that keep the open reference listed; None when no reference is open (or none could match)."""
        text = self.text[row]
        # the opener that ends last, and of those the longest ("area red at (" over its suffix "a red at (")
        opener, start = max(((o, text.rfind(o)) for o in self.targets),
                            key=lambda p: (p[1] + len(p[0]) if p[1] >= 0 else -1, len(p[0])))
        copy, copy_at = max(((c, text.rfind(c)) for c in COPIES), key=lambda p: p[1])
        if self.source is not None and copy_at > start:
            return self._copy(text[copy_at + len(copy):])
        if start < 0:
            return None
        prefix = text[start + len(opener):]
        if b"'" in prefix or (opener not in OPENERS and b")" in prefix):
            return None  # closed already
        rests = [c[len(prefix):] for c in self.targets[opener] if c.startswith(prefix)]
        if not rests:
            return None
        ok = set()
        run_past = opener in OPENERS  # a reference's last token may run on into the call (``')``); a quote's not
        for rest in rests:
            for i in self.table.by_first.get(rest[0], ()):
                piece = self.table.bytes[i]
                if rest.startswith(piece) or (run_past and piece.startswith(rest)):
                    ok.add(i)
        return sorted(ok)

    def _copy(self, prefix: bytes) -> list[int] | None:
        """Ids that keep the typed text a run of whole words of the prompt, as written there or all in upper or
        all in lower case, or close the quote where such a run ends."""
        if b"'" in prefix:
            q = prefix.index(b"'")
            if prefix[q + 1:] or prefix[q - 1:q] == b"\\":
                return None  # the call is closed, or an escaped quote inside the text: free from here
            return self.table.closers
        ok: set[int] = set()
        matched = False
        for source in (self.source, self.source.upper(), self.source.lower()):
            starts = [i for i in _find_all(source, prefix) if i == 0 or not _wordy(source[i - 1])]
            matched = matched or bool(starts)
            end = len(prefix)
            if prefix and any(i + end == len(source) or not _wordy(source[i + end]) for i in starts):
                ok.update(self.table.quote_closers)
            for b in {source[i + end] for i in starts if i + end < len(source)}:
                for t in self.table.by_first.get(b, ()):
                    piece = prefix + self.table.bytes[t]
                    if b"'" not in piece and any(source.startswith(piece, i) for i in starts):
                        ok.add(t)
        return sorted(ok) if matched else None


def _find_all(haystack: bytes, needle: bytes) -> list[int]:
    out, at = [], haystack.find(needle)
    while at >= 0:
        out.append(at)
        at = haystack.find(needle, at + 1)
    return out


def _wordy(byte: int) -> bool:
    """Part of a word: a letter, a digit, or a byte of a non-ASCII character."""
    return byte >= 128 or chr(byte).isalnum()
