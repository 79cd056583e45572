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


# --------------------------------------------------------------------------------------------------------
def autocomplete(obs, page):
    """Type the given start of an item, then pick a matching suggestion from the list, then Submit."""
    start = quoted(obs.instruction)[0]
    end = quoted(obs.instruction)[1] if "ends with" in obs.instruction else ""
    field = first(page, "#tags")
    value = field["value"] or ""
    ok = lambda s: s.startswith(start) and s.endswith(end)  # noqa: E731
    items = [li for li in query(page, "ul.ui-autocomplete li") if li["text"]]
    matches = [li for li in items if ok(li["text"])]
    rule = f"starts with '{start}'" + (f" and ends with '{end}'" if end else "")
    if value and any(not li["text"].lower().startswith(value.lower()) for li in items):
        return wait(f"The suggestion list does not match the field's text '{value}' yet", 0.5)
    on_screen = [li for li in matches if li["box"][3] <= 210]
    if on_screen:
        li = on_screen[0]
        return click(li, f"The suggestion '{li['text']}' {rule}; it")
    if ok(value) and not items:
        return submit(first(page, "#subbtn"), "Submit", f"The field holds '{value}', which {rule}.")
    if not value.startswith(start):
        return fill(page, field, start, "The 'Tags' field")
    if matches:
        # A matching suggestion is below the screen edge: type more of its name to shorten the list.
        name = matches[0]["text"]
        more = name[len(value):len(value) + 3] if name.startswith(value) else ""
        if more:
            x, y = field["x"], field["y"]
            return (f"The suggestion '{name}' is below the edge of the screen; type '{more}' more into the "
                    f"field at ({x}, {y}) to narrow the list.", A.Type(more))
    if not items:
        return wait(f"The field holds '{value}' but no suggestions are showing yet", 0.5)
    return fill(page, field, start, "The 'Tags' field")


teacher("use-autocomplete", "use-autocomplete-nodelay")(autocomplete)


@teacher("use-spinner")
def use_spinner(obs, page):
    want = int(re.search(r"Select (-?\d+)", obs.instruction).group(1))
    field = first(page, "#spinner")
    try:
        have = int(field["value"])
    except (TypeError, ValueError):
        have = None
    if have == want:
        return submit(first(page, "#subbtn"), "Submit", f"The spinner shows {want}.")
    if have is None:
        return fill(page, field, "0", "The spinner's text")  # pragma: no cover - the field refuses keys
    arrow = first(page, ".ui-spinner-up" if want > have else ".ui-spinner-down")
    n = abs(want - have)
    x, y = arrow["x"], arrow["y"]
    which = "up" if want > have else "down"
    times = "once" if n == 1 else "twice" if n == 2 else f"{n} times"
    return (f"The spinner shows {have} and should show {want}; click its {which} arrow at ({x}, {y}) {times}.",
            [A.Click((x, y))] * n if n > 1 else A.Click((x, y)))


@teacher("guess-number")
def guess_number(obs, page):
    """Guess 4 first; after 'higher than k' guess k+2 (at most 9), after 'lower than k' guess k-1.

    Stateless, it reads only the feedback on screen, and needs at most five guesses.
    """
    field = first(page, "#tt")
    fx, fy = left_point(field, 8)
    lower = first(page, "#lower")
    higher = first(page, "#higher")
    if higher:
        k = int(higher["text"].split()[-1].rstrip("."))
        guess, why = min(k + 2, 9), f"The page says the number is higher than {k}"
    elif lower:
        k = int(lower["text"].split()[-1].rstrip("."))
        guess, why = k - 1, f"The page says the number is lower than {k}"
    else:
        guess, why = 4, "No guess has been made yet"
    value = field["value"] or ""
    if value == "":
        return (f"{why}. The number field is at ({fx}, {fy}); type '{guess}' and press Enter to submit it.",
                A.Type(f"{guess}\n", at=(fx, fy)))
    focused, selected = is_focused(page, field, (fx, fy))
    if focused and selected:
        return (f"{why}, and the old guess in the number field at ({fx}, {fy}) is selected; type '{guess}' "
                f"over it and press Enter.", A.Type(f"{guess}\n"))
    if focused:
        return (f"{why}. The number field at ({fx}, {fy}) still holds the old guess {value}; select all its "
                f"text.", A.Hotkey("ctrl a"))
    return f"{why}. The number field is at ({fx}, {fy}); click it to edit the guess.", A.Click((fx, fy))


# --------------------------------------------------------------------------------------------------------
RESULTS_JS = r"""
() => [...document.querySelectorAll('#page-content a.search-title')].map(a => +a.getAttribute('data-result'))
"""


@teacher("search-engine")
def search_engine(obs, page):
    name = quoted(obs.instruction)[0]
    n = int(re.search(r"(\d+)(?:st|nd|rd|th) search result", obs.instruction).group(1))
    step = fill(page, first(page, "#search-text"), name, "The search box")
    if step:
        return step
    results = query(page, "#page-content a.search-title")
    indices = page.evaluate(RESULTS_JS)
    if not results or -1 in indices:
        return click(first(page, "#search"), f"The search box holds '{name}'. The 'Search' button")
    want_page = (n - 1) // 3 + 1
    if n - 1 in indices:
        link = results[indices.index(n - 1)]
        return click(link, f"Result {n} is '{link['text']}' on page {want_page}; its link")
    active = first(page, "#pagination li.active a")
    page_link = next(a for a in query(page, "#pagination a.page-link") if a["text"] == str(want_page))
    return click(page_link, f"Results are shown 3 per page, so result {n} is on page {want_page} and this is "
                            f"page {active['text'] if active else '?'}. The page link '{want_page}'")
