"""Teachers: forms (text fields, logins, dates and times, spinners, search boxes)."""

from __future__ import annotations

import re

from core import actions as A
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


def fill_with_reason(page, el: dict, want: str, name: str, why: str):
    """``fill``, its thought prefixed by ``why`` (where the value came from); None once the field holds it."""
    step = fill(page, el, want, name)
    return (f"{why} {step[0]}", step[1]) if step else None


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
    rule = f"starts with '{start}'" + (f" and ends with '{end}'" if end else "")
    # The widget's last searched term: while it differs from the field's text, a search is still due.
    term, countries = page.evaluate(
        "() => [$('#tags').autocomplete('instance').term, typeof ITEMS === 'undefined' ? [] : ITEMS]")
    pending = (term or "") != value
    items = [li for li in query(page, "ul.ui-autocomplete li") if li["text"]]
    fresh = not pending and all(li["text"].lower().startswith(value.lower()) for li in items)
    matches = [li for li in items if ok(li["text"])] if fresh else []
    on_screen = [li for li in matches if li["box"][3] <= 210]
    if on_screen:
        li = on_screen[0]
        return click(li, f"The suggestion '{li['text']}' {rule}; it")
    if ok(value) and not items:
        return submit(first(page, "#subbtn"), "Submit", f"The field holds '{value}', which {rule}.")
    if not value.startswith(start) or not any(c.lower().startswith(value.lower()) for c in countries):
        return fill(page, field, start, "The 'Tags' field")
    if pending:
        if items:
            return wait(f"The suggestion list does not match the field's text '{value}' yet", 0.5)
        return wait(f"The field holds '{value}' but no suggestions are showing yet", 0.5)
    x, y = field["box"][2] - 6, field["y"]  # the right end of the field: a click there puts the caret after the text
    focused, _ = is_focused(page, field, (x, y))
    if matches:
        # A matching suggestion is below the screen edge: type more of its name to shorten the list.
        name = matches[0]["text"]
        more = name[len(value):len(value) + 3]
        if more:
            return (f"The suggestion '{name}' is below the edge of the screen; type '{more}' more into the "
                    f"field at ({x}, {y}) to narrow the list.", A.Type(more) if focused else A.Type(more, at=(x, y)))
    if items:
        return fill(page, field, start, "The 'Tags' field")
    if focused:
        return (f"The field holds '{value}' and its suggestion list is closed; press Down to open the list.",
                A.Hotkey("down"))
    return (f"The field holds '{value}' and its suggestion list is closed; click the field at ({x}, {y}) first.",
            A.Click((x, y)))


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
    if have is None:  # the field refuses typing, so this should not happen; the arrows start from 0
        have = 0
    arrow = first(page, ".ui-spinner-up" if want > have else ".ui-spinner-down")
    n = abs(want - have)
    x, y = arrow["x"], arrow["y"]
    which = "up" if want > have else "down"
    return (f"The spinner shows {have} and should show {want}; click its {which} arrow at ({x}, {y}) {times(n)}.",
            repeat(A.Click((x, y)), n))


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


# --------------------------------------------------------------------------------------------------------
@teacher("text-transform")
def text_transform(obs, page):
    want = "".join(s["text"] for s in query(page, "#captcha span"))
    step = fill(page, first(page, "#tt"), want, "The text field")
    if step:
        thought, action = step
        return f"The distorted text above the field reads '{want}'. {thought}", action
    return submit(first(page, "#subbtn"), "Submit", f"The field holds '{want}'.")


def solve_field(page, problem: str, answer: int, what: str):
    step = fill(page, first(page, "#math-answer"), str(answer), "The answer field")
    if step:
        thought, action = step
        return f"{what} {thought}", action
    return submit(first(page, "#subbtn"), "Submit", f"The answer field holds {answer}.")


@teacher("simple-arithmetic")
def simple_arithmetic(obs, page):
    text = first(page, "#math-problem")["text"]
    a, op, b = re.match(r"(\d+)\s*([-+x])\s*(\d+)", text).groups()
    a, b = int(a), int(b)
    answer = a + b if op == "+" else a - b if op == "-" else a * b
    return solve_field(page, text, answer, f"{a} {op} {b} = {answer}.")


@teacher("simple-algebra")
def simple_algebra(obs, page):
    text = first(page, "#math-problem")["text"]
    m = re.match(r"x\s*([-+])\s*(\d+)\s*=\s*(\d+)", text)
    if m:
        op, d, total = m.group(1), int(m.group(2)), int(m.group(3))
        x = total - d if op == "+" else total + d
        why = f"x {op} {d} = {total}, so x = {total} {'-' if op == '+' else '+'} {d} = {x}."
    else:
        d, op, total = re.match(r"(\d+)\s*([-+])\s*x\s*=\s*(\d+)", text).groups()
        d, total = int(d), int(total)
        x = total - d if op == "+" else d - total
        why = (f"{d} + x = {total}, so x = {total} - {d} = {x}." if op == "+"
               else f"{d} - x = {total}, so x = {d} - {total} = {x}.")
    return solve_field(page, text, x, why)


@teacher("read-table")
def read_table(obs, page):
    key = re.search(r"value of (.+?) into", obs.instruction).group(1)
    cells = query(page, "#tab td")
    value = next(cells[i + 1]["text"] for i in range(0, len(cells) - 1, 2) if cells[i]["text"] == key)
    step = fill_with_reason(page, first(page, "#tt"), value, "The text field", f"The table gives {key} as '{value}'.")
    return step or submit(first(page, "#subbtn"), "Submit", f"The field holds the {key}, '{value}'.")


@teacher("read-table-2")
def read_table_2(obs, page):
    cells = query(page, "#tab td")
    table = {cells[i]["text"]: cells[i + 1]["text"] for i in range(0, len(cells) - 1, 2)}
    for n in (1, 2):
        label = first(page, f"#ll{n}")["text"].rstrip(":").strip()
        value = table[label]
        step = fill_with_reason(page, first(page, f"#tt{n}"), value, f"The '{label}' field",
                                f"The table gives {label} as '{value}'.")
        if step:
            return step
    return submit(first(page, "#subbtn"), "Submit", "Both fields hold the values from the table.")


@teacher("find-word")
def find_word(obs, page):
    n = int(re.search(r"(\d+)(?:st|nd|rd|th) word", obs.instruction).group(1))
    words = first(page, "#area p")["text"].split()
    word = re.sub(r"[^a-zA-Z]", "", words[n - 1])
    step = fill_with_reason(page, first(page, "#answer-input"), word, "The answer field",
                            f"Word {n} of the paragraph is '{word}'.")
    return step or submit(first(page, "#subbtn"), "Submit", f"The field holds word {n}, '{word}'.")


@teacher("form-sequence-2")
def form_sequence_2(obs, page):
    radio_pos, num, box_pos = re.search(
        r"Check the (\d)\w\w radio button and enter the number \"(-?\d+)\" into the (\d)\w\w textbox",
        obs.instruction).groups()
    radios = query(page, "#area input[type=radio]")
    radio = radios[int(radio_pos) - 1]
    if not radio["checked"]:
        return click(radio, f"The {ordinal(int(radio_pos))} radio button")
    boxes = query(page, "#area input[type=text]")
    for i, box in enumerate(boxes, 1):
        want = num if i == int(box_pos) else ""
        if box["value"] != want and want == "":
            return clear(page, box, f"The {ordinal(i)} textbox")
        step = fill(page, box, want, f"The {ordinal(i)} textbox")
        if step:
            return step
    return submit(first(page, "#subbtn"), "Submit",
                  f"The {ordinal(int(radio_pos))} radio button is checked and the {ordinal(int(box_pos))} textbox "
                  f"holds {num}.")


def repeat(action, n: int):
    """One action, or a list of n copies of it to run in one turn."""
    return [action] * n if n > 1 else action


def times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def ordinal(n: int) -> str:
    return f"{n}{'st' if n == 1 else 'nd' if n == 2 else 'rd' if n == 3 else 'th'}"


def clear(page, el: dict, name: str):
    """Empty a field that should be blank: focus it, select all, delete."""
    x, y = el["x"], el["y"]
    focused, selected = is_focused(page, el)
    if focused and selected:
        return f"All the text in {lower_first(name)} at ({x}, {y}) is selected; delete it.", A.Hotkey("delete")
    if focused:
        return f"{name} at ({x}, {y}) should be empty but holds '{el['value']}'; select all its text.", \
            A.Hotkey("ctrl a")
    return f"{name} at ({x}, {y}) should be empty but holds '{el['value']}'; click it.", A.Click((x, y))


@teacher("terminal")
def terminal(obs, page):
    m = re.search(r"extension \.(\S+)", obs.instruction)
    ext = m.group(1) if m else ""
    # The files listed by the last 'ls': the output line right after a command line holding 'ls'.
    lines = page.evaluate(r"""() => [...document.querySelectorAll('#terminal-contents > div')].map(d =>
        [d.className, (d.innerText || '').replace(/\s+/g, ' ').trim()])""")
    listed = None
    for i, (cls, text) in enumerate(lines[:-1]):
        if cls == "terminal-line" and text.replace("user$", "").strip() == "ls":
            listed = lines[i + 1][1].split()
    term = first(page, "#terminal")
    x, y = term["x"], term["y"]
    typed = first(page, "#active-input")
    pending = typed["text"] if typed else ""
    if listed is None:
        command, why = "ls", "The files have not been listed yet"
    else:
        want = [f for f in listed if (f.endswith("." + ext) if ext else "." not in f)]
        what = f"ends with .{ext}" if ext else "has no extension"
        command, why = f"rm {want[0]}", f"The files are {', '.join(listed)}; '{want[0]}' {what}"
    if pending and not command.startswith(pending):
        n = len(pending)
        return (f"The command line holds '{pending}', which is not '{command}'; click the terminal at ({x}, {y}) "
                f"and press Backspace {times(n)} to erase it.", [A.Click((x, y))] + [A.Hotkey("backspace")] * n)
    rest = command[len(pending):]
    if pending:
        return (f"{why}. The command line holds '{pending}'; click the terminal at ({x}, {y}), type '{rest}' and "
                f"press Enter to run '{command}'.", A.Type(rest + "\n", at=(x, y)))
    return (f"{why}. The terminal is at ({x}, {y}); type '{command}' and press Enter.",
            A.Type(command + "\n", at=(x, y)))


# --------------------------------------------------------------------------------------------------------
def copy_paste(page, source: dict, source_name: str, answer: dict, want: str):
    """Copy a text area's whole text into the answer field with the keyboard, then Submit.

    The clipboard cannot be read, so the copy (ctrl+c) is always followed in the same turn by the click on the
    answer field and the paste (ctrl+v): the states before and after stay distinguishable.
    """
    ax, ay = answer["x"], answer["y"]
    sx, sy = source["x"], source["y"]
    focused, selected = is_focused(page, source)
    if not lorem_text(page, want):
        # Text was typed into the source by mistake. Undo (the page keeps one undo history for all its fields,
        # newest edit first) until the source is back, before anything else.
        if focused:
            return (f"{cap(source_name)} at ({sx}, {sy}) was edited by mistake; undo the last edit (ctrl+z).",
                    A.Hotkey("ctrl z"))
        return (f"{cap(source_name)} at ({sx}, {sy}) was edited by mistake; click it, to undo the edit next.",
                A.Click((sx, sy)))
    value = answer["value"] or ""
    if value == want:
        return submit(first(page, "#subbtn"), "Submit", f"The answer field holds the text of {source_name}.")
    if value:
        return clear(page, answer, "The answer field")
    if focused and selected:
        return (f"All the text in {source_name} is selected; copy it (ctrl+c), click the answer field at "
                f"({ax}, {ay}) and paste it (ctrl+v).",
                [A.Hotkey("ctrl c"), A.Click((ax, ay)), A.Hotkey("ctrl v")])
    if focused:
        return f"{cap(source_name)} at ({sx}, {sy}) has the focus; select all its text.", A.Hotkey("ctrl a")
    return f"{cap(source_name)} is at ({sx}, {sy}); click it.", A.Click((sx, sy))


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# Whether a text is the page's own random lorem text: words from ui_utils.lorem_words, each followed by ' ' or '. '.
LOREM_JS = r"""
(text) => {
  const words = new Set(ui_utils.lorem_words.map(w => w.toLowerCase()));
  if (!text.endsWith(' ')) return false;
  const tokens = text.slice(0, -1).split(' ');
  let capital = true;
  for (const t of tokens) {
    const w = t.endsWith('.') ? t.slice(0, -1) : t;
    if (!w || !words.has(w.toLowerCase())) return false;
    if (capital && w[0] !== w[0].toUpperCase()) return false;
    capital = t.endsWith('.');
  }
  return true;
}
"""


def lorem_text(page, text: str) -> bool:
    return bool(page.evaluate(LOREM_JS, text))


@teacher("copy-paste")
def copy_paste_1(obs, page):
    source = first(page, "#to-copy")
    return copy_paste(page, source, "the text area", first(page, "#answer-input"), source["value"])


@teacher("copy-paste-2")
def copy_paste_2(obs, page):
    n = int(re.search(r"(\d)(?:st|nd|rd|th) text area", obs.instruction).group(1))
    source = first(page, f"#text-{n}")
    return copy_paste(page, source, f"the {ordinal(n)} text area", first(page, "#answer-input"), source["value"])


@teacher("phone-book")
def phone_book(obs, page):
    name, prop = re.search(r"Find (.+?) in the contact book and click on their (\w+)", obs.instruction).groups()
    shown = first(page, "#contact .name")
    if shown and shown["text"] == name:
        link = first(page, f"#contact a.{prop}")
        what = "phone number" if prop == "phone" else prop
        return click(link, f"This is {name}'s contact card. Their {what} '{link['text']}'")
    links = {a["text"]: a for a in query(page, "#pagination li:not(.disabled) a")}
    active = first(page, "#pagination li.active a")
    current = active["text"] if active else "?"
    who = f"'{shown['text']}'" if shown else "nobody"
    if ">" in links:
        return click(links[">"], f"Contact {current} is {who}, not {name}. The '>' link to the next contact")
    back = links.get("First") or links.get("1") or links.get("<")
    return click(back, f"Contact {current} is {who}, the last one, and {name} was not found after it. "
                       f"The '{back['text']}' link")


# --------------------------------------------------------------------------------------------------------
@teacher("form-sequence")
def form_sequence(obs, page):
    n, pos = re.search(r"Select (-?\d+) with the slider, click the (\d)\w\w checkbox", obs.instruction).groups()
    n, pos = int(n), int(pos)
    shown = int(first(page, "#val")["text"])
    if shown != n:
        track = first(page, "#slider")
        handle = first(page, "#slider .ui-slider-handle")
        x0, _, x1, _ = track["box"]
        x = round(x0 + (n + 10) / 20 * (x1 - x0))
        hx, hy = handle["x"], handle["y"]
        return (f"The slider shows {shown}; it runs from -10 at the left to 10 at the right. Drag its handle "
                f"from ({hx}, {hy}) to ({x}, {hy}) to select {n}.", A.Drag((hx, hy), (x, hy)))
    boxes = query(page, "#area input[type=checkbox]")
    for i, box in enumerate(boxes, 1):
        if i == pos and not box["checked"]:
            return click(box, f"The slider shows {n}. The {ordinal(i)} checkbox")
        if i != pos and box["checked"]:
            return click(box, f"Only the {ordinal(pos)} checkbox should be checked. The {ordinal(i)} checkbox, "
                              f"checked by mistake,")
    return submit(first(page, "#subbtn"), "Submit",
                  f"The slider shows {n} and the {ordinal(pos)} checkbox is checked.")


@teacher("form-sequence-3")
def form_sequence_3(obs, page):
    want, button = re.search(r"Choose (.+?) from the dropdown, then click the button labeled \"(.+?)\"",
                             obs.instruction).groups()
    chosen = page.evaluate("() => document.getElementById('dropdown').value")
    items = query(page, ".selectric-items li")
    box = first(page, ".selectric")
    if items:  # the list is open
        scroller = first(page, ".selectric-items")
        top, bottom = scroller["box"][1], min(scroller["box"][3], 210)
        item = next(li for li in items if li["text"] == want)
        y0, y1 = max(item["box"][1], top), min(item["box"][3], bottom)
        if y1 - y0 >= 16:  # enough of it shows to click it
            x, y = item["x"], (y0 + y1) // 2
            return f"The option '{want}' in the open list is at ({x}, {y}); click it.", A.Click((x, y))
        direction = "down" if item["box"][1] > top else "up"
        sx, sy = scroller["x"], (top + bottom) // 2
        return (f"The option '{want}' is not in view in the open list; scroll {direction} over the list at "
                f"({sx}, {sy}).", A.Scroll(direction, at=(sx, sy)))
    if chosen != want:
        shown = f"shows '{chosen}'" if chosen else "is empty"
        return click(box, f"The dropdown {shown} and should show '{want}'. The dropdown")
    btn = next(b for b in query(page, "#buttons button") if b["text"] == button)
    return click(btn, f"The dropdown shows '{want}'. The button labelled '{button}'")


@teacher("sign-agreement")
def sign_agreement(obs, page):
    cancel, agree = first(page, "#cancel"), first(page, "#agree")
    if obs.instruction.startswith("Click the cancel button"):
        return click(cancel, "The 'Cancel' button")
    name = quoted(obs.instruction)[0]
    press = "Agree" if obs.instruction.rstrip('"').endswith("Agree") else "Cancel"
    field = first(page, "#name")
    enabled = not page.evaluate("() => document.getElementById('name').disabled")
    if not enabled:
        area = first(page, "#text-area")
        top, height = page.evaluate(
            "() => { const t = document.getElementById('text-area'); return [t.scrollTop, t.scrollHeight]; }")
        need = height - 95 - top  # the page unlocks the form once scrollTop + 95 >= scrollHeight
        n = max(1, min(8, -(-need // 100)))  # 100 px a wheel step, at most 8 in one turn
        x, y = area["x"], area["y"]
        return (f"The form is locked until the agreement is scrolled to the bottom; scroll down {times(n)} over "
                f"the text area at ({x}, {y}).", repeat(A.Scroll("down", at=(x, y)), n))
    step = fill(page, field, name, "The 'Name' field")
    if step:
        return step
    return click(cancel if press == "Cancel" else agree, f"The 'Name' field holds '{name}'. The '{press}' button")
