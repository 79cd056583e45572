"""The desktop env on a real Xvfb: the conformance test, every primitive seen by a real Tk window, OCR, each
task's teacher on seeds 0..2, and a resumed bench run. Skipped only where Xvfb is not installed."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from agent.bench import BenchConfig
from core import actions as A
from envs.check_env import check_env

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None,
                                reason="Xvfb is not installed (sudo apt-get install -y xvfb xdotool xterm)")

from envs.desktop import DesktopEnv, Xvfb, desktop_keys  # noqa: E402
from envs.tasks.desktop import DESKTOP_TASKS, desktop_task, resolve_desktop_tasks  # noqa: E402
from agent.desktop_bench import run_desktop_bench  # noqa: E402


@pytest.fixture(scope="module")
def xvfb():
    with Xvfb() as x:
        yield x


@pytest.fixture(scope="module")
def env(xvfb):
    e = DesktopEnv(xvfb=xvfb, ocr=False)
    yield e
    e.close()


# -- the X server -------------------------------------------------------------------------------------------

def test_xvfb_takes_a_free_display_and_gives_it_back(xvfb):
    assert xvfb.display != os.environ.get("DISPLAY")
    n = int(xvfb.display[1:])
    assert Path(f"/tmp/.X11-unix/X{n}").exists()
    other = Xvfb(size=(320, 240)).start()  # the next one skips the taken number
    m = int(other.display[1:])
    assert m != n and Path(f"/tmp/.X11-unix/X{m}").exists()
    other.stop()
    assert not other.alive and not Path(f"/tmp/.X11-unix/X{m}").exists()


# -- the conformance test, with OCR elements ------------------------------------------------------------------

def test_check_env(xvfb):
    with DesktopEnv(desktop_task("form-save"), xvfb=xvfb, ocr=True) as e:
        check_env(e)
        texts = [el.text for el in e.obs.elements]
        assert "Save" in texts and "Name:" in texts, texts


def test_ocr_reads_the_window_with_boxes(xvfb):
    """OCR's boxes land on the widgets the app reports (its own geometry, in screen pixels)."""
    task = desktop_task("settings-apply")
    with DesktopEnv(task, xvfb=xvfb, ocr=True) as e:
        obs, _ = e.reset(seed=1)
        state = task.state()
        by_text = {el.text: el for el in obs.elements}
        for c in task.spec["checks"]:
            assert c["label"] in by_text, (c["label"], list(by_text))
            x, y = by_text[c["label"]].center
            x0, y0, x1, y1 = state["widgets"][f"check:{c['key']}"]
            assert x0 <= x <= x1 and y0 <= y <= y1
        x, y = by_text["Apply"].center
        x0, y0, x1, y1 = state["widgets"]["apply"]
        assert x0 <= x <= x1 and y0 <= y <= y1
        # An element reference clicks the OCR box: 'Dark mode' etc. toggle like a pointed click.
        label = task.spec["checks"][0]["label"]
        before = task.state()["checks"]["c0"]
        obs, *_ = e.step(A.Click(A.ElementRef(text=label)))
        assert obs.last_action_error == ""
        assert task.state()["checks"]["c0"] != before


def test_text_fields_are_listed_where_the_app_has_them(xvfb):
    """The form's three empty fields are textboxes in reading order after their labels, centred on the app's own
    boxes; a typed value becomes the field's text, and the student form of the teacher's typing copies the
    field's listed centre."""
    from models.student_form import student_action

    task = desktop_task("form-save")
    with DesktopEnv(task, xvfb=xvfb, ocr=True) as e:
        obs, _ = e.reset(seed=5)
        roles = [(el.role, el.text) for el in obs.elements]
        for label in ("Name:", "Email:", "City:"):
            assert roles[roles.index(("text", label)) + 1] == ("textbox", ""), roles
        state = task.state()
        boxes = [el for el in obs.elements if el.role == "textbox"]
        for el, key in zip(boxes, ("name", "email", "city")):
            x0, y0, x1, y1 = state["widgets"][f"field:{key}"]
            assert abs(el.center[0] - (x0 + x1) / 2) <= 1 and abs(el.center[1] - (y0 + y1) / 2) <= 1
        _, action = task.teacher(obs, e)
        assert student_action(action, obs.elements).at == boxes[0].center
        obs, *_ = e.step(action)
        first = [el for el in obs.elements if el.role == "textbox"][0]
        assert first.text == task.goal["name"], obs.elements


def test_the_editor_is_a_box_the_student_can_copy(xvfb):
    """A multi-line editor is a framed light area taller than a field: a ``box`` centred on the app's own text
    widget, and the teacher's typing into it copies that centre in the student form."""
    from models.student_form import student_action

    task = desktop_task("text-editor-save")
    with DesktopEnv(task, xvfb=xvfb, ocr=True) as e:
        for seed in range(6):  # an empty editor, and one holding a sentence to replace
            obs, _ = e.reset(seed=seed)
            boxes = [el for el in obs.elements if el.role == "box"]
            assert len(boxes) == 1 and not [el for el in obs.elements if el.role == "textbox"], obs.elements
            x0, y0, x1, y1 = task.state()["widgets"]["text"]
            assert abs(boxes[0].center[0] - (x0 + x1) / 2) <= 1 and abs(boxes[0].center[1] - (y0 + y1) / 2) <= 1
            _, action = task.teacher(obs, e)
            assert student_action(action, obs.elements).at == boxes[0].center, (seed, action)


# -- every primitive, seen by a real Tk window ----------------------------------------------------------------

PROBE = r'''
import json, sys, tkinter as tk
log = open(sys.argv[1], "a", buffering=1)
def note(kind, **kw):
    log.write(json.dumps({"kind": kind, **kw}) + "\n")
root = tk.Tk()
root.geometry("+40+40")
root.option_add("*insertOffTime", 0)
entry = tk.Entry(root, width=30, font=("DejaVu Sans", 12)); entry.pack(padx=10, pady=10)
pad = tk.Canvas(root, width=300, height=160, background="white"); pad.pack(padx=10)
lb = tk.Listbox(root, height=5, width=30); lb.pack(padx=10, pady=10)
for i in range(60): lb.insert("end", f"row {i}")
button = tk.Button(root, text="Press me", command=lambda: note("button")); button.pack(pady=(0, 10))
pad.bind("<ButtonPress-1>", lambda e: note("press", x=e.x_root, y=e.y_root))
pad.bind("<B1-Motion>", lambda e: note("motion", x=e.x_root, y=e.y_root))
pad.bind("<ButtonRelease-1>", lambda e: note("release", x=e.x_root, y=e.y_root))
pad.bind("<Double-Button-1>", lambda e: note("double", x=e.x_root, y=e.y_root))
pad.bind("<Button-3>", lambda e: note("right", x=e.x_root, y=e.y_root))
pad.bind("<Enter>", lambda e: note("enter", x=e.x_root, y=e.y_root))
entry.bind("<Return>", lambda e: note("return", text=entry.get()))
entry.bind("<Escape>", lambda e: note("escape"))
entry.bind("<Control-Key-a>", lambda e: (entry.selection_range(0, "end"), note("ctrl-a"), "break")[-1])
def publish():
    boxes = {n: [w.winfo_rootx(), w.winfo_rooty(),
                 w.winfo_rootx() + w.winfo_width(), w.winfo_rooty() + w.winfo_height()]
             for n, w in (("entry", entry), ("pad", pad), ("list", lb), ("button", button))}
    state = {"boxes": boxes, "entry": entry.get(), "first_row": lb.nearest(0), "mapped": root.winfo_viewable()}
    with open(sys.argv[2] + ".tmp", "w") as f: json.dump(state, f)
    import os; os.replace(sys.argv[2] + ".tmp", sys.argv[2])
    root.after(30, publish)
root.after(30, publish)
root.mainloop()
'''


class ProbeTask:
    id = "probe"
    title = "probe"

    def setup(self, env, seed):
        folder = Path(env.workdir)
        (folder / "probe.py").write_text(PROBE)
        self.log, self.state_path = folder / "events.jsonl", folder / "state.json"
        env.launch([sys.executable, str(folder / "probe.py"), str(self.log), str(self.state_path)])
        deadline = time.monotonic() + 20
        while not (self.state_path.exists() and self.state()["mapped"]):
            assert time.monotonic() < deadline, "the probe window never showed"
            time.sleep(0.03)
        return "Exercise every primitive."

    def state(self):
        try:
            return json.loads(self.state_path.read_text())
        except (FileNotFoundError, ValueError):
            return {"mapped": False}

    def events(self, kind=None):
        lines = [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []
        return [e for e in lines if kind is None or e["kind"] == kind]

    def validate(self, env):
        return 0.0, False, {}


def _center(box):
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


def test_every_primitive_reaches_a_real_window(env):
    probe = ProbeTask()
    obs, _ = env.reset(seed=0, options={"task": probe})
    boxes = probe.state()["boxes"]
    entry, pad, lst, button = (_center(boxes[k]) for k in ("entry", "pad", "list", "button"))

    def step(action):
        obs, reward, terminated, truncated, info = env.step(action)
        assert obs.last_action_error == "", (action, obs.last_action_error)
        return obs

    step(A.Click(button))
    assert len(probe.events("button")) == 1

    step(A.Type("Hello, World! 42", at=entry))
    assert probe.state()["entry"] == "Hello, World! 42"
    step(A.Hover((pad[0] - 100, pad[1])))  # the pointer leaves the field: the keys still go to the window
    step(A.Type(" héllo wörld"))  # non-ASCII goes through xdotool
    assert probe.state()["entry"] == "Hello, World! 42 héllo wörld"
    step(A.Hotkey("ctrl a"))
    assert probe.events("ctrl-a")
    step(A.Type("replaced\n"))  # typing replaces the selection; the trailing newline presses Enter
    assert probe.state()["entry"] == "replaced"
    assert probe.events("return")[-1]["text"] == "replaced"
    step(A.Hotkey("esc"))
    assert probe.events("escape")

    step(A.Hover(pad))
    assert probe.events("enter")
    step(A.DoubleClick(pad))
    assert probe.events("double")[-1] == {"kind": "double", "x": pad[0], "y": pad[1]}
    step(A.RightClick((pad[0] + 20, pad[1])))
    assert probe.events("right")[-1] == {"kind": "right", "x": pad[0] + 20, "y": pad[1]}

    start, end = (pad[0] - 100, pad[1] - 50), (pad[0] + 100, pad[1] + 40)
    n_motion = len(probe.events("motion"))
    step(A.Drag(start, end))
    assert probe.events("press")[-1] == {"kind": "press", "x": start[0], "y": start[1]}
    assert probe.events("release")[-1] == {"kind": "release", "x": end[0], "y": end[1]}
    assert len(probe.events("motion")) - n_motion >= 5  # it moved in steps, as a hand does

    step(A.Scroll("down", at=lst))
    assert probe.state()["first_row"] > 0
    step(A.Scroll("up", at=lst))
    assert probe.state()["first_row"] == 0

    t0 = time.monotonic()
    step(A.Wait(0.3))
    assert time.monotonic() - t0 >= 0.3

    for action, words in ((A.Goto("https://example.com"), "browser"), (A.Back(), "browser"),
                          (A.Select(pad, "x"), "browser"), (A.Hotkey("ctrl nosuchkey"), "unknown key"),
                          (A.Click((5000, 10)), "outside"), (A.PressHome(), "cannot run")):
        obs, *_ = env.step(action)
        assert words in obs.last_action_error, (action, obs.last_action_error)
    obs, *_ = env.step(A.Wait(0))
    assert obs.last_action_error == ""


def test_keys_map_to_pyautogui_names():
    assert desktop_keys("ctrl shift T") == ["ctrl", "shift", "t"]
    assert desktop_keys("Return") == ["enter"]
    assert desktop_keys("escape") == ["esc"]
    assert desktop_keys("cmd+F5") == ["win", "f5"]


def test_failsafe_stays_on_for_a_display_that_is_not_our_sandbox(xvfb):
    with DesktopEnv(display=xvfb.display, ocr=False) as e:  # "a real display": one we were pointed at
        assert not e.sandbox
        obs, *_ = e.reset(seed=0, options={"task": ProbeTask()})
        e.step(A.Wait(0))
        import pyautogui

        assert pyautogui.FAILSAFE is True
    assert xvfb.alive  # an env never stops a server it did not start


# -- tasks ----------------------------------------------------------------------------------------------------

def test_registry_and_seeds():
    assert len(DESKTOP_TASKS) >= 8
    assert [t.id for t in resolve_desktop_tasks("calculator,form-save")] == ["calculator", "form-save"]
    with pytest.raises(KeyError):
        resolve_desktop_tasks("no-such-task")
    import random

    task = desktop_task("form-save")
    assert task.generate(random.Random("form-save:3")) == task.generate(random.Random("form-save:3"))
    assert task.generate(random.Random("form-save:3")) != task.generate(random.Random("form-save:4"))


@pytest.mark.parametrize("task_id", sorted(DESKTOP_TASKS))
def test_teacher_solves_seeds_0_to_2(env, task_id):
    task = desktop_task(task_id)
    for seed in range(3):
        obs, _ = env.reset(seed=seed, options={"task": task})
        reward, done, steps, log = 0.0, False, 0, []
        while not done:
            thought, action = task.teacher(obs, env)
            assert thought and "\n" not in thought
            obs, reward, terminated, truncated, _ = env.step(action)
            log.append(f"{thought} -> {A.format_action(action)} {obs.last_action_error}")
            steps += 1
            done = terminated or truncated or steps >= 12
        assert reward == 1.0, f"{task_id} seed {seed}: {obs.instruction}\n" + "\n".join(log)


def test_bench_resumes(env, tmp_path):
    cfg = BenchConfig(policy="teacher", tasks="context-menu,xterm-command", seeds=2, out=str(tmp_path), quiet=True)
    summary = run_desktop_bench(cfg, env=env)
    assert summary["episodes"] == 4 and summary["new_episodes"] == 4 and summary["mean_success"] == 1.0
    results = tmp_path / "results.jsonl"
    lines = results.read_text().splitlines()
    assert {"task", "seed", "success", "reward", "steps", "seconds", "error"} <= set(json.loads(lines[0]))
    results.write_text("\n".join(lines[:3]) + "\n" + lines[3][:10])  # a run killed mid-write
    summary = run_desktop_bench(cfg, env=env)
    assert summary["new_episodes"] == 1 and summary["episodes"] == 4 and summary["mean_success"] == 1.0
    assert (tmp_path / "summary.json").exists() and (tmp_path / "success.png").exists()


def test_a_dead_sandbox_is_replaced_on_reset():
    with DesktopEnv(desktop_task("context-menu"), ocr=False) as e:
        e.reset(seed=0)
        old = e.display
        e._xvfb.proc.kill()
        e._xvfb.proc.wait()
        obs, _ = e.reset(seed=1)
        _, action = e.task.teacher(obs, e)
        obs, *_ = e.step(action)
        assert obs.last_action_error == "" and e.task.state()["menu"]["posted"], (old, e.display)


def test_xterm_teacher_waits_for_a_busy_shell(env):
    task = desktop_task("xterm-command")
    obs, _ = env.reset(seed=0, options={"task": task})
    obs, *_ = env.step(A.Type("sleep 1.5\n", at=(task.window[0] + 40, task.window[1] + 40)))
    thought, action = task.teacher(obs, env)
    assert isinstance(action, A.Wait) and "wait" in thought
    time.sleep(1.6)
    _, action = task.teacher(obs, env)
    assert isinstance(action, A.Type) and action.content.endswith("\n")


def test_a_list_of_actions_is_one_turn(env):
    task = desktop_task("form-save")
    env.reset(seed=5, options={"task": task})
    state = task.state()
    batch = [A.Type(task.goal[k], at=_center(state["widgets"][f"field:{k}"])) for k in ("name", "email", "city")]
    batch.append(A.Click(_center(state["widgets"]["save"])))
    obs, reward, terminated, truncated, info = env.step(batch)
    assert (reward, terminated, env.steps) == (1.0, True, 1), (obs.last_action_error, info)
