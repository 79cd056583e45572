"""The desktop tasks: each launches a real X program, checks the real state it leaves, and has a teacher.

A task is seeded: ``random.Random(f"{id}:{seed}")`` draws the instruction, the app's content and its window
position, so the same seed gives the same episode. ``validate`` reads what the program wrote (the saved form,
the applied settings, the file the editor saved, the files the terminal created or the file manager removed).
``teacher(obs, env)`` reads the app's state file (``apps.py`` keeps every widget's screen box there) or asks
xdotool where a window is, and returns one action with a one-line Thought that names the target and where it is.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import random
import shlex
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from core import actions as A

APPS_PY = Path(__file__).with_name("apps.py")

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Katherine", "Linus",
         "Margaret", "Niklaus", "Radia", "Tim", "Hedy", "Dennis", "Ken", "Sophie", "Carlos", "Mei"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Johnson", "Torvalds",
        "Hamilton", "Wirth", "Perlman", "Berners", "Lamarr", "Ritchie", "Thompson", "Wilson", "Santos", "Chen"]
CITIES = ["Amsterdam", "Athens", "Bangkok", "Barcelona", "Berlin", "Bogota", "Boston", "Brussels", "Budapest",
          "Cairo", "Chicago", "Copenhagen", "Dakar", "Delhi", "Dublin", "Geneva", "Hanoi", "Havana", "Helsinki",
          "Istanbul", "Jakarta", "Kyoto", "Lagos", "Lima", "Lisbon", "London", "Madrid", "Manila", "Melbourne",
          "Mexico City", "Milan", "Montreal", "Mumbai", "Munich", "Nairobi", "Naples", "Oslo", "Paris", "Prague",
          "Quito", "Riga", "Rome", "Santiago", "Seoul", "Seville", "Sydney", "Tallinn", "Tokyo", "Toronto",
          "Valencia", "Vienna", "Warsaw", "Zurich"]
FRUITS = ["Apple", "Banana", "Cherry", "Date", "Fig", "Grape", "Kiwi", "Lemon", "Mango", "Melon", "Orange",
          "Papaya", "Peach", "Pear", "Plum", "Quince"]
CHORES = ["Buy milk", "Call the bank", "Pay rent", "Water plants", "Book dentist", "Clean kitchen",
          "Renew passport", "Send invoice", "Walk the dog", "Fix bike", "Read chapter 3", "Email Sam"]
WORDS = ["alpha", "amber", "apple", "blue", "cloud", "delta", "ember", "green", "harbor", "lemon", "maple",
         "north", "ocean", "pine", "quiet", "river", "silver", "stone", "sun", "tiger", "violet", "winter"]
SENTENCES = ["Meeting moved to 3pm", "Pick up the parcel on Friday", "The build is green again",
             "Lunch with Sam at noon", "Remember to back up the laptop", "Ship version 2 next week",
             "Call the plumber tomorrow", "Order more coffee beans", "Review the budget draft",
             "Water the plants on Sunday"]


def center(box) -> tuple[int, int]:
    x0, y0, x1, y1 = box
    return (x0 + x1) // 2, (y0 + y1) // 2


def at(point) -> str:
    return f"({point[0]}, {point[1]})"


def app_python() -> str:
    """A Python with tkinter for the apps: this one, else the system's (Debian's python3-tk)."""
    if importlib.util.find_spec("tkinter") is not None:
        return sys.executable
    system = shutil.which("python3")
    if system and subprocess.run([system, "-c", "import tkinter"], capture_output=True).returncode == 0:
        return system
    raise RuntimeError("the desktop apps need tkinter: sudo apt-get install -y python3-tk")


class DesktopTask:
    """What every desktop task shares: seeding, the episode folder, the default checker's shape."""

    id = ""
    title = ""
    has_teacher = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"

    def rng(self, seed: int) -> random.Random:
        return random.Random(f"{self.id}:{seed}")

    def close(self) -> None:
        """The env stops every program it launched; a task keeps nothing else running."""


class AppTask(DesktopTask):
    """A task on one of the Tk apps in apps.py.

    Subclasses define ``generate(rng) -> (instruction, spec, goal)``, ``check(saved) -> bool`` on the file the
    app saves (``output``), and ``next_step(state) -> (thought, action)`` on the app's state.
    """

    app = ""
    output = ""

    def setup(self, env, seed: int) -> str:
        rng = self.rng(seed)
        instruction, spec, self.goal = self.generate(rng)
        spec.setdefault("title", self.title)
        spec["pos"] = [rng.randrange(20, 380), rng.randrange(20, 250)]
        self.spec = spec
        self._synced = None
        self.folder = Path(env.workdir) / "app"
        self.folder.mkdir()
        (self.folder / "spec.json").write_text(json.dumps(spec))
        self.prepare(rng)
        proc = env.launch([app_python(), str(APPS_PY), self.app, str(self.folder)])
        deadline = time.monotonic() + 20
        while not self.state().get("mapped"):
            if proc.poll() is not None:
                log = (Path(env.workdir) / "programs.log").read_text(errors="replace")[-1500:]
                raise RuntimeError(f"the {self.app} app exited with {proc.returncode}:\n{log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.app} app did not show its window within 20 s")
            time.sleep(0.03)
        return instruction

    def prepare(self, rng: random.Random) -> None:
        """Make the files the app works on (most apps need none)."""

    def sync(self, env) -> None:
        """Have the app handle every input sent so far and publish its state; once per action of ``env``.

        Without it a loaded machine can show the teacher a state from before the last click (the screen had
        not changed yet when the env stopped waiting), and the teacher would click again.
        """
        key = (env.episode, env.actions_run)
        if key == self._synced:
            return
        token = f"{key[0]}.{key[1]}.{time.monotonic_ns()}"
        tmp = self.folder / "sync.tmp"
        tmp.write_text(token)
        tmp.replace(self.folder / "sync")
        deadline = time.monotonic() + 5
        while self.state().get("sync") != token and time.monotonic() < deadline:
            time.sleep(0.005)
        self._synced = key

    def state(self) -> dict:
        """The app's state file: widgets' screen boxes and values (privileged)."""
        for _ in range(5):
            try:
                return json.loads((self.folder / "state.json").read_text())
            except FileNotFoundError:
                return {}
            except ValueError:
                time.sleep(0.01)
        return {}

    def saved(self):
        path = self.folder / self.output
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except ValueError:
            return None

    def validate(self, env) -> tuple[float, bool, dict]:
        self.sync(env)
        saved = self.saved()
        if saved is None:
            return 0.0, False, {}
        ok = self.check(saved)
        return (1.0 if ok else 0.0), True, {"saved": saved, "wanted": self.goal}

    def teacher(self, obs, env):
        self.sync(env)
        return self.next_step(self.state())

    def box(self, state: dict, name: str) -> tuple[int, int]:
        return center(state["widgets"][name])


def fix_text(label: str, want: str, have: str, name: str, state: dict, selected_all: bool):
    """The next step to make a text field hold ``want``: type into it when empty, else select all, then type."""
    c = center(state["widgets"][name])
    if not have:
        return f"The {label} at {at(c)} is empty; type '{want}' into it.", A.Type(want, at=c)
    if state.get("focus") == name and selected_all:
        return f"All the text in the {label} is selected; type '{want}' to replace it.", A.Type(want)
    if state.get("focus") == name:
        return f"The {label} holds '{have}' instead of '{want}'; press ctrl+a to select all of it.", A.Hotkey("ctrl a")
    return f"The {label} at {at(c)} holds '{have}', not '{want}'; click it to edit it.", A.Click(c)


# -- form ---------------------------------------------------------------------------------------------------

class FormTask(AppTask):
    id, title, app, output = "form-save", "Contact form", "form", "form.json"

    def generate(self, rng):
        first, last, city = rng.choice(FIRST), rng.choice(LAST), rng.choice(CITIES)
        domain = rng.choice(["example.com", "mail.org", "work.net"])
        email = f"{first.lower()}.{last.lower()}{rng.randrange(1, 99)}@{domain}"
        fields = [{"key": k, "label": k.capitalize()} for k in ("name", "email", "city")]
        goal = {"name": f"{first} {last}", "email": email, "city": city}
        heading = rng.choice(["New contact", "Customer details", "Sign-up form", "Address book entry"])
        instruction = (f"Fill in the form with Name '{goal['name']}', Email '{email}' and City '{city}', "
                       "then click Save.")
        return instruction, {"heading": heading, "fields": fields}, goal

    def check(self, saved):
        return {k: str(v).strip() for k, v in saved.items()} == self.goal

    def next_step(self, state):
        for field in self.spec["fields"]:
            key = field["key"]
            want, have = self.goal[key], state["values"][key]
            if have != want:
                selected_all = state["selected_all"][key]
                return fix_text(f"{field['label']} field", want, have, f"field:{key}", state, selected_all)
        c = self.box(state, "save")
        return f"All three fields are filled in correctly; the Save button is at {at(c)}; click it.", A.Click(c)


# -- settings -------------------------------------------------------------------------------------------------

CHECKS = ["Enable notifications", "Dark mode", "Auto-save", "Show line numbers", "Spell check", "Start on login",
          "Sound effects", "Send usage data"]
RADIOS = [("Font size", ["Small", "Medium", "Large"]), ("Theme", ["Light", "Dark", "System"]),
          ("Update channel", ["Stable", "Beta", "Nightly"])]


class SettingsTask(AppTask):
    id, title, app, output = "settings-apply", "Settings", "settings", "settings.json"

    def generate(self, rng):
        labels = rng.sample(CHECKS, 5)
        checks = [{"key": f"c{i}", "label": lab, "value": rng.random() < 0.5} for i, lab in enumerate(labels)]
        while True:
            named = rng.sample(checks, 3)
            wants = {c["key"]: rng.random() < 0.5 for c in named}
            if sum(wants[c["key"]] != c["value"] for c in named) >= 2:
                break
        group, options = rng.choice(RADIOS)
        start, want_radio = rng.choice(options), rng.choice(options)
        goal = {"checks": {c["key"]: wants.get(c["key"], c["value"]) for c in checks}, "radio": want_radio}
        asks = [f"turn {'on' if wants[c['key']] else 'off'} {c['label']}" for c in named]
        instruction = (f"In the settings, {', '.join(asks[:-1])} and {asks[-1]}; set {group} to {want_radio}; "
                       "then click Apply.")
        spec = {"heading": "Settings", "checks": checks, "radio": {"label": group, "options": options, "value": start}}
        return instruction, spec, goal

    def check(self, saved):
        return saved == self.goal

    def next_step(self, state):
        for c in self.spec["checks"]:
            want = self.goal["checks"][c["key"]]
            if state["checks"][c["key"]] != want:
                p = self.box(state, f"check:{c['key']}")
                return (f"'{c['label']}' is {'off' if want else 'on'} and should be {'on' if want else 'off'}; "
                        f"click its checkbox at {at(p)}."), A.Click(p)
        want = self.goal["radio"]
        if state["radio"] != want:
            p = self.box(state, f"radio:{want}")
            return (f"{self.spec['radio']['label']} is {state['radio']}, not {want}; click the '{want}' option at "
                    f"{at(p)}."), A.Click(p)
        p = self.box(state, "apply")
        return f"Every setting matches the instruction; the Apply button is at {at(p)}; click it.", A.Click(p)


# -- lists ----------------------------------------------------------------------------------------------------

def scroll_toward(state: dict, target: str, items: list[str], what: str):
    """Scroll the list so that ``target`` comes into view."""
    rows = state["rows"]
    first = rows[0]["index"] if rows else 0
    direction = "down" if items.index(target) > first else "up"
    if not rows:
        c = center(state["widgets"]["list"])
        return (f"'{target}' is not among the rows of the {what} now in view; scroll the list {direction} at {at(c)}.",
                A.Scroll(direction, at=c))
    edge = rows[-1] if direction == "down" else rows[0]  # the row on the side it scrolls toward, by its text
    c = center(edge["text_box"])
    return (f"'{target}' is not among the rows of the {what} now in view; scroll the list {direction} at its "
            f"{'last' if direction == 'down' else 'first'} row, '{edge['text']}' at {at(c)}.", A.Scroll(direction, at=c))


class ListFilterTask(AppTask):
    id, title, app, output = "list-filter-open", "Cities", "list", "chosen.json"

    def generate(self, rng):
        items = sorted(rng.sample(CITIES, 30))
        target = rng.choice(items[10:])
        spec = {"heading": "Cities", "items": items, "rows": 8, "filter": True, "double_click": True, "button": "Open"}
        instruction = f"Open '{target}' from the list: type in the Filter box to find it, then double-click it."
        return instruction, spec, {"item": target}

    def check(self, saved):
        return saved.get("item") == self.goal["item"]

    def next_step(self, state):
        target = self.goal["item"]
        row = next((r for r in state["rows"] if r["text"] == target), None)
        if row is not None:
            p = center(row["text_box"])
            return f"'{target}' is shown in the list at {at(p)}; double-click it to open it.", A.DoubleClick(p)
        if target not in state["shown"]:
            return fix_text("Filter box", target, state["filter"], "filter", state, state["filter_selected_all"])
        if not state["filter"]:
            p = self.box(state, "filter")
            return (f"'{target}' is not among the rows shown; type '{target}' into the Filter box at {at(p)} to "
                    "narrow the list."), A.Type(target, at=p)
        return scroll_toward(state, target, state["shown"], "filtered list")


class ListScrollTask(AppTask):
    id, title, app, output = "list-scroll-select", "Orders", "list", "chosen.json"

    def generate(self, rng):
        start = rng.randrange(1000, 9000)
        items = [f"Order {start + i}" for i in range(40)]
        target = rng.choice(items[12:])
        spec = {"heading": "Orders", "items": items, "rows": 10, "filter": False, "double_click": False, "button": "OK"}
        return f"Select '{target}' in the list and click OK.", spec, {"item": target}

    def check(self, saved):
        return saved.get("item") == self.goal["item"]

    def next_step(self, state):
        target = self.goal["item"]
        if state["selected"] == target:
            p = self.box(state, "button")
            return f"'{target}' is selected; the OK button is at {at(p)}; click it.", A.Click(p)
        row = next((r for r in state["rows"] if r["text"] == target), None)
        if row is not None:
            p = center(row["text_box"])
            return f"'{target}' is in view at {at(p)}; click it to select it.", A.Click(p)
        return scroll_toward(state, target, state["shown"], "list")


def sort_steps(order: list[str]) -> int:
    """Teacher steps to sort with select + Move up, plus Done."""
    order, steps = list(order), 1
    for i, want in enumerate(sorted(order)):
        j = order.index(want)
        if j != i:
            steps += 1 + (j - i)
            order.insert(i, order.pop(j))
    return steps


class SortTask(AppTask):
    id, title, app, output = "list-sort-buttons", "Sort", "sort", "order.json"

    def generate(self, rng):
        items = rng.sample(FRUITS, 4)
        while items == sorted(items) or sort_steps(items) > 8:
            rng.shuffle(items)
        spec = {"heading": "Shopping list", "items": items}
        instruction = "Sort the list alphabetically (A to Z) with the Move up and Move down buttons, then click Done."
        return instruction, spec, {"order": sorted(items)}

    def check(self, saved):
        return saved.get("order") == self.goal["order"]

    def next_step(self, state):
        order, want = state["order"], self.goal["order"]
        for i, item in enumerate(want):
            if order[i] == item:
                continue
            j = order.index(item)
            if state["selected"] == j:
                direction = "up" if j > i else "down"
                p = self.box(state, direction)
                return (f"'{item}' is selected in row {j + 1} and belongs in row {i + 1}; click Move {direction} at "
                        f"{at(p)}."), A.Click(p)
            p = center(state["rows"][j]["text_box"])
            return f"'{item}' belongs in row {i + 1} but is in row {j + 1}; select it at {at(p)}.", A.Click(p)
        p = self.box(state, "done")
        return f"The list reads {', '.join(order)}, which is A to Z; click Done at {at(p)}.", A.Click(p)


class DragTask(AppTask):
    id, title, app, output = "list-drag-reorder", "Priorities", "drag", "order.json"

    def generate(self, rng):
        items = rng.sample(CHORES, 5)
        i = rng.randrange(5)
        item = items[i]
        rest = items[:i] + items[i + 1:]
        kind = rng.choice(["top", "bottom", "after"])
        if kind == "top" and i == 0 or kind == "bottom" and i == 4:
            kind = "after"
        if kind == "top":
            goal, where = [item] + rest, "to the top of the list"
        elif kind == "bottom":
            goal, where = rest + [item], "to the bottom of the list"
        else:
            others = [k for k in range(4) if k != i - 1]  # 'after' the item already above it changes nothing
            k = rng.choice(others)
            goal, where = rest[:k + 1] + [item] + rest[k + 1:], f"so that it comes right after '{rest[k]}'"
        spec = {"heading": "Priorities", "items": items}
        return f"Drag '{item}' {where}, then click Done.", spec, {"order": goal}

    def check(self, saved):
        return saved.get("order") == self.goal["order"]

    def next_step(self, state):
        order, want = state["order"], self.goal["order"]
        if order == want:
            p = self.box(state, "done")
            return f"The cards are in the asked order; click Done at {at(p)}.", A.Click(p)
        j, k = one_move(order, want)
        item = order[j]
        src, dst = center(state["cards"][j]["box"]), center(state["cards"][k]["box"])
        return (f"'{item}' belongs in row {k + 1} but is in row {j + 1} at {at(src)}; drag it onto row {k + 1} at "
                f"{at(dst)}."), A.Drag(src, dst)


def one_move(order: list[str], want: list[str]) -> tuple[int, int]:
    """(from, to) rows of a single drag that turns ``order`` into ``want``, or that fixes the first wrong row."""
    for j in range(len(order)):
        for k in range(len(order)):
            moved = list(order)
            moved.insert(k, moved.pop(j))
            if moved == want:
                return j, k
    i = next(i for i, (a, b) in enumerate(zip(order, want)) if a != b)
    return order.index(want[i]), i


# -- editor, calculator, to-do, files, slider ---------------------------------------------------------------

class EditorTask(AppTask):
    id, title, app = "text-editor-save", "Editor", "editor"

    def generate(self, rng):
        want = rng.choice(SENTENCES)
        name = rng.choice(["note.txt", "todo.txt", "memo.txt", "draft.txt"])
        if rng.random() < 0.5:
            initial = ""
            instruction = f"Type '{want}' into the editor and save the file with Ctrl+S."
        else:
            initial = rng.choice([s for s in SENTENCES if s != want])
            instruction = f"Replace all the text in the editor with '{want}' and save the file with Ctrl+S."
        return instruction, {"file": name, "initial": initial}, {"file": name, "content": want}

    def validate(self, env):
        self.sync(env)
        path = self.folder / self.goal["file"]
        if not path.exists():
            return 0.0, False, {}
        content = path.read_text()
        return (1.0 if content.strip() == self.goal["content"] else 0.0), True, {"saved": content}

    def next_step(self, state):
        want, have = self.goal["content"], state["content"]
        if have != want:
            return fix_text("editor", want, have, "text", state, state["selected_all"])
        return f"The editor holds exactly '{want}'; press ctrl+s to save it.", A.Hotkey("ctrl s")


class CalcTask(AppTask):
    id, title, app, output = "calculator", "Calculator", "calc", "calc.json"

    def generate(self, rng):
        op = rng.choice("+-×")
        a = rng.randrange(10, 100)
        b = rng.randrange(2, 10) if op == "×" else rng.randrange(10, 100)
        if op == "-" and b > a:
            a, b = b, a
        expr = f"{a}{op}{b}"
        result = str(a + b if op == "+" else a - b if op == "-" else a * b)
        words = {"+": "+", "-": "-", "×": "×"}
        instruction = f"Use the calculator to work out {a} {words[op]} {b}: click its buttons, ending with =."
        return instruction, {}, {"expression": expr, "result": result}

    def check(self, saved):
        last = saved["history"][-1]
        return last == self.goal

    def next_step(self, state):
        expr, want = state["expr"], self.goal["expression"]
        if want.startswith(expr):
            key = "=" if expr == want else want[len(expr)]
            p = self.box(state, f"key:{key}")
            if key == "=":
                return f"'{want}' is entered; click '=' at {at(p)} to get the result.", A.Click(p)
            shown = f"the display shows '{expr}'" if expr else "the entry is empty"
            return f"To enter {want}, {shown}; click the '{key}' button at {at(p)}.", A.Click(p)
        p = self.box(state, "key:C")
        return f"The entry '{expr}' is not the start of {want}; click C at {at(p)} to clear it.", A.Click(p)


class TodoTask(AppTask):
    id, title, app, output = "context-menu", "To-do", "todo", "todo.json"

    def generate(self, rng):
        items = rng.sample(CHORES, 5)
        target = rng.choice(items)
        action = rng.choice(["Mark as done", "Delete"])
        if action == "Delete":
            goal = [{"text": t, "done": False} for t in items if t != target]
            instruction = f"Using its right-click menu, delete '{target}' from the to-do list."
        else:
            goal = [{"text": t, "done": t == target} for t in items]
            instruction = f"Using its right-click menu, mark '{target}' as done."
        return instruction, {"heading": "To-do", "items": items}, {"items": goal, "target": target, "action": action}

    def check(self, saved):
        return saved.get("items") == self.goal["items"]

    def next_step(self, state):
        target, action = self.goal["target"], self.goal["action"]
        menu = state["menu"]
        if menu["posted"]:
            if menu["item"] == target:
                entry = next(e for e in menu["entries"] if e["label"] == action)
                p = center(entry["text_box"])
                return f"The menu of '{target}' is open; click '{action}' at {at(p)}.", A.Click(p)
            return (f"The open menu belongs to '{menu['item']}', not '{target}'; press Escape to close it.",
                    A.Hotkey("esc"))
        row = next(r for r in state["items"] if r["text"] == target)
        p = center(row["text_box"])
        return f"'{target}' is at {at(p)}; right-click it to open its menu.", A.RightClick(p)


class FilesTask(AppTask):
    id, title, app = "file-delete-confirm", "Files", "files"

    def generate(self, rng):
        stems = rng.sample(["report", "budget", "notes", "photo", "invoice", "draft", "backup", "slides"], 6)
        exts = {"report": "pdf", "budget": "csv", "notes": "txt", "photo": "png", "invoice": "pdf", "draft": "txt",
                "backup": "zip", "slides": "odp"}
        files = [f"{s}-{rng.randrange(1, 10)}.{exts[s]}" for s in stems]
        target = rng.choice(files)
        instruction = f"Delete the file '{target}' with the file manager: select it, click Delete and confirm."
        return instruction, {"heading": "Files", "rows": 8}, {"files": files, "target": target}

    def prepare(self, rng):
        home = self.folder / "home"
        home.mkdir()
        for name in self.goal["files"]:
            (home / name).write_text(f"contents of {name}\n")

    def validate(self, env):
        self.sync(env)
        home = self.folder / "home"
        present = {p.name for p in home.iterdir()}
        missing = [f for f in self.goal["files"] if f not in present]
        if not missing:
            return 0.0, False, {}
        return (1.0 if missing == [self.goal["target"]] else 0.0), True, {"deleted": missing}

    def next_step(self, state):
        target = self.goal["target"]
        if state["dialog"]:
            name = "yes" if state["dialog"] == target else "no"
            p = self.box(state, name)
            if name == "yes":
                return f"The dialog asks to delete '{target}'; click Yes at {at(p)}.", A.Click(p)
            return f"The dialog asks about '{state['dialog']}', not '{target}'; click No at {at(p)}.", A.Click(p)
        if state["selected"] == target:
            p = self.box(state, "delete")
            return f"'{target}' is selected; click Delete at {at(p)}.", A.Click(p)
        row = next((r for r in state["rows"] if r["text"] == target), None)
        if row is None:
            return scroll_toward(state, target, state["files"], "file list")
        p = center(row["text_box"])
        return f"'{target}' is in the file list at {at(p)}; click it to select it.", A.Click(p)


class SliderTask(AppTask):
    id, title, app, output = "slider-set", "Volume", "slider", "slider.json"

    def generate(self, rng):
        label = rng.choice(["Volume", "Brightness", "Balance", "Zoom"])
        start = rng.randrange(0, 101)
        want = rng.choice([v for v in range(0, 101, 5) if abs(v - start) >= 15])
        spec = {"heading": f"{label} settings", "label": label, "value": start}
        return f"Set the {label} slider to {want}, then click OK.", spec, {"value": want, "label": label}

    def check(self, saved):
        return saved.get("value") == self.goal["value"]

    def next_step(self, state):
        want, have, label = self.goal["value"], state["value"], self.goal["label"]
        if have == want:
            p = self.box(state, "ok")
            return f"The {label} slider shows {want}; click OK at {at(p)}.", A.Click(p)
        src, dst = tuple(state["coords"][have]), tuple(state["coords"][want])
        return (f"The {label} slider shows {have}; drag its handle at {at(src)} to {want} at {at(dst)}.",
                A.Drag(src, dst))


# -- a real program: xterm --------------------------------------------------------------------------------------

class XtermTask(DesktopTask):
    """Shell work in a real xterm; the checker reads the files the shell leaves in its working directory."""

    id, title = "xterm-command", "Terminal"

    def generate(self, rng):
        files = [f"{w}.txt" for w in rng.sample(WORDS, 3)]
        kind = rng.choice(["write", "mkdir", "rename"])
        if kind == "write":
            name = f"{rng.choice(WORDS)}-{rng.randrange(10, 100)}.txt"
            while name in files:
                name = f"{rng.choice(WORDS)}-{rng.randrange(10, 100)}.txt"
            text = " ".join(rng.sample(WORDS, 3))
            goal = {"kind": kind, "file": name, "text": text}
            instruction = f"In the terminal, create a file named {name} that contains the single line '{text}'."
            command = f"echo '{text}' > {name}"
        elif kind == "mkdir":
            folder = rng.choice(["archive", "old", "done", "backup", "drafts"])
            goal = {"kind": kind, "dir": folder, "file": files[0]}
            instruction = f"In the terminal, make a directory named {folder} and move {files[0]} into it."
            command = f"mkdir -p {folder} && mv {files[0]} {folder}/"
        else:
            new = f"{rng.choice(WORDS)}-{rng.randrange(10, 100)}.txt"
            while new in files:
                new = f"{rng.choice(WORDS)}-{rng.randrange(10, 100)}.txt"
            goal = {"kind": kind, "file": files[1], "new": new}
            instruction = f"In the terminal, rename {files[1]} to {new}."
            command = f"mv {files[1]} {new}"
        return instruction, files, goal, command

    def setup(self, env, seed: int) -> str:
        if shutil.which("xterm") is None:
            raise RuntimeError("xterm is not installed: sudo apt-get install -y xterm")
        rng = self.rng(seed)
        instruction, files, self.goal, self.command = self.generate(rng)
        self.home = Path(env.workdir) / "home"
        self.home.mkdir()
        for name in files:
            (self.home / name).write_text(f"{name[:-4]}\n")
        control = Path(env.workdir) / "xterm"
        control.mkdir()
        ready = control / "ready"
        (control / "bashrc").write_text(f"PS1='$ '\ntouch {shlex.quote(str(ready))}\n")
        x, y = rng.randrange(20, 380), rng.randrange(20, 300)
        self.window_title = f"Terminal {seed}"
        self.xterm = env.launch(["xterm", "-geometry", f"64x16+{x}+{y}", "-fa", "DejaVu Sans Mono", "-fs", "11",
                                 "-bg", "white", "-fg", "black", "-T", self.window_title, "-e",
                                 "bash", "--noprofile", "--rcfile", str(control / "bashrc"), "-i"],
                                cwd=self.home, env={"HISTFILE": "/dev/null"})
        deadline = time.monotonic() + 20
        while not ready.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("xterm's shell did not start within 20 s")
            time.sleep(0.03)
        self.window = self.geometry(env)
        return instruction

    def geometry(self, env) -> tuple[int, int, int, int]:
        """The xterm window's box on screen, asked of the X server with xdotool (privileged)."""
        wid = env.xdotool("search", "--sync", "--onlyvisible", "--name", self.window_title).split()[0]
        shell = dict(line.split("=", 1) for line in env.xdotool("getwindowgeometry", "--shell", wid).split())
        x, y, w, h = (int(shell[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        return x, y, x + w, y + h

    def shell_busy(self) -> bool:
        """Is there typed input the shell has not read yet, or a command still running? (privileged: /proc
        and the terminal's input queue)"""
        shells = _children(self.xterm.pid)
        if not shells:
            return False
        if _children(shells[0]):
            return True
        try:
            fd = os.open(os.readlink(f"/proc/{shells[0]}/fd/0"), os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return False
        try:
            return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0] > 0
        finally:
            os.close(fd)

    def validate(self, env) -> tuple[float, bool, dict]:
        g, home = self.goal, self.home
        if g["kind"] == "write":
            path = home / g["file"]
            ok = path.is_file() and path.read_text().strip() == g["text"]
        elif g["kind"] == "mkdir":
            ok = (home / g["dir"] / g["file"]).is_file() and not (home / g["file"]).exists()
        else:
            ok = (home / g["new"]).is_file() and not (home / g["file"]).exists()
        return (1.0, True, {}) if ok else (0.0, False, {})

    def teacher(self, obs, env):
        if self.shell_busy():
            return "The shell has not finished reading or running the typed command; wait for it.", A.Wait(0.5)
        p = center(self.window)
        return (f"The terminal is at {at(p)}; click it, type `{self.command}` and press Enter.",
                A.Type(self.command + "\n", at=p))


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


TASK_CLASSES = (FormTask, SettingsTask, ListFilterTask, ListScrollTask, SortTask, DragTask, EditorTask, CalcTask,
                TodoTask, FilesTask, SliderTask, XtermTask)
