"""Visible-state teachers: search where the privileged teacher looks behind closed panels.

On a few tasks the privileged teacher's answer rests on what the screen hides. On click-tab-2-hard it reads
every tab's panel and goes straight to the one that holds the link ("The link 'Volutpat,' is on the tab '2',
which is not shown"). A student that copies this learns to guess: it cannot see closed panels, so it names a
tab at random, and when the link is not there it clicks whichever link is (docs/experiments-grpo.md, run 10).

The teachers here decide only from what the screen shows: the labels of the tabs, section headers or folders,
which one is highlighted (open) or drawn closed, and the links or names in view. When the target is not in view
they open the next tab or section after the open one, or the first closed folder, so the search is a rule the
student can follow from its own observation:

    Thought: The link 'Viverra' is not shown, and 'Section #1' is open; the next section, 'Section #2'; click it.

Every thought names the target before it says whether it is shown, so the model writes the name, then looks it up.

They are used for distillation data through the ``teacher:visible`` model spec (student form) and
``--policy model:teacher:visible``; the privileged teachers stay the ``teacher`` benchmark. Like those, they keep
no memory between steps, so they can label any state the student reaches.
"""

from __future__ import annotations

import re

from core import actions as A
from envs.teachers import visible_teacher
from envs.teachers.dom import first, query, quoted
from envs.teachers.widgets import _animating, _inside, _links, _pt


def _shown_link(page, want: str) -> dict | None:
    """A link with the wanted text on the screenshot (a closed panel's links are not displayed, so not found)."""
    links = [a for a in _links(page, want) if _inside(a)]
    return links[0] if links else None


def search_step(want: str, link: dict | None, labels: list[str], heads: list[dict], open_index: int | None,
                kind: str) -> tuple[str, A.Click]:
    """The search rule shared by tabs and accordions.

    ``heads`` are the tabs or section headers in screen order, ``labels`` how the thought names each, and
    ``open_index`` the one highlighted as open (None: none is). The link in view is clicked; otherwise the next
    head after the open one (the first when none is open; after the last, the first again).
    """
    if link is not None:
        return f"The link '{want}' is shown; click it.", A.Click(_pt(link))
    if open_index is None:
        return (f"The link '{want}' is not shown, and no {kind} is open; the first {kind}, {labels[0]}; click it.",
                A.Click(_pt(heads[0])))
    i = (open_index + 1) % len(heads)
    return (f"The link '{want}' is not shown, and {labels[open_index]} is open; the next {kind}, {labels[i]}; "
            "click it.", A.Click(_pt(heads[i])))


@visible_teacher("click-collapsible-2", "click-collapsible-2-nodelay")
def click_collapsible_2(obs, page):
    want = quoted(obs.instruction)[-1]
    if _animating(page):
        return "A section is still sliding open; wait for it to finish.", A.Wait(0.4)
    heads = query(page, "#area h3")
    # the highlighted header is the open section's (jQuery UI marks it ui-state-active)
    active = [i for i, h in enumerate(heads) if "ui-state-active" in h["cls"]]
    labels = [f"'{h['text']}'" for h in heads]
    return search_step(want, _shown_link(page, want), labels, heads, active[0] if active else None, "section")


@visible_teacher("click-tab-2", "click-tab-2-easy", "click-tab-2-medium", "click-tab-2-hard")
def click_tab_2(obs, page):
    want = quoted(obs.instruction)[-1]
    tabs = query(page, "#area ul a")
    labels = [f"'{t['text']}'" if t["text"].startswith("Tab") else f"the tab '{t['text']}'" for t in tabs]
    active = first(page, "#area li.ui-tabs-active a")
    names = [t["text"] for t in tabs]
    index = names.index(active["text"]) if active is not None and active["text"] in names else None
    return search_step(want, _shown_link(page, want), labels, tabs, index, "tab")


# The first closed folder on screen (jQuery treeview marks a collapsed folder's <li> "expandable", and draws it
# with a plus), and the wanted name when it is on screen.
TREE_VISIBLE_JS = r"""
(want) => {
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const box = s => { const g = document.createRange(); g.selectNodeContents(s); const r = g.getBoundingClientRect();
    return {x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2), text: s.textContent}; };
  const spans = [...document.querySelectorAll('#tree span')].filter(shown);
  const hit = spans.find(s => s.textContent === want);
  const closed = spans.find(s => s.classList.contains('folder') &&
    (s.parentElement.classList.contains('expandable') || s.parentElement.classList.contains('lastExpandable')));
  return {target: hit ? box(hit) : null, closed: closed ? box(closed) : null};
}
"""


@visible_teacher("navigate-tree")
def navigate_tree(obs, page):
    """The name in view is clicked; otherwise the first closed folder on screen is opened (depth first)."""
    want = quoted(obs.instruction)[-1]
    found = page.evaluate(TREE_VISIBLE_JS, want)
    if found["target"]:
        t = found["target"]
        return f"'{want}' is shown; click it.", A.Click(_pt(t))
    if found["closed"]:
        f = found["closed"]
        return f"'{want}' is not shown; the first closed folder, '{f['text']}'; click it.", A.Click(_pt(f))
    return f"'{want}' is not shown and no folder is closed; scroll down.", A.Scroll("down", at=(80, 150))


# -- tasks whose privileged teacher reads script state (hot-cold, stock-market) -------------------------------
# hot-cold's signal says how far the pointer is from a hidden spot: HOT under 5 px, WARM under 10, COLD under 40
# and ICE COLD beyond. A click scores 1.0, 0.5 or 0.25 in those three rings and fails beyond them. The spot is a
# variable of the page's script, which the privileged teacher reads; a person sweeps the pointer and watches the
# signal. These nine points, 55 px apart across and 41 down, leave no spot of the 160x125 area 40 px or more
# from the nearest one, so one of them reads COLD or better. The prompt keeps the earlier actions, not what each
# hover read, so the sweep follows the list's order from the last point hovered, which the screen (the pointer)
# and the previous actions both give; the signal on screen is the reading at that point.
SWEEP = [(80, 112), (25, 72), (80, 72), (135, 72), (25, 112), (135, 112), (25, 153), (80, 153), (135, 153)]

# Where the pointer last moved to (a listener put on the page at the first step, before any hover). A click ends
# the episode, so it forgets the point: the next episode, on the same page, starts with none.
POINTER_JS = r"""
() => {
  if (!window.__pointer) {
    window.__pointer = [];
    document.addEventListener('mousemove', e => { window.__pointer = [e.clientX, e.clientY]; }, true);
    document.addEventListener('click', () => { window.__pointer = []; }, true);
  }
  return window.__pointer;
}
"""


@visible_teacher("hot-cold")
def hot_cold(obs, page):
    px, py = page.evaluate(POINTER_JS) or (-99, -99)  # none yet: off the sweep
    # the student's form snaps a point near an element's centre onto it: the pointer may be a few pixels off
    at = next((i for i, (x, y) in enumerate(SWEEP) if abs(x - px) <= 5 and abs(y - py) <= 5), None)
    signal = next((e.text for e in obs.elements if e.text in ("HOT", "WARM", "COLD", "ICE COLD")), "")
    if at is not None and signal in ("HOT", "WARM", "COLD"):
        return f"The signal reads {signal} with the pointer here; click here.", A.Click((px, py))
    i = 0 if at is None else min(at + 1, len(SWEEP) - 1)
    where = f"The signal reads {signal} here" if signal else "No signal is shown yet"
    if i == len(SWEEP) - 1:  # every other point read ICE COLD: the last one is within 40 px
        return f"{where}, and every other point read ICE COLD; click the last point.", A.Click(SWEEP[i])
    return f"{where}; move the pointer to the next point of the sweep.", A.Hover(SWEEP[i])


_PRICE = re.compile(r"\$(\d+(?:\.\d+)?)")


@visible_teacher("stock-market")
def stock_market(obs, page):
    """Buy when the price on screen is below the limit the task names; else look again shortly. The privileged
    teacher reads every price to come and times its click; a person can only watch the ticker."""
    limit = float(_PRICE.search(obs.instruction).group(1))
    shown = next((e for e in obs.elements if re.fullmatch(r"\$\d+(\.\d+)?", e.text)), None)
    buy = next((e for e in obs.elements if e.text.strip() == "Buy"), None)
    if shown is None or buy is None:
        return "The ticker shows no price yet; wait.", A.Wait(0.3)
    price = float(shown.text.lstrip("$"))
    if price < limit:
        return f"The price {shown.text} is below ${limit:.2f}; click 'Buy' now.", A.Click(buy.center)
    # The ticker runs for 10 s and the episode for 10 turns: wait long while the price is far off, briefly near it.
    far = price - limit > 1.0
    return (f"The price {shown.text} is {'far above' if far else 'just above'} ${limit:.2f}; wait for it to drop.",
            A.Wait(1.0 if far else 0.2))
