"""The reference constraint as one regular expression: what a served model is asked to match.

models/constrain.py masks a reply in-process, token by token, only where it names something (``element='``,
``start_box='(``, typed text, a quoted line). A server cannot run our code, but vLLM's OpenAI server (and
``screenwise serve``) take a regular expression: ``extra_body={"structured_outputs": {"regex": …}}``. So
``reply_pattern(prompt)`` writes the same constraint for a whole reply:

    Thought: <one line>\\nAction: <action>(\\n\\n<action>)*

where every action is one of core/actions.py's in its canonical form, and

- ``element='…'`` names an element text of the prompt's element list (core/elements.py ``describe_elements``:
  ``[3] button 'Submit'``), ``element=N`` a listed id, ``start_box='(x,y)'`` a listed position;
- with ``copy_content``, typed text, a chosen option and a finished answer are a run of whole words of the
  instruction, as written there or all in upper or all in lower case (a pointer-style copy);
- with ``quotes``, a listed line quoted in the thought goes on with a position the list gives a line of that
  description (``div aqua at (111,167)``); any other ``(`` in the thought is not followed by a digit.

It is a little stricter than the in-process masks, which leave the rest of a reply free: a reply that matches
the pattern is one they allow (tests/test_reply_pattern.py checks it on the teachers' replies).

Who runs it:

- ``OpenAICompatModel`` sends it when the model's card asks for constraints;
- ``screenwise serve`` honours it with ``PatternConstraint`` (outlines-core, the regex-to-token-mask index that
  vLLM's ``outlines`` backend uses);
- ``VLLMModel`` passes it to vLLM's sampler, and GRPO ``--vllm`` has the trainer rebuild its masks from the same
  pattern (``TransformersModel.allowed_masks(..., pattern=…)``), so sampler and trainer agree.

The pattern uses only what every engine reads alike: literals, ``[...]`` classes, ``(?:…)`` groups, ``|``,
``?`` and ``*``; no look-around, no back-references.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache

from core.actions import ALL_ACTIONS, NAMES, SCROLL_DIRECTIONS, Drag
from models.constrain import _SPECIAL, _byte_decoder, listed_references

MAX_COPY_LINE = 200
"""Characters of one instruction line that typed text may be copied from: the runs of whole words of a line cost
the pattern the square of its length."""


# -- the pattern ----------------------------------------------------------------------------------------------

_META = set("\\.^$*+?{}[]|()-/")
FREE = r"(?:[^'\\\n]|\\[^\n])*"   # a quoted string's body: anything but a bare quote, backslash escapes allowed
POINT = r"[0-9]+,[0-9]+"
NUMBER = r"[0-9]+(?:\.[0-9]+)?"


def literal(text: str) -> str:
    """``text`` as a pattern that matches exactly it (escaping only what is special, so every engine agrees)."""
    return "".join("\\" + ch if ch in _META else {"\n": r"\n", "\t": r"\t"}.get(ch, ch) for ch in text)


def _any(options, fallback: str | None = None) -> str | None:
    options = sorted(set(options), key=lambda o: (-len(o), o))
    if not options:
        return fallback
    return "(?:" + "|".join(literal(o) for o in options) + ")"


def word_runs(line: str) -> str | None:
    """A pattern for every run of whole words of ``line``: a piece that starts where a word may start (the line's
    start, or after a character that is not part of a word) and ends where one may end."""
    line = line[:MAX_COPY_LINE]
    starts = [i for i in range(len(line)) if i == 0 or not _wordy(line[i - 1])]
    ends = [j for j in range(1, len(line) + 1) if j == len(line) or not _wordy(line[j])]
    alternatives = set()
    for i in starts:
        cuts = [i] + [j for j in ends if j > i]
        if len(cuts) < 2:
            continue
        pattern = ""
        for a, b in reversed(list(zip(cuts, cuts[1:]))):  # the shortest run, then optionally on to each next end
            pattern = literal(line[a:b]) + (f"(?:{pattern})?" if pattern else "")
        alternatives.add(pattern)
    return "|".join(sorted(alternatives)) or None


def copy_pattern(prompt: str) -> str:
    """Typed text as a copy: runs of whole words of the instruction (the user's text before the history and the
    element list), as written or all upper or all lower case; a line end, a quote or a backslash ends a piece.
    (The in-process masks also copy from the history; typed values come from the instruction.)"""
    body = prompt.split("<|im_start|>user", 1)[-1].split("Elements:\n")[0].split("Previous actions:\n")[0]
    body = _SPECIAL.sub(" ", body)  # not the image's markup: <|vision_start|> lends no words
    pieces = {p.strip("\n") for line in body.split("\n") for p in re.split(r"['\\]", line)}
    runs = {r for p in pieces if p for case in (p, p.upper(), p.lower()) if (r := word_runs(case))}
    return "(?:" + "|".join(sorted(runs)) + ")" if runs else FREE


def _target(names, points, ids, box="start_box", element="element", nth="nth") -> str:
    options = [f"{box}='\\({_any(points, POINT) if box == 'start_box' else POINT}\\)'"]
    if names:
        options.append(f"{element}='{_any(names)}'(?:, {nth}=[0-9]+)?")
    if ids:
        options.append(f"{element}={_any(ids)}")
    return "(?:" + "|".join(options) + ")"


def action_pattern(names, points, ids, copy: str) -> str:
    """Every action of core/actions.py in its canonical form (``format_action``), targets limited to the list.

    The actions whose last argument is typed or chosen text (``content=``, ``option=``) share one copy of its
    pattern, which is by far the largest piece."""
    target = _target(names, points, ids)
    value = {"key": f"'{FREE}'", "url": f"'{FREE}'", "app_name": f"'{FREE}'", "seconds": NUMBER,
             "direction": "'" + _any(SCROLL_DIRECTIONS) + "'"}
    forms, copying = [], []
    for cls in ALL_ACTIONS:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if cls is Drag:
            head = (_target(names, points, ids, "start_box", "start_element", "start_nth") + ", "
                    + _target(names, [], [], "end_box", "end_element", "end_nth"))
        elif "at" in fields:  # an optional target is written first, with its ", ", or not at all
            head = f"(?:{target}, )?" if fields["at"].default is None else target + ", "
        else:
            head = ""
        rest = [f for name, f in fields.items() if name not in ("at", "start", "end")]
        name = literal(NAMES[cls] + "(")
        if not rest:  # click(T), call_user(): a required target has no ", " after it
            forms.append(name + head.removesuffix(", ") + literal(")"))
        elif rest[0].name in ("content", "option"):  # type, select, finished: text goes to the shared copy
            if rest[0].default is not dataclasses.MISSING:
                forms.append(name + literal(")"))  # finished(): no answer
            copying.append(name + head + rest[0].name + "=")
        else:
            piece = f"{rest[0].name}={value[rest[0].name]}"
            forms.append(name + head + (f"(?:{piece})?" if rest[0].default is not dataclasses.MISSING else piece)
                         + literal(")"))
    forms.append("(?:" + "|".join(copying) + f")'{copy}'" + literal(")"))
    return "(?:" + "|".join(forms) + ")"


def thought_pattern(lines) -> str:
    """One line of free text; with quoted lines, a ``(`` followed by a digit only as ``DESCRIPTION at (x,y)``."""
    if lines is None:
        return r"[^\n]*"
    by_description: dict[str, list[str]] = {}
    for description, point in lines:
        by_description.setdefault(description, []).append(point)
    quotes = [f"{literal(d + ' at (')}{_any(p)}\\)" for d, p in sorted(by_description.items())]
    return "(?:" + "|".join([r"[^\n(]", r"\([^0-9\n]", *quotes]) + ")*"


@lru_cache(maxsize=256)
def reply_pattern(prompt: str, copy_content: bool = False, quotes: bool = False) -> str:
    """The pattern a reply to ``prompt`` (its rendered text, or the last user message's) must match."""
    lines: list = []
    ids: list = []
    names, points = listed_references(prompt, lines, ids)
    action = action_pattern(names, points, ids, copy_pattern(prompt) if copy_content else FREE)
    return f"Thought: {thought_pattern(lines if quotes else None)}\\nAction: {action}(?:\\n\\n{action})*"


def pattern_for(messages: list[dict], card) -> str | None:
    """The pattern a reply to ``messages`` must match under ``card`` (models/card.py), or None when the card asks
    for no constraint. Read from the last user message's text, where the compact prompt puts the list."""
    if not card.constrain_references:
        return None
    user = next((m for m in reversed(messages) if m.get("role") == "user"), {"content": ""})
    content = user["content"]
    text = content if isinstance(content, str) else "".join(p.get("text", "") for p in content if p.get("type") == "text")
    return reply_pattern(text, card.copy_content, card.constrain_quotes)


def _wordy(ch: str) -> bool:
    """Part of a word: a letter, a digit, or any non-ASCII character."""
    return ord(ch) >= 128 or ch.isalnum()


# -- running it on tokens -------------------------------------------------------------------------------------

def token_bytes(tokenizer) -> list[bytes]:
    """Each id's bytes as it adds them to a reply: byte-level BPE pieces through GPT-2's byte map, added tokens
    through UTF-8; b"" for special tokens, which no reply contains."""
    decoder = _byte_decoder()
    added = tokenizer.get_added_vocab() if hasattr(tokenizer, "get_added_vocab") else {}
    special = set(getattr(tokenizer, "all_special_ids", ()))
    special |= {i for t, i in added.items() if _SPECIAL.fullmatch(t)}
    added_ids = set(added.values())
    out = []
    for i in range(len(tokenizer)):
        piece = tokenizer.convert_ids_to_tokens(i) or ""
        if i in special:
            out.append(b"")
        elif i not in added_ids and piece and all(ch in decoder for ch in piece):
            out.append(bytes(decoder[ch] for ch in piece))
        else:
            out.append(piece.encode())
    return out


class PatternConstraint:
    """A tokenizer's vocabulary for outlines-core; ``session(pattern, rows)`` starts a decode held to a pattern.

    It has the in-process constraint's interface (``session(...).push/allowed``), so the decoders take either.

    In-process the stop token is an ordinary piece of the vocabulary, written out (``<|im_end|>``), and the pattern
    ends with it: outlines-core drops a token that leads from a state where the pattern may end into one where it
    may not (after ``click(…)``, the ``\\n`` of a second action), so here no state but the very last may end it.
    """

    def __init__(self, tokenizer, stop_id: int):
        try:
            from outlines_core import Vocabulary
        except ImportError as e:  # a base dependency; a broken install should say what is missing
            raise ImportError("constrained decoding needs outlines-core: pip install outlines-core") from e
        self.stop_id = stop_id
        self.bytes = token_bytes(tokenizer)
        self.end = (tokenizer.convert_ids_to_tokens(stop_id) or "").encode()
        table: dict[bytes, list[int]] = {self.end: [stop_id]}
        special = set(tokenizer.all_special_ids)  # another stop (<|endoftext|>) would end a reply mid-pattern
        for i, b in enumerate(self.bytes):
            if b and i != stop_id and i not in special:
                table.setdefault(b, []).append(i)
        self.vocabulary = Vocabulary(len(self.bytes), table)  # an end id no model writes: the pattern ends itself
        self._indexes: dict[str, object] = {}

    def index(self, pattern: str):
        """The compiled token index of ``pattern`` (cached: a GRPO update rebuilds the masks of what it sampled)."""
        if pattern not in self._indexes:
            from outlines_core import Index

            if len(self._indexes) > 64:
                self._indexes.clear()
            self._indexes[pattern] = Index(pattern + literal(self.end.decode()), self.vocabulary)
        return self._indexes[pattern]

    def session(self, pattern: str, rows: int) -> "Session":
        return Session(self, pattern, rows)


class Session:
    """One guide per row: the ids each row may write next."""

    def __init__(self, table: PatternConstraint, pattern: str, rows: int):
        from outlines_core import Guide

        self.table, self.pattern = table, pattern
        self.index = index = table.index(pattern)
        self.guides = [Guide(index) for _ in range(rows)]
        self.done = [False] * rows
        self.pushed = [0] * rows  # ids already pushed (HF generate's hook hands over the whole row each time)

    def push(self, row: int, token_id: int) -> None:
        if self.done[row]:
            return
        if token_id == self.table.stop_id or token_id not in self.guides[row].get_tokens():
            self.done[row] = True  # the reply ended (or left the pattern: free from here, as unconstrained)
            return
        self.guides[row].advance(token_id)

    def allowed(self, row: int) -> list[int] | None:
        """Ids that keep the row's reply on the pattern; None once the row has ended. The stop token only where it
        ends the pattern: its bytes (``<|im_end|>``) are also text that a thought or a quoted string may hold."""
        if self.done[row]:
            return None
        state, stop = self.guides[row].get_state(), self.table.stop_id
        tokens = list(self.guides[row].get_tokens())
        if stop in tokens and not self.index.is_final_state(self.index.get_next_state(state, stop)):
            tokens.remove(stop)
        return tokens
