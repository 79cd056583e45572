"""Teachers: composite tasks (email inbox, social media, file tree, flight booking, and other multi-step pages).

Each teacher reads the whole current state (privileged) and picks the next step from it alone, so it can
label any state a student reaches. Targets inside a scrolled box are first scrolled into view.
"""

from __future__ import annotations

import re

from agent import actions as A
from envs.teachers import teacher
from envs.teachers.dom import click, first, query, quoted

CROP_H = 210  # the task area is 160x210 screenshot pixels


# -- shared helpers ------------------------------------------------------------------------------------------
def _pt(el: dict) -> tuple[int, int]:
    return el["x"], el["y"]


def in_view(el: dict, box: list | tuple | None = None, margin: int = 2) -> bool:
    """Whether an element's click point lies inside ``box`` (a scroll container's box) and the crop."""
    top, bottom = 50 + margin, CROP_H - margin
    if box is not None:
        top, bottom = max(top, box[1] + margin), min(bottom, box[3] - margin)
    return top <= el["y"] <= bottom and 0 <= el["x"] < 160


def scroll_toward(el: dict, box, what: str, where: str) -> tuple[str, A.Scroll]:
    """Scroll the container ``box`` so that ``el`` comes into view."""
    x, y = (box[0] + box[2]) // 2, (max(box[1], 50) + min(box[3], CROP_H)) // 2
    down = el["y"] > y
    return (f"{what} is {'below' if down else 'above'} the visible part of {where}; "
            f"scroll {'down' if down else 'up'} at ({x}, {y}).",
            A.Scroll("down" if down else "up", at=(x, y)))


def type_into(el: dict, want: str, what: str):
    """Type ``want`` into a field, replacing whatever it holds."""
    x, y = _pt(el)
    have = el.get("value") or ""
    if not have:
        return f"{what} is at ({x}, {y}) and empty; type '{want}' into it.", A.Type(want, at=(x, y))
    return (f"{what} at ({x}, {y}) holds '{have}' instead of '{want}'; select its text and type '{want}'.",
            [A.Click((x, y)), A.Hotkey("ctrl a"), A.Type(want)])


# -- email inbox ---------------------------------------------------------------------------------------------
EMAIL_TASK_JS = r"""
() => {
  const el = document.querySelector('.email-thread');
  const ev = el && $._data(el, 'events');
  const d = ev && ev.click && ev.click[0].data.expectedDetails;
  if (!d) return null;
  return {action: d.action, name: d.email.name, subject: d.email.subject, body: d.email.body,
          reply: d.reply || null, forward: d.forward || null};
}
"""

EMAIL_ACTION_WORDS = {"reply": "reply to", "forward": "forward", "delete": "delete", "important": "star"}


def _summary(text: str) -> str:
    return text if len(text) < 15 else text[:15] + ".."


def _visible_box(page, css):
    el = first(page, css)
    return el["box"] if el else None


@teacher("email-inbox", "email-inbox-forward-nl", "email-inbox-forward-nl-turk", "email-inbox-nl-turk",
         "email-inbox-delete", "email-inbox-forward", "email-inbox-important", "email-inbox-noscroll",
         "email-inbox-reply", "email-inbox-star-reply")
def email_inbox(obs, page):
    d = page.evaluate(EMAIL_TASK_JS)
    name, action = d["name"], d["action"]

    # The reply form.
    if first(page, "#reply"):
        sender = first(page, "#reply .reply-sender")["text"]
        if sender != name or action != "reply":
            return click(first(page, "#close-reply"),
                         f"This reply goes to '{sender}', not what the task asks. The back arrow")
        box = first(page, "#reply-text")
        if box["value"] != d["reply"]:
            return type_into(box, d["reply"], "The reply box")
        return click(first(page, "#send-reply"), f"The reply to '{name}' reads '{d['reply']}'. The send icon")

    # The forward form.
    if first(page, "#forward"):
        body = page.evaluate("() => document.querySelector('#forward-text').value")
        if action != "forward" or body != d["body"]:
            return click(first(page, "#close-forward"),
                         "This forward is not of the email the task asks for. The back arrow")
        to = first(page, "#forward .forward-sender")
        if to["value"] != d["forward"]:
            return type_into(to, d["forward"], "The 'to' field")
        return click(first(page, "#send-forward"), f"The forward to '{d['forward']}' is ready. The send icon")

    # An open email.
    if first(page, "#email"):
        sender = first(page, "#email .email-sender")["text"]
        body = first(page, "#email .email-body")["text"]
        if sender != name or (action == "forward" and body != " ".join(d["body"].split())):
            return click(first(page, "#close-email"),
                         f"This email is from '{sender}', not the one from '{name}'. The back arrow")
        if action == "delete":
            return click(first(page, "#email .trash"), f"The email from '{name}' is open. Its trash icon")
        if action == "important":
            return click(first(page, "#email .star"), f"The email from '{name}' is open. Its star icon")
        target = first(page, "#email .email-reply" if action == "reply" else "#email .email-forward")
        box = _visible_box(page, "#email")
        label = "Reply" if action == "reply" else "Forward"
        if not in_view(target, box):
            return scroll_toward(target, box, f"The '{label}' button", "the email")
        return click(target, f"The email from '{name}' is open. The '{label}' button")

    # The search view: go back to the inbox.
    if first(page, "#search"):
        return click(first(page, "#search-cancel"), "The search view is open. The back arrow to the inbox")

    # The inbox.
    box = _visible_box(page, "#main")
    threads = page.evaluate(r"""() => [...document.querySelectorAll('#main .email-thread')].map(t => ({
        sender: t.querySelector('.email-sender').textContent,
        body: t.querySelector('.email-body').textContent}))""")
    rows = query(page, "#main .email-thread")
    stars = query(page, "#main .email-thread .star")
    trashes = query(page, "#main .email-thread .trash")
    mine = [i for i, t in enumerate(threads) if t["sender"] == name]
    exact = [i for i in mine if threads[i]["body"] == _summary(d["body"])]
    visible = [i for i in mine if in_view(rows[i], box, 6)]
    if action == "forward" and exact:
        pick = exact[0]
    else:
        pick = (visible or exact or mine)[0]
    row = rows[pick]
    if action in ("delete", "important"):
        icon = (trashes if action == "delete" else stars)[pick]
        if not in_view(icon, box, 4):
            return scroll_toward(icon, box, f"The email from '{name}'", "the inbox")
        word = "trash" if action == "delete" else "star"
        x, y = _pt(icon)
        return (f"The email from '{name}' is at ({row['x']}, {row['y']}); its {word} icon is at ({x}, {y}); "
                f"click it.", A.Click((x, y)))
    sender = query(page, "#main .email-thread .email-sender")[pick]
    if not in_view(sender, box, 4):
        return scroll_toward(sender, box, f"The email from '{name}'", "the inbox")
    return click(sender, f"The email from '{name}'")
