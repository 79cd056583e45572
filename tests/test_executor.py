"""The Executor seam (envs/executor.py): every action kind dispatched on both executors, a real Chromium and a real
Xvfb, and the shared meanings (key combinations, submit, scroll steps, waits) that dispatch gives them."""

from __future__ import annotations

import importlib.util
import re
import shutil
import time
from pathlib import Path

import pytest

from core import actions as A
from core.env import ActionError, Executor
from envs.browser import BrowserEnv, playwright_key
from envs.desktop import DesktopEnv, _key_codes, desktop_keys
from envs.executor import HANDLERS, KEY_ALIASES, dispatch, parse_keys
from envs.tasks.web import WebTask

PAGES = Path(__file__).parent / "pages"
PRIMITIVES = [name for name in vars(Executor) if not name.startswith("_")]
MOBILE = (A.LongPress, A.OpenApp, A.PressHome, A.PressBack)
BROWSER_ONLY = (A.Goto, A.Back, A.Select)


def every_action(page_url: str) -> list:
    """One action of every kind, from its docstring example; goto opens a local page (no network here)."""
    return [A.Goto(page_url) if cls is A.Goto else A.parse_action(A.example(cls)) for cls in A.ALL_ACTIONS]


# -- the shared meanings, on a recording executor ---------------------------------------------------------------

class Recorder:
    """An executor that writes down the primitives dispatch calls, to check what each action means."""

    screen, where = (10, 20, 160, 210), "here"

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        if name in PRIMITIVES or name in ("select", "goto", "back"):
            return lambda *args: self.calls.append((name, *args))
        raise AttributeError(name)


@pytest.mark.parametrize("action, calls", [
    (A.Click((5, 6)), [("click", 15, 26)]),
    (A.Type("hi\n", at=(1, 2)), [("click", 11, 22), ("type_text", "hi"), ("press", ["enter"])]),
    (A.Type("a\nb"), [("type_text", "a\nb")]),  # only a trailing newline submits
    (A.Scroll("left", at=(0, 0)), [("move", 10, 20), ("scroll", -1, 0)]),
    (A.Scroll("down"), [("scroll", 0, 1)]),
    (A.Wait(99), [("wait", 10.0)]),
    (A.Wait(-1), [("wait", 0.0)]),
    (A.Hotkey("Control+Shift+T"), [("press", ["ctrl", "shift", "T"])]),
    (A.Drag((0, 0), (159, 209)), [("drag", 10, 20, 169, 229)]),
    (A.Select((3, 3), "Canada"), [("select", 13, 23, "Canada")]),
    (A.Finished("done"), []),
])
def test_dispatch_gives_each_action_one_meaning(action, calls):
    ex = Recorder()
    dispatch(action, ex, [])
    assert ex.calls == calls


def test_dispatch_refuses_what_cannot_run_before_anything_runs():
    ex = Recorder()
    for action, words in ((A.Click((160, 0)), "outside the screen, which is 160x210"),
                          (A.Scroll("sideways"), "scroll direction"), (A.Hotkey("ctrl nosuchkey"), "unknown key"),
                          (A.PressHome(), "press_home() cannot run here")):
        with pytest.raises(ActionError, match=re.escape(words)):
            dispatch(action, ex, [])
    assert ex.calls == []


@pytest.mark.parametrize("combo, keys", [
    ("ctrl c", ["ctrl", "c"]), ("Return", ["enter"]), ("cmd+F5", ["meta", "f5"]), ("esc", ["escape"]),
    ("pgdn", ["pagedown"]), ("ArrowUp", ["up"]), ("ctrl S", ["ctrl", "S"]), ("super", ["meta"]),
])
def test_key_combinations_are_read_once(combo, keys):
    assert parse_keys(combo) == keys


@pytest.mark.parametrize("combo", ["", "  ", "ctrl nosuchkey", "f25", "ctrl+\x07"])
def test_unknown_keys_are_errors_the_model_reads(combo):
    with pytest.raises(ActionError):
        parse_keys(combo)


def test_every_action_kind_has_a_meaning_or_says_why_not():
    assert set(HANDLERS) | set(MOBILE) == set(A.ALL_ACTIONS)


# -- both real executors ----------------------------------------------------------------------------------------

def outcome(env, action) -> str:
    obs, *_ = env.step(action)
    return obs.last_action_error


def test_every_action_kind_on_a_real_browser(make_env):
    env: BrowserEnv = make_env(WebTask((PAGES / "controls.html").as_uri(), "every action"), max_steps=100)
    assert all(callable(getattr(env, p)) for p in PRIMITIVES) and env.screen == (0, 0, 500, 320)
    env.reset()
    for action in every_action((PAGES / "controls.html").as_uri()):
        error = outcome(env, action)
        if isinstance(action, MOBILE):
            assert error == f"{A.NAMES[type(action)]}() cannot run in a browser"
        elif isinstance(action, A.Select):  # the example's point holds no list here: the page says so
            assert error == "there is no drop-down list at that point"
        else:
            assert error == "", (action, error)


def test_every_canonical_key_presses_in_a_browser(make_env):
    env = make_env(WebTask((PAGES / "controls.html").as_uri()), max_steps=100)
    env.reset()
    for key in sorted(set(KEY_ALIASES.values()) - {"meta", "menu"}) + ["f5", "T"]:
        assert outcome(env, A.Hotkey(key)) == "", key
    assert playwright_key("meta") == "Meta" and playwright_key("f12") == "F12"


@pytest.mark.skipif(shutil.which("Xvfb") is None or importlib.util.find_spec("pyautogui") is None,
                    reason="Xvfb or the desktop extra is not installed")
def test_every_action_kind_on_a_real_display():
    class Blank:  # an empty desktop: the actions land on the root window
        id, title = "blank", "blank"

        def setup(self, env, seed):
            return "Do anything."

        def validate(self, env):
            return 0.0, False, {}

    with DesktopEnv(Blank(), ocr=False, max_steps=100, settle=0.0, settle_max=0.1) as env:
        assert all(callable(getattr(env, p)) for p in PRIMITIVES) and env.screen == (0, 0, 1024, 768)
        env.reset(seed=0)
        for action in every_action("file:///"):
            t0 = time.monotonic()
            error = outcome(env, action)
            if isinstance(action, MOBILE):
                assert error == f"{A.NAMES[type(action)]}() cannot run on a desktop"
            elif isinstance(action, BROWSER_ONLY):
                assert error.startswith(f"{A.NAMES[type(action)]}() works only in a browser")
            else:
                assert error == "", (action, error)
            if isinstance(action, A.Wait):
                assert time.monotonic() - t0 >= action.seconds
        names = [desktop_keys(k)[0] for k in sorted(set(KEY_ALIASES.values()))]
        assert all(_key_codes().get(n) is not None for n in names), names  # every canonical key has a key code
