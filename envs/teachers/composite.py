"""Teachers: composite tasks (email inbox, social media, file tree, flight booking, and other multi-step pages).

Each teacher reads the whole current state (privileged) and picks the next step from it alone, so it can
label any state a student reaches. Targets inside a scrolled box are first scrolled into view.
"""

from __future__ import annotations

import re

from agent import actions as A
from envs.teachers import teacher
from envs.teachers.dom import click, first, query, quoted, wait

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


def box_in_view(el: dict, box: list | tuple | None = None, slack: int = 0) -> bool:
    """Whether an element's whole box (give or take ``slack`` pixels) lies inside ``box`` and the crop."""
    top, bottom = 50, CROP_H
    if box is not None:
        top, bottom = max(top, box[1]), min(bottom, box[3])
    return el["box"][1] >= top - slack and el["box"][3] <= bottom + slack


SCROLL_POINT_JS = r"""
([x0, y0, x1, y1]) => {
  // A point of the box where the wheel reaches the box itself: its centre unless something covers it.
  const box = document.elementFromPoint((x0 + x1) / 2, (y0 + y1) / 2);
  const mine = document.elementFromPoint((x0 + x1) / 2, (y0 + y1) / 2);
  const root = [...document.querySelectorAll('*')].find(e => { const r = e.getBoundingClientRect();
    return Math.round(r.left) === x0 && Math.round(r.top) === y0 && Math.round(r.right) === x1 &&
           Math.round(r.bottom) === y1 && e.scrollHeight > e.clientHeight; });
  if (!root) return null;
  for (const fy of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.9])
    for (const fx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
      const x = Math.round(x0 + (x1 - x0) * fx), y = Math.round(y0 + (y1 - y0) * fy);
      const e = document.elementFromPoint(x, y);
      if (e && root.contains(e)) return [x, y];
    }
  return null;
}
"""


def scroll_point(page, box) -> tuple[int, int]:
    """Where to put the wheel to scroll the container with this box (visible part, not covered)."""
    top, bottom = max(box[1], 50), min(box[3], CROP_H)
    found = page.evaluate(SCROLL_POINT_JS, [box[0], box[1], box[2], box[3]]) if page is not None else None
    if found and top <= found[1] <= bottom:
        return found[0], found[1]
    return (box[0] + box[2]) // 2, (top + bottom) // 2


def scroll_toward(el: dict, box, what: str, where: str, page=None) -> tuple[str, A.Scroll]:
    """Scroll the container ``box`` so that ``el`` comes into view."""
    x, y = scroll_point(page, box)
    down = el["y"] > (max(box[1], 50) + min(box[3], CROP_H)) // 2
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
    visible = [i for i in mine if box_in_view(rows[i], box, 2)]
    if action == "forward" and exact:
        pick = exact[0]
    else:
        pick = (visible or exact or mine)[0]
    row = rows[pick]
    if action in ("delete", "important"):
        icon = (trashes if action == "delete" else stars)[pick]
        if not box_in_view(row, box, 2):
            return scroll_toward(row, box, f"The email from '{name}'", "the inbox")
        word = "trash" if action == "delete" else "star"
        x, y = _pt(icon)
        return (f"The email from '{name}' is at ({row['x']}, {row['y']}); its {word} icon is at ({x}, {y}); "
                f"click it.", A.Click((x, y)))
    sender = query(page, "#main .email-thread .email-sender")[pick]
    if not box_in_view(row, box, 2):
        return scroll_toward(row, box, f"The email from '{name}'", "the inbox")
    return click(sender, f"The email from '{name}'")


# -- social media --------------------------------------------------------------------------------------------
SOCIAL_ACTIONS = {"Share via DM": "share", "Copy link to Tweet": "copy", "Embed Tweet": "embed",
                  "Mute": "menu-user", "Block": "block-user", "Report": "report", "Reply": "reply",
                  "Retweet": "retweet", "Like": "like", "Share": "share"}

SOCIAL_JS = r"""
(buttons) => [...document.querySelectorAll('#area .media')].map((m, i) => {
  const r = m.getBoundingClientRect(), u = m.querySelector('.username').getBoundingClientRect();
  const out = {i, ux: Math.round((u.left + u.right) / 2), uy: Math.round((u.top + u.bottom) / 2), user: m.querySelector('.username').textContent, name: m.querySelector('.name').textContent,
               box: [r.left, r.top, r.right, r.bottom].map(Math.round), buttons: {}};
  for (const cls of buttons) {
    const b = m.querySelector('.controls .' + cls);
    if (!b) continue;
    const q = b.getBoundingClientRect();
    out.buttons[cls] = {x: Math.round((q.left + q.right) / 2), y: Math.round((q.top + q.bottom) / 2),
                        box: [q.left, q.top, q.right, q.bottom].map(Math.round),
                        active: b.classList.contains('active'), shown: q.width > 0 && q.height > 0};
  }
  const ul = m.querySelector('.controls ul');
  out.menu_open = !!ul && !ul.classList.contains('hide');
  return out;
})
"""


def _social_request(instruction: str, posts: list[dict]) -> tuple[str, str]:
    """The user and the button label the task names; the user is matched against the page's usernames."""
    label = quoted(instruction)[0]
    users = sorted({p["user"] for p in posts}, key=len, reverse=True)
    user = next((u for u in users if re.search(re.escape(u) + r"(?=[\s,.]|$)", instruction)), None)
    if user is None:
        user = re.search(r"@[^\s,]+", instruction).group(0)
    return user, label


def _area_box(page):
    return first(page, "#area")["box"]


@teacher("social-media")
def social_media(obs, page):
    label = quoted(obs.instruction)[0]
    cls = SOCIAL_ACTIONS[label]
    box = _area_box(page)
    in_menu = cls not in ("reply", "retweet", "like")
    posts = page.evaluate(SOCIAL_JS, [cls] if not in_menu else ["more", cls])
    user, label = _social_request(obs.instruction, posts)
    mine = [p for p in posts if p["user"] == user]
    # A menu already open on a post by the user: pick the item from it.
    if in_menu:
        for p in mine:
            item = p["buttons"][cls]
            if p["menu_open"] and item["shown"]:
                if not box_in_view(item, box):
                    return scroll_toward(item, box, f"The '{label}' item of the open menu", "the feed")
                return click(item, f"The menu of the post by {user} is open. The item '{label}'")
    visible = [p for p in mine if box_in_view(p["buttons"]["more" if in_menu else cls], box)]
    post = (visible or mine)[0]
    btn = post["buttons"]["more" if in_menu else cls]
    if not box_in_view(btn, box):
        return scroll_toward(btn, box, f"The post by {user}", "the feed")
    if in_menu:
        return click(btn, f"The post by {user} is at ({post['ux']}, {post['uy']}); "
                          f"'{label}' is in its '...' menu. The '...' button")
    return click(btn, f"The post by {user} is at ({post['ux']}, {post['uy']}). "
                      f"Its '{label}' button")


SOCIAL_BUTTONS = ["reply", "retweet", "like", "share"]
SOCIAL_LABELS = {"reply": "Reply", "retweet": "Retweet", "like": "Like", "share": "Share"}


def _scrolls_to(target_box, box, view_box) -> tuple[str, int]:
    """Direction and number of 100-pixel wheel steps that bring ``target_box`` into the visible part of ``box``."""
    top, bottom = max(box[1], 50), min(box[3], CROP_H)
    if target_box[3] > bottom:
        return "down", max(1, -(-(target_box[3] - bottom + 4) // 100))
    return "up", max(1, -(-(top - target_box[1] + 4) // 100))


@teacher("social-media-all", "social-media-some")
def social_media_many(obs, page):
    label = quoted(obs.instruction)[0]
    cls = SOCIAL_ACTIONS[label]
    box = _area_box(page)
    posts = page.evaluate(SOCIAL_JS, SOCIAL_BUTTONS)
    user, label = _social_request(obs.instruction, posts)
    mine = [p for p in posts if p["user"] == user]
    m = re.search(r"on (\d+) posts? by", obs.instruction)
    if m is None:  # all posts by the user
        want = {p["i"] for p in mine}
    else:  # keep those already on, then the visible ones, then the rest from the top, up to the amount
        amount = int(m.group(1))
        on = [p for p in mine if p["buttons"][cls]["active"]]
        off = [p for p in mine if not p["buttons"][cls]["active"]]
        off.sort(key=lambda p: (not box_in_view(p["buttons"][cls], box), p["i"]))
        want = {p["i"] for p in (on + off)[:amount]}
    todo = []  # (post, button class, turn on?)
    for p in posts:
        for c, b in p["buttons"].items():
            should = p["i"] in want and c == cls
            if b["active"] != should:
                todo.append((p, c, should))
    visible = [t for t in todo if box_in_view(t[0]["buttons"][t[1]], box)]
    rest = [t for t in todo if t not in visible]
    submit = first(page, "#submitRow button")
    parts, actions = [], []
    if visible:
        on = [t for t in visible if t[2]]
        off = [t for t in visible if not t[2]]
        if on:
            where = " and ".join(f"({t[0]['buttons'][cls]['x']}, {t[0]['buttons'][cls]['y']})" for t in on)
            parts.append(f"the '{label}' button{'s' if len(on) > 1 else ''} of {user}'s visible "
                         f"post{'s' if len(on) > 1 else ''} {'are' if len(on) > 1 else 'is'} at {where}; "
                         f"click {'them' if len(on) > 1 else 'it'}")
        for p, c, _ in off:
            b = p["buttons"][c]
            whose = f"{p['user']}'s post" if p["user"] != user else f"this post by {user}"
            parts.append(f"the '{SOCIAL_LABELS[c]}' button of {whose} at ({b['x']}, {b['y']}) is on but "
                         f"should not be; click it to undo")
        actions += [A.Click((t[0]["buttons"][t[1]]["x"], t[0]["buttons"][t[1]]["y"])) for t in visible]
    nxt = rest[0][0]["buttons"][rest[0][1]] if rest else submit
    if nxt is not None and not box_in_view(nxt, box):
        direction, n = _scrolls_to(nxt["box"], box, box)
        x, y = (box[0] + box[2]) // 2, (max(box[1], 50) + min(box[3], CROP_H)) // 2
        what = "more of the posts to change" if rest else "the Submit button"
        parts.append(f"{what} {'is' if not rest else 'are'} further {direction}; scroll {direction} "
                     f"{'once' if n == 1 else f'{n} times'} at ({x}, {y})")
        actions += [A.Scroll(direction, at=(x, y))] * n
    elif not todo:
        x, y = _pt(submit)
        n = len(want)
        done = (f"All posts by {user} have '{label}' on" if m is None else
                f"{n} post{'s' if n > 1 else ''} by {user} {'have' if n > 1 else 'has'} '{label}' on")
        return f"{done} and nothing else is on. The Submit button is at ({x}, {y}); click it.", A.Click((x, y))
    thought = "; then ".join(parts)
    thought = thought[0].upper() + thought[1:] + "."
    return thought, actions[0] if len(actions) == 1 else actions


# -- file tree -----------------------------------------------------------------------------------------------
TREE_JS = r"""
(want) => {
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const spans = [...document.querySelectorAll('#tree span')];
  const hit = spans.find(s => s.textContent === want && shown(s));
  const box = s => { const g = document.createRange(); g.selectNodeContents(s); const r = g.getBoundingClientRect();
    return {x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2),
            box: [r.left, r.top, r.right, r.bottom].map(Math.round), text: s.textContent,
            folder: s.classList.contains('folder')}; };
  if (hit) return {target: box(hit)};
  // The shown, closed folder that holds the wanted name deepest down the path to it.
  for (const s of spans) {
    if (s.textContent !== want) continue;
    let li = s.parentElement.parentElement.closest('li'), open = null;
    while (li) {
      const own = li.querySelector(':scope > span');
      if (shown(own)) { open = own; break; }
      li = li.parentElement.closest('li');
    }
    if (open) return {open: box(open)};
  }
  return {};
}
"""


@teacher("navigate-tree")
def navigate_tree(obs, page):
    want = quoted(obs.instruction)[-1]
    found = page.evaluate(TREE_JS, want)
    if "target" in found:
        t = found["target"]
        return click(t, f"The {'folder' if t['folder'] else 'file'} named '{want}'")
    f = found["open"]
    return click(f, f"'{want}' is inside the closed folder '{f['text']}'. The folder '{f['text']}'")


# -- book a flight -------------------------------------------------------------------------------------------
FLIGHT_JS = r"""
() => {
  const v = id => document.getElementById(id).value;
  const shown = el => { if (!el) return false; const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.display !== 'none' && s.visibility !== 'hidden'; };
  const act = document.activeElement;
  return {from: v('flight-from'), to: v('flight-to'), date: v('datepicker'),
          valid_from: DOMESTIC_FLIGHTS.indexOf(v('flight-from')) !== -1,
          valid_to: DOMESTIC_FLIGHTS.indexOf(v('flight-to')) !== -1,
          results: !document.getElementById('results').classList.contains('hide'),
          calendar: shown(document.getElementById('ui-datepicker-div')),
          focus: act ? act.id : null};
}
"""

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def _flight_field(page, state, key, css, want, label):
    """The next step for the 'From' or 'To' field, or None when it holds a valid entry containing ``want``."""
    value = state[key]
    if state["valid_" + key] and want in value:
        return None
    field = first(page, css)
    if state["focus"] == css[1:]:
        items = [li for li in query(page, "ul.ui-autocomplete li.ui-menu-item") if want in li["text"]]
        if items:
            return click(items[0], f"The suggestion '{items[0]['text']}' for the '{label}' field")
        if value == want:
            return wait(f"The '{label}' field holds '{want}' and its suggestions have not appeared yet", 0.5)
    x, y = _pt(field)
    if not value:
        return (f"The '{label}' field is at ({x}, {y}) and empty; type '{want}' into it and wait for the "
                f"suggestions.", [A.Type(want, at=(x, y)), A.Wait(0.5)])
    return (f"The '{label}' field at ({x}, {y}) holds '{value}' instead of an entry for '{want}'; select its "
            f"text, type '{want}' and wait for the suggestions.",
            [A.Click((x, y)), A.Hotkey("ctrl a"), A.Type(want), A.Wait(0.5)])


@teacher("book-flight", "book-flight-nodelay")
def book_flight(obs, page):
    m = re.search(r"Book the (\w+) one-way flight from: (.+?) to: (.+?) on (\d\d)/(\d\d)/(\d{4})", obs.instruction)
    kind, origin, dest = m.group(1), m.group(2), m.group(3)
    month, day, year = int(m.group(4)), int(m.group(5)), int(m.group(6))
    date = f"{m.group(4)}/{m.group(5)}/{m.group(6)}"
    state = page.evaluate(FLIGHT_JS)
    ok = (state["valid_from"] and origin in state["from"] and state["valid_to"] and dest in state["to"]
          and state["date"] == date)

    if state["results"]:
        if not ok:
            return click(first(page, "#menu-back"), "These results are not for the requested trip. The Back button")
        flights = page.evaluate(r"""() => [...document.querySelectorAll('#results .flight')].map(f => ({
            price: +f.querySelector('.flight-price').getAttribute('data-price'),
            duration: +f.querySelector('.time-duration').getAttribute('data-duration'),
            text: f.querySelector('.time-duration').textContent}))""")
        buttons = query(page, "#results .flight-price")
        key = "price" if kind == "cheapest" else "duration"
        best = min(range(len(flights)), key=lambda i: flights[i][key])
        btn = buttons[best]
        what = (f"The cheapest flight costs ${flights[best]['price']}" if kind == "cheapest" else
                f"The shortest flight takes {flights[best]['text']}")
        box = first(page, "#area")["box"]
        if not box_in_view(btn, box):
            direction, n = _scrolls_to(btn["box"], box, box)
            x, y = (box[0] + box[2]) // 2, (max(box[1], 50) + min(box[3], CROP_H)) // 2
            times = "once" if n == 1 else f"{n} times"
            return (f"{what}; its 'Book' button is further {direction}. Scroll {direction} {times} at ({x}, {y}).",
                    A.Scroll(direction, at=(x, y)) if n == 1 else [A.Scroll(direction, at=(x, y))] * n)
        return click(btn, f"{what}. Its button '{btn['text']}'")

    for step in (_flight_field(page, state, "from", "#flight-from", origin, "From"),
                 _flight_field(page, state, "to", "#flight-to", dest, "To")):
        if step is not None:
            return step

    if state["date"] != date:
        if not state["calendar"]:
            return click(first(page, "#datepicker"), f"The departure date must be {date}. The date field")
        title = first(page, "#ui-datepicker-div .ui-datepicker-title")["text"]
        shown_month, shown_year = MONTHS.index(title.split()[0]) + 1, int(title.split()[1])
        diff = (year - shown_year) * 12 + (month - shown_month)
        if diff:
            nav = first(page, "#ui-datepicker-div " + (".ui-datepicker-next" if diff > 0 else ".ui-datepicker-prev"))
            x, y = _pt(nav)
            word = "Next" if diff > 0 else "Prev"
            times = "once" if abs(diff) == 1 else f"{abs(diff)} times"
            return (f"The calendar shows {title} but the date is in {MONTHS[month - 1]} {year}. The '{word}' "
                    f"arrow is at ({x}, {y}); click it {times}.",
                    A.Click((x, y)) if abs(diff) == 1 else [A.Click((x, y))] * abs(diff))
        cell = next(a for a in query(page, "#ui-datepicker-div td a") if a["text"] == str(day))
        search = first(page, "#search")
        return (f"The calendar shows {title}. Day {day} is at ({cell['x']}, {cell['y']}); click it, then the "
                f"Search button at ({search['x']}, {search['y']}).",
                [A.Click(_pt(cell)), A.Click(_pt(search))])

    return click(first(page, "#search"), f"From, To and the date {date} are filled in. The Search button")
