"""Teachers for the pages written in this project: envs/tasks/unseen and envs/tasks/web.

Each of those pages knows its own answer, so it also knows the next step toward it: its script defines
``teach()``, which reads the page's current state and returns one step, as plain data:

    {click: '#save', name: "The 'Save' button", why: 'Location is off now.'}
    {fill: '#user', value: 'ada', name: 'The Username field'}
    {select: '#lang', option: 'Deutsch', name: 'The Language list'}
    {press: 'enter', why: 'The tag is typed.'}
    {point: [x, y], name: 'The 70% mark of the Brightness slider'}

One teacher here turns such a step into an action and a Thought with the target's position, in the same words
as the MiniWoB teachers ("The 'Save' button is at (80, 131); click it."), so ``teacher:student`` rewrites it into
the embedded model's form as it does theirs. The teacher is privileged (the page's script holds the answer) and
keeps no memory: every call asks the page afresh, so it labels any state a student reaches.

envs/tasks registers it under every page's id (the page folders are the tasks'). The ids must differ from the
MiniWoB tasks' (registration refuses a second teacher for one id). The unseen pages and the unseen half of the web
pages are for reporting only: never record training data on them (envs/tasks/unseen/README.md,
envs/tasks/web/README.md).
"""

from __future__ import annotations

from core import actions as A
from envs.teachers.dom import click, first
from envs.teachers.forms import fill

VIEW_JS = "() => [window.innerWidth, window.innerHeight]"


def page_teacher(obs, page):
    step = page.evaluate("() => teach()")
    why = (step.get("why") or "").strip()
    thought, action = _act(page, step)
    return (f"{why} {thought}" if why else thought), action


def _act(page, step: dict):
    name = step.get("name", "The target")
    if "point" in step:
        x, y = step["point"]
        return f"{name} is at ({x}, {y}); click it.", A.Click((x, y))
    if "press" in step:
        return f"Press {step['press']}.", A.Hotkey(step["press"])
    selector = step.get("click") or step.get("fill") or step.get("select")
    el = first(page, selector)
    if el is None:
        raise RuntimeError(f"teach() names {selector!r}, which is not shown")
    width, height = page.evaluate(VIEW_JS)
    if not (0 <= el["y"] < height and 0 <= el["x"] < width):  # below the fold: bring it into view first
        direction = "down" if el["y"] >= height else "up"
        return (f"{name} is out of view, {direction} the page; scroll {direction}.",
                A.Scroll(direction, at=(width // 2, height // 2)))
    if "fill" in step:
        done = fill(page, el, step["value"], name)
        if done is None:  # the page asked to fill a field that already holds the value: a bug in its teach()
            raise RuntimeError(f"teach() asks to fill {selector!r}, which already holds {step['value']!r}")
        return done
    if "select" in step:
        return (f"{name} is at ({el['x']}, {el['y']}); choose '{step['option']}' in it.",
                A.Select((el["x"], el["y"]), step["option"]))
    return click(el, name)
