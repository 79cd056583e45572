"""Teachers: composite tasks (email inbox, social media, file tree, flight booking, and other multi-step pages).

Each teacher reads the whole current state (privileged) and picks the next step from it alone, so it can
label any state a student reaches. Targets inside a scrolled box are first scrolled into view.
"""

from __future__ import annotations

import re

from core import actions as A
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
(sel) => {
  // A point of the container's visible part where the wheel reaches it: its centre unless something covers it.
  const root = document.querySelector(sel);
  const r = root.getBoundingClientRect();
  const y0 = Math.max(r.top, 50), y1 = Math.min(r.bottom, 210);
  const x0 = Math.max(r.left, 0), x1 = Math.min(r.right, 160);
  for (const fy of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.9])
    for (const fx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
      const x = Math.round(x0 + (x1 - x0) * fx), y = Math.round(y0 + (y1 - y0) * fy);
      const e = document.elementFromPoint(x, y);
      if (e && root.contains(e)) return [x, y];
    }
  return [Math.round((x0 + x1) / 2), Math.round((y0 + y1) / 2)];
}
"""


def scroll_point(page, css: str) -> tuple[int, int]:
    """Where to put the wheel to scroll the container ``css`` (in its visible part, on nothing that covers it)."""
    x, y = page.evaluate(SCROLL_POINT_JS, css)
    return x, y


def scroll_toward(page, css: str, el: dict, box, what: str, where: str):
    """Scroll the container ``css`` (with this box) so that ``el`` comes into view, in one turn."""
    return _scroll_then(page, css, el, what, where)


def _scroll_then(page, css: str, target: dict, what: str, where: str = "", steps: int | None = None):
    """Scroll the container ``css`` toward ``target`` (as many wheel steps as needed, in one turn)."""
    box = first(page, css)["box"]
    direction, n = _scrolls_to(target["box"], box)
    n = steps or n
    x, y = scroll_point(page, css)
    times = "once" if n == 1 else f"{n} times"
    return (f"{what} is further {direction}{' in ' + where if where else ''}; scroll {direction} {times} "
            f"at ({x}, {y}).",
            A.Scroll(direction, at=(x, y)) if n == 1 else [A.Scroll(direction, at=(x, y))] * n)


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
        if sender != name:
            return click(first(page, "#close-email"),
                         f"This email is from '{sender}', not the one from '{name}'. The back arrow")
        if action == "forward" and body != " ".join(d["body"].split()):
            return click(first(page, "#close-email"),
                         f"This is another email from '{name}', not the one to forward. The back arrow")
        if action == "delete":
            return click(first(page, "#email .trash"), f"The email from '{name}' is open. Its trash icon")
        if action == "important":
            return click(first(page, "#email .star"), f"The email from '{name}' is open. Its star icon")
        target = first(page, "#email .email-reply" if action == "reply" else "#email .email-forward")
        box = _visible_box(page, "#email")
        label = "Reply" if action == "reply" else "Forward"
        if not in_view(target, box):
            return scroll_toward(page, "#email", target, box, f"The '{label}' button", "the email")
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
            return scroll_toward(page, "#main", row, box, f"The email from '{name}'", "the inbox")
        word = "trash" if action == "delete" else "star"
        x, y = _pt(icon)
        return (f"The email from '{name}' is at ({row['x']}, {row['y']}); its {word} icon is at ({x}, {y}); "
                f"click it.", A.Click((x, y)))
    sender = query(page, "#main .email-thread .email-sender")[pick]
    if not box_in_view(row, box, 2):
        return scroll_toward(page, "#main", row, box, f"The email from '{name}'", "the inbox")
    return click(sender, f"The email from '{name}'")


# -- social media --------------------------------------------------------------------------------------------
SOCIAL_ACTIONS = {"Share via DM": "share", "Copy link to Tweet": "copy", "Embed Tweet": "embed",
                  "Mute": "menu-user", "Block": "block-user", "Report": "report", "Reply": "reply",
                  "Retweet": "retweet", "Like": "like", "Share": "share"}

SOCIAL_JS = r"""
(buttons) => [...document.querySelectorAll('#area .media')].map((m, i) => {
  const r = m.getBoundingClientRect(), u = m.querySelector('.username').getBoundingClientRect();
  const out = {i, user: m.querySelector('.username').textContent, name: m.querySelector('.name').textContent,
               ux: Math.round((u.left + u.right) / 2), uy: Math.round((u.top + u.bottom) / 2),
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
                    return scroll_toward(page, "#area", item, box, f"The '{label}' item of the open menu",
                                         "the feed")
                return click(item, f"The menu of the post by {user} is open. The item '{label}'")
    visible = [p for p in mine if box_in_view(p["buttons"]["more" if in_menu else cls], box)]
    post = (visible or mine)[0]
    btn = post["buttons"]["more" if in_menu else cls]
    if not box_in_view(btn, box):
        steps = None
        if in_menu and btn["box"][3] > box[3]:  # leave room below for the menu (about 100 px) if it fits
            direction, steps = _scrolls_to(btn["box"], box)
            while post["box"][1] - 100 * (steps + 1) >= max(box[1], 50) and \
                    btn["box"][3] + 100 - 100 * steps > min(box[3], CROP_H):
                steps += 1
        return _scroll_then(page, "#area", btn, f"The post by {user}", "the feed", steps)
    if in_menu:
        return click(btn, f"The post by {user} is at ({post['ux']}, {post['uy']}); "
                          f"'{label}' is in its '...' menu. The '...' button")
    return click(btn, f"The post by {user} is at ({post['ux']}, {post['uy']}). "
                      f"Its '{label}' button")


SOCIAL_BUTTONS = ["reply", "retweet", "like", "share"]
SOCIAL_LABELS = {"reply": "Reply", "retweet": "Retweet", "like": "Like", "share": "Share"}


def _scrolls_to(target_box, box) -> tuple[str, int]:
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
        direction, n = _scrolls_to(nxt["box"], box)
        x, y = scroll_point(page, "#area")
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
          closing: shown(document.getElementById('ui-datepicker-div')) && !$.datepicker._datepickerShowing,
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
    # An airport code is typed in parentheses, as the list writes it: "ART" alone also matches "Watertown".
    typed = f"({want})" if re.fullmatch(r"[A-Z]{3}", want) else want
    if state["focus"] == css[1:]:
        items = [li for li in query(page, "ul.ui-autocomplete li.ui-menu-item") if want in li["text"]]
        shown = [li for li in items if li["box"][3] <= CROP_H]
        if shown:
            return click(shown[0], f"The suggestion '{shown[0]['text']}' for the '{label}' field")
        if items:  # the right suggestion is below the screen: narrow the list down to it
            typed = items[0]["text"]
        elif value == typed:
            return wait(f"The '{label}' field holds '{typed}' and its suggestions have not appeared yet", 0.5)
    x, y = _pt(field)
    if not value:
        return (f"The '{label}' field is at ({x}, {y}) and empty; type '{typed}' into it and wait for the "
                f"suggestions.", [A.Type(typed, at=(x, y)), A.Wait(0.5)])
    return (f"The '{label}' field at ({x}, {y}) holds '{value}', not a listed airport for '{want}'; select its "
            f"text, type '{typed}' and wait for the suggestions.",
            [A.Click((x, y)), A.Hotkey("ctrl a"), A.Type(typed), A.Wait(0.5)])


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
        if state["calendar"]:
            return wait("The results are shown but the calendar is still closing over them", 0.3)
        if not ok:
            box = first(page, "#area")["box"]
            back = first(page, "#menu-back")
            if not box_in_view(back, box):
                return scroll_toward(page, "#area", back, box, "The Back button", "the results")
            return click(back, "These results are not for the requested trip. The Back button")
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
            return _scroll_then(page, "#area", btn, f"{what}; its 'Book' button")
        return click(btn, f"{what}. Its button '{btn['text']}'")

    fields_ok = state["valid_from"] and origin in state["from"] and state["valid_to"] and dest in state["to"]
    if state["closing"] and (not fields_ok or state["date"] != date):
        return wait("The calendar is still closing", 0.3)
    if state["calendar"] and not fields_ok:
        if state["focus"] == "datepicker":
            return ("The calendar is open over the 'From' and 'To' fields; press Escape to close it and wait for it "
                    "to fade.", [A.Hotkey("escape"), A.Wait(0.6)])
        spot = page.evaluate(r"""() => {
          for (let y = 200; y > 50; y -= 6) for (let x = 150; x > 0; x -= 6) {
            const e = document.elementFromPoint(x, y);
            if (e && (e.id === 'area' || e.id === 'menu' || e.classList.contains('search-container'))) return [x, y];
          }
          return null; }""")
        return (f"The calendar is open over the 'From' and 'To' fields; click the empty spot at ({spot[0]}, "
                f"{spot[1]}) to close it and wait for it to fade.", [A.Click(tuple(spot)), A.Wait(0.6)])

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
                f"Search button at ({search['x']}, {search['y']}), and wait for the results.",
                [A.Click(_pt(cell)), A.Click(_pt(search)), A.Wait(0.4)])

    return click(first(page, "#search"), f"From, To and the date {date} are filled in. The Search button")


# -- small games ---------------------------------------------------------------------------------------------
@teacher("generate-number")
def generate_number(obs, page):
    text = obs.instruction
    shown = first(page, "#display-number")["text"]
    if re.search(r"less than (\d+)", text):
        limit = int(re.search(r"less than (\d+)", text).group(1))
        good, rule = (lambda n: n < limit), f"less than {limit}"
    elif re.search(r"greater than (\d+)", text):
        limit = int(re.search(r"greater than (\d+)", text).group(1))
        good, rule = (lambda n: n > limit), f"greater than {limit}"
    elif "odd" in text:
        good, rule = (lambda n: n % 2 == 1), "odd"
    else:
        good, rule = (lambda n: n % 2 == 0), "even"
    if re.fullmatch(r"-?\d+", shown) and good(int(shown)):
        return click(first(page, "#submit"), f"The number {shown} is {rule}. The Submit button")
    why = "No number is shown yet" if not re.fullmatch(r"-?\d+", shown) else f"The number {shown} is not {rule}"
    return click(first(page, "#generate"), f"{why}. The Generate button")


@teacher("odd-or-even")
def odd_or_even(obs, page):
    rows = page.evaluate(r"""() => [...document.querySelectorAll('#numbers .row')].map(r => ({
        n: parseInt(r.querySelector('.display-number').textContent, 10),
        odd: r.querySelector('.odd').classList.contains('selected'),
        even: r.querySelector('.even').classList.contains('selected')}))""")
    odds, evens = query(page, "#numbers .odd"), query(page, "#numbers .even")
    for i, r in enumerate(rows):
        want_odd = r["n"] % 2 != 0
        if (want_odd and not r["odd"]) or (not want_odd and not r["even"]):
            btn = odds[i] if want_odd else evens[i]
            word = "odd" if want_odd else "even"
            return click(btn, f"The number {r['n']} is {word}. Its '{word.capitalize()}' button")
    return click(first(page, "#submit"), "Every number is marked odd or even correctly. The Submit button")


@teacher("find-greatest")
def find_greatest(obs, page):
    cards = page.evaluate(r"""() => [...document.querySelectorAll('#cardholder .card')].map(c => ({
        value: parseInt(c.textContent, 10), hidden: c.classList.contains('hidden')}))""")
    boxes = query(page, "#cardholder .card")
    best = max(range(len(cards)), key=lambda i: cards[i]["value"])
    open_ = [i for i, c in enumerate(cards) if not c["hidden"]]
    ordinal = ["first", "second", "third", "fourth", "fifth"]
    if open_ and open_[0] == best:
        return click(first(page, "#submit"),
                     f"The {ordinal[best]} card shows {cards[best]['value']}, the greatest. The Submit button")
    # Turn the cards over from the left, stopping at the greatest one.
    nxt = 0 if not open_ else open_[0] + 1
    if nxt > best:
        nxt = best
    what = (f"The {ordinal[open_[0]]} card shows {cards[open_[0]]['value']}, not the greatest" if open_
            else "No card is turned over yet")
    return click(boxes[nxt], f"{what}. The {ordinal[nxt]} card")


@teacher("ascending-numbers")
def ascending_numbers(obs, page):
    one = [t for t in query(page, "#area_svg text") if t["text"] == "1"]
    if one:
        return click(one[0], "The number 1")
    rects = page.evaluate(r"""() => [...document.querySelectorAll('#area_svg rect')].map(r => {
        const b = r.getBoundingClientRect();
        return {i: +r.getAttribute('data-index'), x: Math.round(b.left + b.width / 2),
                y: Math.round(b.top + b.height / 2)};
      })""")
    nxt = min(rects, key=lambda r: r["i"])
    return (f"The numbers are hidden under squares now; the square over {nxt['i']} is at ({nxt['x']}, {nxt['y']}); "
            f"click it.",
            A.Click((nxt["x"], nxt["y"])))


@teacher("buy-ticket")
def buy_ticket(obs, page):
    kind = re.search(r"with the (.+?)\.?$", obs.instruction).group(1)
    tickets = page.evaluate(r"""() => [...document.querySelectorAll('#area .flight')].map(f => ({
        price: +f.querySelector('.buy-ticket').getAttribute('data-price'),
        duration: +f.querySelector('.time-duration').getAttribute('data-duration'),
        text: f.querySelector('.time-duration').textContent}))""")
    buttons = query(page, "#area .buy-ticket")
    pick = {"cheapest cost": lambda t: t["price"], "most expensive cost": lambda t: -t["price"],
            "shortest duration": lambda t: t["duration"], "longest duration": lambda t: -t["duration"]}[kind]
    best = min(range(len(tickets)), key=lambda i: pick(tickets[i]))
    t, btn = tickets[best], buttons[best]
    what = (f"The ticket with the {kind} is the one for ${t['price']}" if "cost" in kind else
            f"The ticket with the {kind} takes {t['text']}")
    if not box_in_view(btn, first(page, "#area")["box"]):
        return _scroll_then(page, "#area", btn, f"{what}; its button")
    return click(btn, f"{what}. Its button '{btn['text']}'")


# -- order food ----------------------------------------------------------------------------------------------
FOOD_JS = r"""
() => [...document.querySelectorAll('#area .food-item')].map(m => {
  const b = s => { const r = m.querySelector(s).getBoundingClientRect();
    return {x: Math.round((r.left + r.right) / 2), y: Math.round((r.top + r.bottom) / 2),
            box: [r.left, r.top, r.right, r.bottom].map(Math.round)}; };
  return {name: m.getAttribute('data-item').trim(), q: +m.getAttribute('data-quantity'),
          types: [...m.querySelectorAll('.types img')].map(i => i.alt), add: b('.add'), remove: b('.remove')};
})
"""


@teacher("order-food")
def order_food(obs, page):
    items = page.evaluate(FOOD_JS)
    box = first(page, "#area")["box"]
    seen = lambda it: box_in_view(it["add"], box)  # noqa: E731
    text = obs.instruction
    changes = []  # (item, +1 or -1, reason)
    m = re.search(r"Order (\d+) items that are (\S+)", text)
    if m:
        amount, kind = int(m.group(1)), m.group(2)
        for it in items:
            if it["q"] and kind not in it["types"]:
                changes.append((it, -1, f"'{it['name']}' is not {kind} but is ordered"))
        good = [it for it in items if kind in it["types"]]
        total = sum(it["q"] for it in good)
        if total < amount:
            pick = sorted(good, key=lambda it: (not seen(it), not it["q"], abs(it["add"]["y"] - 130)))[0]
            changes.append((pick, +1, f"'{pick['name']}' is {kind}; {total} of the {amount} {kind} items are "
                                          f"ordered so far"))
        elif total > amount:
            pick = sorted([it for it in good if it["q"]], key=lambda it: not seen(it))[0]
            changes.append((pick, -1, f"{total} {kind} items are ordered, more than {amount}"))
        done = f"{amount} {kind} item{'s' if amount > 1 else ''} are ordered"
    else:
        wanted = [w.strip() for w in text.split(":", 1)[1].split(",")]
        for it in items:
            want = 1 if it["name"] in wanted else 0
            if it["q"] < want:
                changes.append((it, +1, f"'{it['name']}' is on the list and not ordered yet"))
            elif it["q"] > want:
                changes.append((it, -1, f"'{it['name']}' is ordered {it['q']} times but should be "
                                        f"{'once' if want else 'not at all'}"))
        done = "One of each listed item is ordered"
    if changes:
        changes.sort(key=lambda c: not seen(c[0]))
        it, step, why = changes[0]
        btn = it["add"] if step > 0 else it["remove"]
        sign = "+" if step > 0 else "-"
        if not box_in_view(btn, box):
            return _scroll_then(page, "#area", btn, f"{why}; its '{sign}' button")
        return f"{why}. Its '{sign}' button is at ({btn['x']}, {btn['y']}); click it.", A.Click((btn["x"], btn["y"]))
    order = first(page, "#submit-order button")
    if not box_in_view(order, box):
        return _scroll_then(page, "#area", order, f"{done}; the 'Order!' button")
    return click(order, f"{done}. The 'Order!' button")


# -- daily calendar ------------------------------------------------------------------------------------------
CALENDAR_WINDOWS = {"8AM and 12PM": (16, 24), "12PM and 4PM": (24, 32), "4PM and 8PM": (32, 40)}

HALF_HOURS_JS = r"""
([a, b]) => {
  const out = [];
  for (let i = a; i < b; i++) {
    const el = document.getElementById('hh-' + i), r = el.getBoundingClientRect();
    const x = Math.round(r.left + r.width / 2), y = Math.round(r.top + r.height / 2);
    // Free unless an existing event covers the points a drag would press, cross or release on.
    let free = true;
    for (const ev of document.querySelectorAll('#area .event:not(#newEvent)')) {
      const q = ev.getBoundingClientRect();
      for (const py of [r.top + 4, y, r.bottom - 4]) if (q.top <= py && q.bottom >= py) free = false;
    }
    out.push({i, x, y, box: [r.left, r.top, r.right, r.bottom].map(Math.round), free});
  }
  return out;
}
"""


def _half_hour_time(i: int) -> str:
    h, m = divmod(i, 2)
    suffix = "am" if h < 12 else "pm"
    h12 = h % 12 or 12
    return f"{h12}{':30' if m else ''}{suffix}"


@teacher("daily-calendar")
def daily_calendar(obs, page):
    m = re.search(r'Create a (.+?) event named "(.+?)", between (.+?)\.$', obs.instruction)
    length, name, window = m.group(1), m.group(2), m.group(3)
    n = {"0.5 hours": 1, "30 mins": 1, "1 hour": 2, "60 mins": 2, "1.5 hours": 3, "90 mins": 3}[length]
    dialog = first(page, "#create-event")
    if dialog:
        start = first(page, "#create-event #time-start")["text"]
        end = first(page, "#create-event #time-end")["text"]
        field = first(page, "#event-name")
        create = first(page, "#create-event .create")
        area = first(page, "#area")["box"]
        if field["value"] != name:
            if not box_in_view(field, area):
                return _scroll_then(page, "#area", field, "The name field of the new event")
            return type_into(field, name, f"The new event runs {start} to {end}. The name field")
        if not box_in_view(create, area):
            return _scroll_then(page, "#area", create, f"The event is named '{name}'; the Create button")
        return click(create, f"The event '{name}' runs {start} to {end}. The Create button")
    a, b = CALENDAR_WINDOWS[window]
    slots = page.evaluate(HALF_HOURS_JS, [a, b])
    area = first(page, "#area")["box"]

    def span(k):
        # The slots k..k+n-1, with room below their top for the naming box (about 72 px) that opens there.
        top, last = slots[k], slots[k + n - 1]
        return {"box": [top["box"][0], top["box"][1], last["box"][2], max(last["box"][3], top["box"][1] + 72)],
                "y": (top["y"] + last["y"]) // 2}

    def bare(k):
        return {"box": [slots[k]["box"][0], slots[k]["box"][1], slots[k + n - 1]["box"][2],
                        slots[k + n - 1]["box"][3]]}

    free = [k for k in range(len(slots) - n + 1) if all(s["free"] for s in slots[k:k + n])]
    shown = [k for k in free if box_in_view(span(k), area)] or [k for k in free if box_in_view(bare(k), area)]
    k = (shown or free)[0]
    first_slot, last_slot = slots[k], slots[k + n - 1]
    t0, t1 = _half_hour_time(first_slot["i"]), _half_hour_time(last_slot["i"] + 1)
    if not shown:
        # As few wheel steps as bring the slot into view, plus one more if the slot stays in view and the
        # naming box then has room below it.
        top = max(area[1], 50)
        direction, steps = _scrolls_to(bare(k)["box"], area)
        if direction == "down" and first_slot["box"][1] - 100 * (steps + 1) >= top:
            steps += 1
        x, y = scroll_point(page, "#area")
        times = "once" if steps == 1 else f"{steps} times"
        return (f"The free slot from {t0} to {t1} is further {direction}; scroll {direction} {times} at ({x}, {y}).",
                A.Scroll(direction, at=(x, y)) if steps == 1 else [A.Scroll(direction, at=(x, y))] * steps)
    x = first_slot["x"]
    y0, y1 = first_slot["box"][1] + 4, last_slot["box"][3] - 4
    return (f"The slot from {t0} to {t1} is free and inside {window}; drag from ({x}, {y0}) to ({x}, {y1}) "
            f"to create a {length} event.", A.Drag((x, y0), (x, y1)))


# -- stock market --------------------------------------------------------------------------------------------
# Reads the ticker right after it moves (it moves every 100 ms), so the step that follows lands on that price.
STOCK_JS = r"""
async () => {
  const i0 = priceIndex, t0 = Date.now();
  while (priceIndex === i0 && Date.now() - t0 < 150) await new Promise(r => setTimeout(r, 3));
  return {idx: priceIndex, price: document.getElementById('stock-price').textContent};
}
"""


@teacher("stock-market")
def stock_market(obs, page):
    limit_text = re.search(r"less than \$(\d+(?:\.\d+)?)", obs.instruction).group(1)
    s = page.evaluate(STOCK_JS)
    hidden = closure_vars(page, "document.getElementById('buy').__onclick._")
    prices, limit = hidden["prices"], hidden["thresholdPrice"]
    buy = first(page, "#buy")
    x, y = _pt(buy)
    seen = next((e.text for e in obs.elements if re.fullmatch(r"\$\d+(\.\d+)?", e.text)), s["price"])
    now = s["idx"] - 1  # the index of the price on show

    def run(i):  # how many prices from index i on stay at or below the limit
        n = 0
        while i + n < len(prices) and prices[i + n] <= limit:
            n += 1
        return n

    # Stretches of prices at or below the limit that are still to come: the first of 3 or more ticks, else
    # the longest. The click lands a moment after this read, so it needs a stretch that lasts.
    later = [i for i in range(now + 1, len(prices)) if prices[i] <= limit and prices[i - 1] > limit]
    best = next((i for i in later if run(i) >= 3), max(later, key=run, default=None))
    if 0 <= now < len(prices) and run(now) >= min(3, run(best) if best is not None else 1) and run(now) > 0:
        what = (f"The price {seen} is below ${limit_text}" if float(seen.lstrip("$")) <= limit else
                f"The price has just dropped to {s['price']}, below ${limit_text}")
        return f"{what}. The Buy button is at ({x}, {y}); click it.", A.Click((x, y))
    if best is None:
        return f"The ticker shows {s['price']} and will not drop below ${limit_text} again; wait.", A.Wait(1.0)
    seconds = round(min(9.0, max(0.05, (best - now) * 0.1 - 0.1)), 2)
    what = f"The price {seen} is above ${limit_text}" if float(seen.lstrip("$")) > limit else \
        f"The price {seen} is below ${limit_text} but about to rise"
    return f"{what}; wait {seconds} s for it to drop.", A.Wait(seconds)


# -- reading a task's hidden variables -----------------------------------------------------------------------
def closure_vars(page, expression: str) -> dict:
    """The variables of the closures of the function ``expression`` evaluates to, read through the DevTools
    protocol (read-only): for tasks whose answer lives only in a local variable of ``genProblem``."""

    async def scopes_of(session, object_id):
        props = await session.send("Runtime.getProperties", {"objectId": object_id, "ownProperties": True})
        scopes = next(p for p in props.get("internalProperties", []) if p["name"] == "[[Scopes]]")
        listing = await session.send("Runtime.getProperties", {"objectId": scopes["value"]["objectId"],
                                                               "ownProperties": True})
        out = []
        for scope in listing["result"]:
            value = scope.get("value", {})
            if str(value.get("description", "")).startswith("Closure"):
                names = await session.send("Runtime.getProperties", {"objectId": value["objectId"],
                                                                     "ownProperties": True})
                out += names["result"]
        return out

    async def read():
        session = await page.page.context.new_cdp_session(page.page)
        try:
            fn = await session.send("Runtime.evaluate", {"expression": expression})
            found = {}
            for v in await scopes_of(session, fn["result"]["objectId"]):
                inner = v.get("value", {})
                if inner.get("type") == "object" and inner.get("subtype") == "array":
                    arr = await session.send("Runtime.callFunctionOn", {
                        "objectId": inner["objectId"], "functionDeclaration": "function () { return this; }",
                        "returnByValue": True})
                    found.setdefault(v["name"], arr["result"].get("value"))
                else:
                    found.setdefault(v["name"], inner.get("value"))
            return found
        finally:
            await session.detach()

    return page.browser.call(read())


# -- hot and cold --------------------------------------------------------------------------------------------
@teacher("hot-cold")
def hot_cold(obs, page):
    spot = closure_vars(page, "$._data(document.getElementById('touch-area'), 'events').click[0].handler")
    x, y = int(spot["randX"]), int(spot["randY"]) + 50
    signal = (first(page, "#signal") or {}).get("text", "")
    if signal == "HOT":
        return f"The signal reads HOT with the pointer at ({x}, {y}); click there.", A.Click((x, y))
    where = f"The signal reads {signal}" if signal else "No signal is shown yet"
    return f"{where}; move the pointer over ({x}, {y}) to check for HOT.", A.Hover((x, y))
