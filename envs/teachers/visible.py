"""Visible-state teachers: search where the privileged teacher looks behind closed panels.

On a few tasks the privileged teacher's answer rests on what the screen hides. On click-tab-2-hard it reads
every tab's panel and goes straight to the one that holds the link ("The link 'Volutpat,' is on the tab '2',
which is not shown"). A student that copies this learns to guess: it cannot see closed panels, so it names a
tab at random, and when the link is not there it clicks whichever link is (README, session 10).

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

from agent import actions as A
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
