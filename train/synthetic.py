"""Synthetic pretraining data: cheap screens that teach the skills a small model lacks.

No browser: each example is a screen drawn with PIL (a yellow instruction band over a white task area, in
MiniWoB's 160x210 layout) with its element list, rendered into the exact prompt the agent builds
(agent/memory.py), and the reply a teacher would give in the student's form. The skills:

- match a quoted word of the instruction to an element and copy it: ``click(element='Ok')``;
- copy a string into a field named by a nearby label: ``type(start_box='(71,88)', content='Ada')``;
- work through a list, using the previous actions to know what is left (check boxes, multi-field forms);
- name a text-less element by its colour and copy its position: ``click(start_box='(40,120)')``.

Words are random letter strings as often as real words, so the model learns to copy, not to memorise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

from agent.memory import Memory, observation_notes
from core import actions as A
from core.elements import PALETTE
from core.env import Element, Observation
from models.card import Card
from models.student_form import listed_lines, student_thought

WORDS = ("ok okay yes no submit cancel next previous search login save delete reply forward send start "
         "stop open close apply back home help menu edit view share like retweet star archive").split()
NAMES = "Ada Alan Grace Linus Barbara Ken Margaret Tim Vint Radia Edsger Donald Niklaus Frances".split()
ROLES_WITH_TEXT = ("button", "link", "label", "text")
W, H, BAND = 160, 210, 50


def random_word(rng: random.Random) -> str:
    if rng.random() < 0.5:
        word = rng.choice(WORDS + NAMES)
    else:
        letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        word = "".join(rng.choice(letters) for _ in range(rng.randint(2, 8)))
    return word.capitalize() if rng.random() < 0.3 else word


@dataclass
class Screen:
    instruction: str
    elements: list[Element]
    colors: dict[int, str]  # element id -> fill colour for text-less boxes
    size: tuple[int, int] = (W, H)


def layout(rng: random.Random, specs: list[tuple[str, str]]) -> list[Element]:
    """Place (role, text) items top to bottom, sometimes two per row, inside the task area."""
    out, y = [], BAND + 4
    for role, text in specs:
        w = 14 if role in ("checkbox", "radio") else max(24, 6 * len(text) + 10) if text else rng.randint(20, 40)
        h = 12 if role in ("checkbox", "radio", "text", "label", "link") else rng.randint(14, 22)
        x = rng.randint(2, max(2, W - w - 2))
        if y + h > H - 2:
            y = BAND + 4
        out.append(Element(len(out), role, text, (x, y, x + w, y + h)))
        y += h + rng.randint(2, 8)
    return out


def draw(screen: Screen) -> Image.Image:
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, W, BAND), fill=(255, 255, 0))
    d.multiline_text((3, 3), wrap(screen.instruction, 30), fill="black")
    for e in screen.elements:
        color = screen.colors.get(e.id)
        if color:
            d.rectangle(e.bbox, fill=PALETTE[color])
        elif e.role in ("button", "textbox", "checkbox", "radio", "combobox"):
            d.rectangle(e.bbox, outline=(118, 118, 118), fill=(240, 240, 240) if e.role == "button" else "white")
        if e.text:
            d.text((e.bbox[0] + 3, e.bbox[1] + 1), e.text, fill=(0, 0, 238) if e.role == "link" else "black")
        if "checked" in e.state:
            d.line((e.bbox[0] + 2, e.bbox[1] + 6, e.bbox[0] + 6, e.bbox[3] - 2, e.bbox[2] - 2, e.bbox[1] + 2),
                   fill="black", width=2)
    return img


def wrap(text: str, width: int) -> str:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join(lines + [line])


def point(e: Element) -> str:
    return f"({e.center[0]}, {e.center[1]})"


# -- the skills: each returns (screen, previous actions, thought, action) ---------------------------------------

def click_text(rng):
    words = rng.sample(WORDS, 0) + [random_word(rng) for _ in range(rng.randint(2, 6))]
    words = list(dict.fromkeys(words))
    role = rng.choice(("button", "link"))
    elements = layout(rng, [(role if rng.random() < 0.8 else "text", w) for w in words])
    target = rng.choice([e for e in elements if e.role == role] or elements)
    kind = "button" if target.role == "button" else "link"
    template = rng.choice(['Click on the "{w}" {k}.', 'Click the {k} "{w}".', 'Press "{w}".', 'Click on "{w}".'])
    screen = Screen(template.format(w=target.text, k=kind), elements, {})
    thought = f"The {kind} labelled '{target.text}'; click it."
    return screen, [], thought, A.Click(A.ElementRef(text=target.text))


def fill_form(rng):
    fields = rng.sample(["Username", "Password", "Email", "Name", "City", "Code", "Phone", "Search"], rng.randint(1, 3))
    values = [random_word(rng) for _ in fields]
    specs = []
    for f in fields:
        specs += [("label", f), ("textbox", "")]
    specs.append(("button", rng.choice(["Submit", "Login", "Send", "Save", "Search"])))
    elements = layout(rng, specs)
    boxes = [e for e in elements if e.role == "textbox"]
    done = rng.randint(0, len(fields))
    filled = []
    for i in range(len(elements)):
        e = elements[i]
        if e.role == "textbox":
            k = boxes.index(e)
            if k < done:
                elements[i] = Element(e.id, e.role, values[k], e.bbox)
                filled.append(A.Type(values[k], at=e.center))
    pairs = " and ".join(f'the {f.lower()} "{v}"' for f, v in zip(fields, values))
    button = elements[-1].text
    screen = Screen(f"Enter {pairs} and press {button}.", elements, {})
    if done < len(fields):
        box = boxes[done]
        thought = f"The '{fields[done]}' field; type '{values[done]}' into it."
        return screen, filled, thought, A.Type(values[done], at=box.center)
    return screen, filled, f"All fields are filled. The {button} button; click it.", A.Click(A.ElementRef(text=button))


def tick_boxes(rng):
    words = list(dict.fromkeys(random_word(rng) for _ in range(rng.randint(3, 6))))
    want = rng.sample(words, rng.randint(1, len(words)))
    specs = []
    for w in words:
        specs += [("checkbox", ""), ("label", w)]
    specs.append(("button", "Submit"))
    elements = layout(rng, specs)
    ticked = [w for w in want if rng.random() < 0.4]
    prev = []
    for i, e in enumerate(elements):
        if e.role == "label" and e.text in ticked:
            box = elements[i - 1]
            elements[i - 1] = Element(box.id, box.role, box.text, box.bbox, "checked")
            prev.append(A.Click(A.ElementRef(text=e.text)))
    listed = ", ".join(want[:-1]) + (" and " if len(want) > 1 else "") + want[-1]
    screen = Screen(f"Select {listed} and click Submit.", elements, {})
    left = [w for w in want if w not in ticked]
    if left:
        return screen, prev, f"The checkbox '{left[0]}' is not ticked yet; click it.", A.Click(A.ElementRef(text=left[0]))
    return screen, prev, "All the asked boxes are ticked. The Submit button; click it.", A.Click(A.ElementRef(text="Submit"))


def click_color(rng):
    names = rng.sample(sorted(PALETTE), rng.randint(2, 5))
    elements = layout(rng, [("div", "") for _ in names])
    colors = {e.id: c for e, c in zip(elements, names)}
    target = rng.choice(elements)
    screen = Screen(f"Click on the {colors[target.id]} box.", elements, colors)
    return screen, [], f"The {colors[target.id]} box; click it.", A.Click(target.center)


# -- full-size pages ----------------------------------------------------------------------------------------
# The site forms of envs/tasks/web at 1280x720: a header with the site's links, a heading, labelled fields in a
# column, a footer. Labels, values, wording, places and noise are drawn anew each time, so that what the model
# learns is to find the value the instruction gives for a label and copy it, not six pages' layouts.

PAGE_W, PAGE_H = 1280, 720
SITES = ("Harbor Bank", "Northwind Mail", "Cloudnest", "Pinecone Books", "Bluefin Travel", "Larkspur Clinic",
         "Quillpad", "Meridian Energy", "Oakline Rentals", "Saltmarsh Library", "Brightway Gym", "Copperleaf Cafe")
NAV = ("Home", "Products", "Pricing", "Support", "Blog", "About", "Account", "Orders", "Help", "Contact", "News",
       "Events", "Shop", "Offers", "Branches", "Plans")
FOOTER = ("About us", "Privacy", "Terms of use", "Accessibility", "Careers", "Cookies", "Sitemap", "Press")
FIRST = ("Ada Owen Priya Leila Tomas Mei Kofi Ines Ravi Sofia Jonas Amara Hugo Noor Felix Yuki Marta Omar Elena "
         "Bruno Zara Ivan Lucia Arjun").split()
LAST = ("Lovelace Hart Shah Ahmadi Berg Chen Mensah Duarte Patel Rossi Weber Okafor Laurent Haddad Novak Tanaka "
        "Costa Farouk Petrova Silva Kim Moreau Iyer Lund").split()
PLACES = ("Lisbon Oslo Nairobi Lima Kyoto Dublin Porto Quito Tallinn Accra Hanoi Bergen Cusco Austin Leeds "
          "Graz Malmo Tucson").split()


def _letters(rng, n: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def _name(rng) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _user(rng) -> str:
    first, last = rng.choice(FIRST).lower(), rng.choice(LAST).lower()
    return rng.choice((f"{first}.{last[0]}", f"{first}{rng.randint(1, 99)}", f"{first[0]}{last}", _letters(rng, 6)))


def _email(rng) -> str:
    host = rng.choice(("mail.com", "post.net", "example.org", "inbox.io", _letters(rng, 5) + ".com"))
    return f"{_user(rng)}@{host}"


def _password(rng) -> str:
    words = WORDS + [w.lower() for w in PLACES]
    return rng.choice((f"{rng.choice(words)}-{rng.choice(words)}-{rng.randint(1, 9)}",
                       f"{rng.choice(words)}{rng.randint(10, 99)}", _letters(rng, 4) + str(rng.randint(100, 999))))


def _phone(rng) -> str:
    return rng.choice(("+{} {} {}", "0{}-{}-{}")).format(rng.randint(1, 99), rng.randint(100, 999),
                                                             rng.randint(1000, 9999))


def _message(rng) -> str:
    return rng.choice(("Please change the address on order {n}.", "My parcel {n} has not arrived.",
                       "Can I move my booking to {p}?", "Thanks for the quick help with ticket {n}.",
                       "I would like a refund for invoice {n}.")).format(n=rng.randint(1000, 9999),
                                                                       p=rng.choice(PLACES))


WEB_FIELDS = {  # label -> (the instruction's words for it, a value)
    "Username": (("username", "user name"), _user),
    "Password": (("password",), _password),
    "E-mail": (("e-mail", "email", "e-mail address"), _email),
    "Full name": (("name", "full name"), _name),
    "Your name": (("name",), _name),
    "Phone": (("phone", "phone number"), _phone),
    "City": (("city", "town"), lambda rng: rng.choice(PLACES)),
    "Postcode": (("postcode", "post code"), lambda rng: f"{rng.randint(1000, 9999)} {_letters(rng, 2).upper()}"),
    "Company": (("company",), lambda rng: f"{rng.choice(LAST)} {rng.choice(('Ltd', 'Labs', '& Sons', 'Studio'))}"),
    "Order number": (("order number", "order"),
                     lambda rng: f"{rng.choice(('', 'A', 'NW-'))}{rng.randint(1000, 99999)}"),
    "Coupon code": (("coupon", "coupon code"), lambda rng: f"{rng.choice(WORDS).upper()}{rng.randint(5, 50)}"),
    "Message": (("message",), _message),
    "Date of birth": (("date of birth", "birth date"), lambda rng: f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/"
                                                                   f"{rng.randint(1950, 2005)}"),
}
WEB_LISTS = {  # label -> (the instruction's words, options)
    "Country": ("country", ("Portugal", "Norway", "Kenya", "Peru", "Japan", "Ireland", "Ghana", "Estonia")),
    "Topic": ("topic", ("Billing", "Delivery", "Returns", "My account", "Something else")),
    "Time zone": ("time zone", ("Berlin", "Lisbon", "Tokyo", "Sao Paulo", "New York", "Nairobi")),
    "Plan": ("plan", ("Basic", "Standard", "Premium", "Family")),
    "Size": ("size", ("Small", "Medium", "Large", "Extra large")),
}
WEB_BOXES = ("Keep me signed in", "Send me the newsletter", "I agree to the terms", "Remember this device",
             "E-mail me about offers", "Make my profile public")
SIDE_NOTES = ("Shared folders now sync every minute.", "Open Monday to Saturday, 9 to 18.",
              "Members get free delivery on every order.", "Dark mode follows your system setting.",
              "Your data stays in the country you choose.", "Cancel at any time from your account.")
WEB_BUTTONS = ("Sign in", "Log in", "Save", "Submit", "Send", "Continue", "Create account", "Save changes",
               "Register", "Apply", "Send message", "Book now")


@dataclass
class _Field:
    kind: str       # "textbox", "combobox" or "checkbox"
    label: str
    words: str      # what the instruction calls it
    value: str      # the text to type, the option to choose, or "" for a box to tick
    shown: str = "" # a list's option before the change


def _ask(rng, f: _Field) -> str:
    """How an instruction asks for one field."""
    v = f'"{f.value}"' if rng.random() < 0.25 or " " in f.value.strip(" .?") else f.value  # a sentence is quoted
    if f.kind == "checkbox":
        return rng.choice((f'tick "{f.label}"', f'check "{f.label}"', f"tick the box {f.label}"))
    if f.kind == "combobox":
        return rng.choice((f"the {f.words} {v}", f"set the {f.words} to {v}", f"choose {v} as the {f.words}"))
    return rng.choice((f"the {f.words} {v}", f"{f.words} {v}", f"{v} as the {f.words}", f"{f.words}: {v}"))


def _instruction(rng, site: str, asks: list[str], button: str) -> str:
    said = asks[0] if len(asks) == 1 else ", ".join(asks[:-1]) + " and " + asks[-1]
    head = rng.choice(("Fill in the form with {s}", "Enter {s}", "On {site}, give {s}", "Sign up with {s}",
                       "Use {s}", "Complete the form: {s}")).format(s=said, site=site)
    return head + rng.choice((f", then press {button}.", f" and click {button}.", f', then click "{button}".',
                              " and submit the form.", "."))


def web_form(rng):
    """A full-size site form: fill its fields from the instruction, in page order, then press its button."""
    site = rng.choice(SITES)
    labels = rng.sample(sorted(WEB_FIELDS), rng.randint(1, 4))
    fields = []
    for label in labels:
        words, make = WEB_FIELDS[label]
        fields.append(_Field("textbox", label, rng.choice(words), make(rng)))
    if rng.random() < 0.4:
        label = rng.choice(sorted(WEB_LISTS))
        words, options = WEB_LISTS[label]
        shown, value = rng.sample(options, 2)
        fields.insert(rng.randint(0, len(fields)), _Field("combobox", label, words, value, shown))
    if rng.random() < 0.3:
        label = rng.choice(WEB_BOXES)
        fields.append(_Field("checkbox", label, label, ""))
    button = rng.choice(WEB_BUTTONS)
    heading = button if rng.random() < 0.4 else rng.choice(("Your details", "Contact us", "Account", site, "Welcome"))
    asks = [_ask(rng, f) for f in fields]
    order = list(range(len(fields)))
    if rng.random() < 0.3:
        rng.shuffle(order)  # the instruction need not follow the page
    instruction = _instruction(rng, site, [asks[i] for i in order], button)

    done = rng.randint(0, len(fields))
    elements: list[Element] = []

    def add(role, text, box, state=""):
        elements.append(Element(len(elements), role, text, box, state))

    add("text", site, (24, 14, 24 + 9 * len(site), 34))
    x = rng.randint(300, 520)
    for link in rng.sample(NAV, rng.randint(3, 6)):
        add("link", link, (x, 16, x + 8 * len(link), 32))
        x += 8 * len(link) + rng.randint(20, 36)
    left, y = rng.choice((40, 40, rng.randint(60, 700))), rng.randint(80, 120)
    width = rng.randint(240, 480)
    add("heading", heading, (left, y, left + 14 * len(heading), y + 28))
    y += rng.randint(44, 60)
    boxes = {}
    for i, f in enumerate(fields):
        if f.kind == "checkbox":
            add("label", f.label, (left + 24, y, left + 24 + 8 * len(f.label), y + 18))
            add("checkbox", "", (left, y + 1, left + 16, y + 17), "checked" if i < done else "")
            boxes[i] = elements[-2]
            y += rng.randint(34, 48)
            continue
        add("label", f.label, (left, y, left + 8 * len(f.label), y + 18))
        tall = 60 if f.label == "Message" else 30
        box = (left, y + 22, left + width, y + 22 + tall)
        if f.kind == "combobox":
            add("combobox", f.value if i < done else f.shown, box)
        else:
            add("textbox", f.value if i < done else "", box, "focused" if i == done - 1 else "")
        boxes[i] = elements[-1]
        y += 22 + tall + rng.randint(12, 26)
    add("button", button, (left, y, left + 12 * len(button) + 30, y + 36))
    submit = elements[-1]
    if rng.random() < 0.5:
        for text in rng.sample(("Forgot password?", "Create an account", "Need help?", "Back"), 2):
            y += 30
            add("link", text, (left, y + 20, left + 8 * len(text), y + 36))
    x = 40
    for link in rng.sample(FOOTER, rng.randint(3, 6)):
        add("link", link, (x, PAGE_H - 40, x + 8 * len(link), PAGE_H - 24))
        x += 8 * len(link) + 28

    if rng.random() < 0.5:  # a column of news beside the form
        x, y = left + width + rng.randint(40, 120), rng.randint(80, 120)
        if x + 300 < PAGE_W:
            title = rng.choice(("What is new", "Opening hours", "Why join?", "Good to know"))
            add("heading", title, (x, y, x + 160, y + 24))
            for line in rng.sample(SIDE_NOTES, rng.randint(1, 3)):
                y += 32
                add("text", line, (x, y, x + 7 * len(line), y + 18))
    previous = [_fill(fields[i], boxes[i]) for i in range(done)]
    screen = Screen(instruction, elements, {}, (PAGE_W, PAGE_H))
    if done < len(fields):
        f = fields[done]
        thought = {"textbox": f"The {f.label} field; type '{f.value}' into it.",
                   "combobox": f"The {f.label} list; choose '{f.value}' in it.",
                   "checkbox": f"'{f.label}' is asked for. The '{f.label}' box; click it."}[f.kind]
        return screen, previous, thought, _fill(f, boxes[done])
    same = [e for e in elements if e.text.lower() == button.lower()]  # as core/env.py resolve_target matches
    nth = same.index(submit) if len(same) > 1 else None
    thought = f"Every field holds what was asked. The '{button}' button; click it."
    return screen, previous, thought, A.Click(A.ElementRef(text=button, nth=nth))


def _fill(f: _Field, e: Element):
    """The action that sets field ``f`` (element ``e``), as the teachers write it."""
    if f.kind == "textbox":
        return A.Type(f.value, at=e.center)
    if f.kind == "combobox":
        return A.Select(A.ElementRef(text=f.shown), f.value)
    return A.Click(A.ElementRef(text=f.label))


def draw_page(screen: Screen) -> Image.Image:
    """A full-size page: the site's bar, its elements as a browser would draw them."""
    img = Image.new("RGB", screen.size, "white")
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, screen.size[0], 48), fill=(32, 52, 84))
    for e in screen.elements:
        if e.role in ("textbox", "combobox", "checkbox"):
            d.rectangle(e.bbox, outline=(118, 118, 118), fill="white")
        elif e.role == "button":
            d.rectangle(e.bbox, fill=(37, 99, 235))
        if "checked" in e.state:
            d.line((e.bbox[0] + 3, e.bbox[1] + 8, e.bbox[0] + 7, e.bbox[3] - 3, e.bbox[2] - 3, e.bbox[1] + 3),
                   fill="black", width=2)
        if e.text:
            header = e.bbox[1] < 48
            color = "white" if header or e.role == "button" else (0, 0, 238) if e.role == "link" else "black"
            d.text((e.bbox[0] + (8 if e.role in ("textbox", "combobox", "button") else 0), e.bbox[1] + 6), e.text,
                   fill=color)
    return img


SKILLS = (click_text, fill_form, tick_boxes, click_color)
"""The MiniWoB-size skills, drawn by default."""
ALL_SKILLS = {s.__name__: s for s in SKILLS + (web_form,)}


def pick_skills(names: str) -> tuple:
    """The skills a comma-separated list names (empty: ``SKILLS``); an unknown name is an error that lists them."""
    picked = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in picked if n not in ALL_SKILLS]
    if unknown:
        raise SystemExit(f"unknown synthetic skill(s) {', '.join(unknown)}; known: {', '.join(ALL_SKILLS)}")
    return tuple(ALL_SKILLS[n] for n in picked) or SKILLS


COMPACT = Card(prompt="compact", coord_space="pixels")
"""The small models' prompt with none of the card's optional lines."""


def example(rng: random.Random, skills=SKILLS, card: Card = COMPACT) -> dict:
    """One synthetic (messages, target) pair in the exact prompt layout the agent renders for small models, as
    ``card`` asks (its ``Named in the task:`` line, its fields' labels, which the thought then quotes as the
    teachers' student form does)."""
    skill = rng.choice(skills)
    screen, previous, thought, action = skill(rng)
    img = draw(screen) if screen.size == (W, H) else draw_page(screen)
    obs = Observation(img, screen.instruction, screen.elements)
    memory = Memory("", actions=[A.format_action(a) for a in previous])
    notes = observation_notes(obs, [], True, compact=True, mark_matches=card.mark_matches, labels=card.field_labels)
    if card.field_labels:
        fields = [line for line in listed_lines((action,), obs, labels=True) if " for '" in line]
        thought = student_thought(thought, fields) if fields else thought
    messages = memory.render_compact(screen.instruction, img, notes)
    target = A.format_response(A.Response((action,), thought=thought))
    return {"messages": messages, "target": target, "task": f"synthetic/{skill.__name__}"}


def probe(model_dir: str, names: str = "web_form", n: int = 60, seed: int = 12345) -> tuple[int, int]:
    """How many of ``n`` drawn examples a checkpoint answers with the target's exact actions (greedy): a quick
    check of a skill on screens no recording has, before and after training on them."""
    from models.hf import TransformersModel  # torch only here: drawing examples needs none

    model = TransformersModel(model_dir, coord_space="pixels", threads=1)
    rng, skills, right = random.Random(seed), pick_skills(names), 0
    for _ in range(n):
        ex = example(rng, skills, model.card)
        reply = model.generate(ex["messages"])[0].text
        try:
            right += A.parse_response(reply).actions == A.parse_response(ex["target"]).actions
        except A.ActionParseError:
            pass
    return right, n


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Probe a checkpoint on drawn synthetic screens (exact actions).")
    ap.add_argument("--model", default="models/embedded/checkpoint")
    ap.add_argument("--skills", default="web_form")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=12345)
    a = ap.parse_args()
    got, total = probe(a.model, a.skills, a.n, a.seed)
    print(f"{a.model}: {got}/{total} exact actions on {a.skills} (seed {a.seed})")
