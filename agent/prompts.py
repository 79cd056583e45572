"""The system prompt, generated from the action classes.

Each action class's docstring gives its description (first line) and an example (its ``Example:`` line),
so the prompt lists exactly the actions the parser reads. Named action sets pick the actions a kind of
screen offers. The prompt keeps the layout UI-TARS-1.5 checkpoints were trained on: an opening line, then
``## Output Format``, ``## Action Space``, ``## Note`` and ``## User Instruction``.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.actions import (
    Back, CallUser, Click, DoubleClick, Drag, Finished, Goto, Hotkey, Hover, LongPress, OpenApp, PressBack,
    PressHome, RightClick, Scroll, Select, Type, Wait, example,
)

_DESKTOP = (Click, DoubleClick, RightClick, Drag, Hotkey, Type, Scroll, Wait, Finished, CallUser)

ACTION_SETS: dict[str, tuple[type, ...]] = {
    "desktop": _DESKTOP,  # UI-TARS-1.5's computer-use set
    "browser": _DESKTOP + (Hover, Select, Goto, Back),
    "mobile": (Click, LongPress, Type, Scroll, OpenApp, Drag, PressHome, PressBack, Finished, CallUser),
}

# Shown in the note on element references; a test parses each one.
ELEMENT_REF_EXAMPLES = (
    "click(element=3)",
    "type(element='Email', content='ada@example.com')",
    "click(element='Next', nth=1)",
)

OPENING = ("You are a GUI agent. You are given a task and your action history, with screenshots. "
           "You need to perform the next action to complete the task.")


def action_doc(cls: type) -> tuple[str, str]:
    """An action class's (description, example), read from its docstring."""
    description = (cls.__doc__ or "").strip().splitlines()[0].strip()
    return description, example(cls)


def describe_actions(action_set: str | Iterable[type] = "desktop") -> str:
    """One line per action: its example, then its description as a comment."""
    lines = []
    for cls in _actions(action_set):
        description, line = action_doc(cls)
        lines.append(f"{line}  # {description}")
    return "\n".join(lines)


def system_prompt(instruction: str, action_set: str | Iterable[type] = "desktop", language: str = "English",
                  element_refs: bool = False) -> str:
    """The system prompt for one task, in UI-TARS-1.5's computer-use layout.

    ``action_set`` is a name in ``ACTION_SETS`` or the action classes themselves. With ``element_refs`` the
    note explains ``element=N`` / ``element='text'``, for models that are shown an element list.
    """
    notes = [
        f"- Write the `Thought` part in {language}.",
        "- In `Thought`, make a short plan, then say in one sentence what the next action is and which "
        "element it acts on.",
        "- Inside quoted text, write \\' for a quote, \\\\ for a backslash and \\n for a new line. "
        "A \\n at the end of type(content=...) submits the input.",
        "- To do several actions in one turn, separate them with a blank line.",
    ]
    if Goto in _actions(action_set):
        notes.append("- The screen is a web browser: goto(url=...) opens a page, back() returns to the last one.")
    if element_refs:
        notes.append(
            "- Instead of a point you may name an element of the element list: element=N by its number, or "
            "element='text' by its visible text, adding nth=K (counting from 0) when several elements share "
            "that text. A drag takes start_element= and end_element=. For example: "
            + ", ".join(ELEMENT_REF_EXAMPLES) + ".")
    return "\n".join([
        OPENING,
        "",
        "## Output Format",
        "```",
        "Thought: ...",
        "Action: ...",
        "```",
        "",
        "## Action Space",
        "",
        describe_actions(action_set),
        "",
        "## Note",
        *notes,
        "",
        "## User Instruction",
        instruction,
    ])


def _actions(action_set: str | Iterable[type]) -> tuple[type, ...]:
    if isinstance(action_set, str):
        if action_set not in ACTION_SETS:
            raise ValueError(f"unknown action set {action_set!r}; known: {', '.join(ACTION_SETS)}")
        return ACTION_SETS[action_set]
    return tuple(action_set)
