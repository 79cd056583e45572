"""Teachers: forms (text fields, logins, dates and times, spinners, search boxes)."""

from __future__ import annotations

import re

from agent import actions as A
from envs.teachers import teacher
from envs.teachers.dom import click, first, query, quoted, wait


def is_focused(page, el: dict, at: tuple[int, int] | None = None) -> tuple[bool, bool]:
    """(focused, all text selected) for a queried element, found again by a point on it."""
    got = page.evaluate(
        r"""([x, y]) => {
          const a = document.activeElement;
          if (!a || a === document.body) return [false, false];
          const e = document.elementFromPoint(x, y);
          if (!e || !(e === a || a.contains(e) || e.contains(a))) return [false, false];
          const v = a.value || '';
          let all = false;
          try {
            if (a.selectionStart !== null && a.selectionStart !== undefined)
              all = v.length > 0 && a.selectionStart === 0 && a.selectionEnd === v.length;
            else all = v.length > 0 && String(window.getSelection()) === v;
          } catch (e) { all = v.length > 0 && String(window.getSelection()) === v; }
          return [true, all];
        }""",
        list(at or (el["x"], el["y"])),
    )
    return bool(got[0]), bool(got[1])


def fill(page, el: dict, want: str, name: str, at: tuple[int, int] | None = None):
    """The next action to make the text field ``el`` hold exactly ``want``, or None when it already does.

    An empty field is typed into; a field holding other text is focused, its text selected (ctrl+a), and
    then typed over.
    """
    value = el["value"] or ""
    if value == want:
        return None
    x, y = at or (el["x"], el["y"])
    if value == "":
        return f"{name} is at ({x}, {y}); type '{want}' into it.", A.Type(want, at=(x, y))
    focused, selected = is_focused(page, el, (x, y))
    if focused and selected:
        return (f"All the text in {lower_first(name)} at ({x}, {y}) is selected; type '{want}' to replace it.",
                A.Type(want))
    if focused:
        return (f"{name} at ({x}, {y}) holds '{value}' instead of '{want}'; select all its text.",
                A.Hotkey("ctrl a"))
    return (f"{name} at ({x}, {y}) holds '{value}' instead of '{want}'; click it to edit it.",
            A.Click((x, y)))


def lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if s.startswith("The ") else s


def left_point(el: dict, inset: int = 10) -> tuple[int, int]:
    """A point near the left end of a field (its first segment, away from spin buttons)."""
    x0, y0, x1, y1 = el["box"]
    return min(x0 + inset, (x0 + x1) // 2), (y0 + y1) // 2


def submit(el: dict, label: str, why: str = ""):
    thought, action = click(el, f"The '{label}' button")
    return (f"{why} {thought}" if why else thought), action


# --------------------------------------------------------------------------------------------------------
@teacher("enter-password")
def enter_password(obs, page):
    want = quoted(obs.instruction)[0]
    for css, name in (("#password", "The 'Password' field"), ("#verify", "The 'Verify password' field")):
        step = fill(page, first(page, css), want, name)
        if step:
            return step
    return submit(first(page, "#subbtn"), "Submit", f"Both password fields hold '{want}'.")


@teacher("enter-text-dynamic")
def enter_text_dynamic(obs, page):
    want = quoted(obs.instruction)[0]
    step = fill(page, first(page, "#tt"), want, "The text field")
    if step:
        return step
    return submit(first(page, "#subbtn"), "Submit", f"The field holds '{want}'.")


@teacher("enter-text-2")
def enter_text_2(obs, page):
    word = quoted(obs.instruction)[0]
    want = word.upper() if "upper case" in obs.instruction else word.lower()
    case = "upper" if "upper case" in obs.instruction else "lower"
    step = fill(page, first(page, "#tt"), want, "The text field")
    if step:
        thought, action = step
        if isinstance(action, A.Type):
            thought = thought.replace(f"type '{want}'", f"type '{word}' in {case} case, '{want}',")
        return thought, action
    return submit(first(page, "#subbtn"), "Submit", f"The field holds '{want}'.")


def login(obs, page, button: str):
    user, password = quoted(obs.instruction)[:2]
    for css, want, name in (("#username", user, "The 'Username' field"),
                            ("#password", password, "The 'Password' field")):
        step = fill(page, first(page, css), want, name)
        if step:
            return step
    return submit(first(page, "#subbtn"), button, "The username and password are filled in.")


@teacher("login-user")
def login_user(obs, page):
    return login(obs, page, "Login")


@teacher("login-user-popup")
def login_user_popup(obs, page):
    popup = first(page, "#popup")
    if popup:
        cancel = first(page, "#popup-cancel")
        return click(cancel, "A pop-up asks 'Exit to home page?'; to stay and log in, its 'Cancel' button")
    return login(obs, page, "OK")


@teacher("enter-date")
def enter_date(obs, page):
    want = re.search(r"(\d\d)/(\d\d)/(\d{4})", obs.instruction)
    mm, dd, yyyy = want.groups()
    field = first(page, "#tt")
    if field["value"] != f"{yyyy}-{mm}-{dd}":
        x, y = left_point(field)
        return (f"The date field's month part is at ({x}, {y}); click it and type '{mm}{dd}{yyyy}' "
                f"for {mm}/{dd}/{yyyy}.", A.Type(f"{mm}{dd}{yyyy}", at=(x, y)))
    return submit(first(page, "#subbtn"), "Submit", f"The date field shows {mm}/{dd}/{yyyy}.")


@teacher("enter-time")
def enter_time(obs, page):
    h, m, ampm = re.search(r"(\d{1,2}):(\d\d)\s*([AP]M)", obs.instruction).groups()
    hour = int(h) % 12 + (12 if ampm == "PM" else 0)
    field = first(page, "#tt")
    if field["value"] != f"{hour:02d}:{m}":
        x, y = left_point(field)
        keys = f"{int(h):02d}{m}{ampm}"
        return (f"The time field's hour part is at ({x}, {y}); click it and type '{keys}' for {h}:{m} {ampm}.",
                A.Type(keys, at=(x, y)))
    return submit(first(page, "#subbtn"), "Submit", f"The time field shows {h}:{m} {ampm}.")


@teacher("focus-text-2")
def focus_text_2(obs, page):
    pos = re.search(r"(\d)(?:st|nd|rd|th)", obs.instruction).group(0)
    boxes = query(page, "#area input")
    box = boxes[int(pos[0]) - 1]
    return click(box, f"The {pos} input text box from the top")


# --------------------------------------------------------------------------------------------------------
# Movie search forms: each text input's label is the text of the nearest ancestor holding only that input.
LABELLED_INPUTS_JS = r"""
() => [...document.querySelectorAll('#area input[type=text]')].map(el => {
  let p = el.parentElement;
  while (p && p.querySelectorAll('input').length === 1 && p.parentElement &&
         p.parentElement.querySelectorAll('input').length === 1) p = p.parentElement;
  return (p ? p.innerText : '').replace(/\s+/g, ' ').replace(':', '').trim();
})
"""


@teacher("multi-layouts", "multi-orderings")
def multi_layouts(obs, page):
    genre, name, year = re.search(r"Search for (.+?) movies directed by (.+?) from year (\d+)",
                                  obs.instruction).groups()
    labels = page.evaluate(LABELLED_INPUTS_JS)
    inputs = query(page, "#area input[type=text]")
    for label, el in zip(labels, inputs):
        low = label.lower()
        want = genre if "genre" in low else name if "director" in low else year
        step = fill(page, el, want, f"The '{label}' field")
        if step:
            return step
    btn = first(page, "#area button, #area .final, #area .ui-submit")
    return submit(btn, btn["text"], "All three fields are filled in.")
