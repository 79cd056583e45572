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


SKILLS = (click_text, fill_form, tick_boxes, click_color)


def example(rng: random.Random) -> dict:
    """One synthetic (messages, target) pair in the exact prompt layout the agent renders for small models."""
    skill = rng.choice(SKILLS)
    screen, previous, thought, action = skill(rng)
    img = draw(screen)
    obs = Observation(img, screen.instruction, screen.elements)
    memory = Memory("", actions=[A.format_action(a) for a in previous])
    messages = memory.render_compact(screen.instruction, img, observation_notes(obs, [], True, compact=True))
    target = A.format_response(A.Response((action,), thought=thought))
    return {"messages": messages, "target": target, "task": f"synthetic/{skill.__name__}"}
