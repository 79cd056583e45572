"""BrowserEnv against a real Chromium: every primitive on a local page, MiniWoB episodes, check_env."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core import actions as A
from core.env import ActionError, Element, resolve_target
from envs import browser as browser_module
from envs.check_env import check_env
from envs.tasks import WEBGUM56, miniwob_task, registered_task_names, resolve_tasks, task_dir_tasks
from envs.tasks.web import WebTask

PAGES = Path(__file__).parent / "pages"
EXAMPLES = Path(__file__).parents[1] / "envs" / "tasks" / "examples"


def page_log(env) -> str:
    return env.page.evaluate("() => document.getElementById('log').textContent")


def center_of(obs, text):
    return next(e for e in obs.elements if e.text == text).center


def test_registered_suites():
    names = registered_task_names()
    assert len(names) == 125
    assert len(WEBGUM56) == 56 and set(WEBGUM56) <= set(names)
    assert not any(n.startswith("flight") for n in names)  # the 3 flight tasks need http


def test_check_env_miniwob(make_env):
    check_env(make_env(miniwob_task("click-button")))


def test_check_env_user_task_dir(make_env):
    (task,) = task_dir_tasks(EXAMPLES)
    env = make_env(task)
    check_env(env, seed=3)
    obs, _ = env.reset(seed=3)
    assert obs.instruction.startswith('Type "Hello ')
    assert obs.screenshot.size == (160, 210)


def test_every_primitive_on_a_real_page(make_env):
    env = make_env(WebTask((PAGES / "controls.html").as_uri(), "exercise the controls"), max_steps=50)
    obs, _ = env.reset()
    assert obs.screenshot.size == (500, 320) and obs.title == "Controls"
    obs, *_ = env.step(A.Click(center_of(obs, "One")))
    obs, *_ = env.step(A.DoubleClick(center_of(obs, "Two")))
    obs, *_ = env.step(A.RightClick(center_of(obs, "Three")))
    field = next(e for e in obs.elements if e.role == "textbox")
    obs, *_ = env.step(A.Type("Ada\n", at=field.center))
    obs, *_ = env.step(A.Hotkey("ctrl k"))
    combo = next(e for e in obs.elements if e.role == "combobox")
    obs, *_ = env.step(A.Select(combo.center, "canada"))
    assert next(e for e in obs.elements if e.role == "combobox").text == "Canada"
    obs, *_ = env.step(A.Hover((25, 215)))
    obs, *_ = env.step(A.Drag((25, 215), (125, 215)))
    assert obs.last_action_error == ""
    assert page_log(env) == ("click one;dblclick two;context three;enter Ada;ctrl k;chose Canada;"
                             "hover box;dropped 110;")
    scroller = env.page.evaluate("() => { const r = document.getElementById('scroller').getBoundingClientRect();"
                                 " return [r.left + 40, r.top + 30]; }")
    obs, *_ = env.step(A.Scroll("down", at=tuple(int(v) for v in scroller)))
    assert env.page.evaluate("() => document.getElementById('scroller').scrollTop") > 0


def test_element_references_resolve_or_explain(make_env):
    env = make_env(WebTask((PAGES / "controls.html").as_uri()), max_steps=50)
    obs, _ = env.reset()
    obs, *_ = env.step(A.Click(A.ElementRef(text="one")))  # case-insensitive text match
    obs, *_ = env.step(A.Click(A.ElementRef(text="Dup")))
    assert "2 elements have the text 'Dup'" in obs.last_action_error and "nth" in obs.last_action_error
    obs, *_ = env.step(A.Click(A.ElementRef(text="Dup", nth=1)))
    idx = next(e.id for e in obs.elements if e.text == "Three")
    obs, *_ = env.step(A.RightClick(A.ElementRef(index=idx)))
    assert page_log(env) == "click one;click dup 1;context three;"
    obs, *_ = env.step(A.Type("x", at=A.ElementRef(text="no such thing")))
    assert obs.last_action_error == "no element has the text 'no such thing'"


def test_resolve_target_errors_are_for_the_model():
    els = [Element(0, "button", "OK", (0, 0, 10, 10)), Element(1, "button", "OK", (20, 0, 30, 10))]
    assert resolve_target((3, 4), els) == (3, 4)
    assert resolve_target(A.ElementRef(text="ok", nth=1), els) == (25, 5)
    with pytest.raises(ActionError, match="no element 7"):
        resolve_target(A.ElementRef(index=7), els)
    with pytest.raises(ActionError, match="nth=5"):
        resolve_target(A.ElementRef(text="OK", nth=5), els)


def test_miniwob_episode_reward_and_truncation(make_env):
    env = make_env(miniwob_task("click-test-2"), max_steps=2)
    obs, _ = env.reset(seed=7)
    assert obs.instruction == "Click button ONE."
    assert obs.screenshot.size == (160, 210)
    obs, reward, term, trunc, _ = env.step(A.Click((2, 2)))  # the instruction band: nothing happens
    assert (reward, term, trunc) == (0.0, False, False)
    obs, reward, term, trunc, _ = env.step(A.Click((2, 2)))
    assert (reward, term, trunc) == (0.0, False, True)
    obs, _ = env.reset(seed=7)
    obs, reward, term, trunc, _ = env.step(A.Click(A.ElementRef(text="ONE")))
    assert reward == 1.0 and term and not trunc
    with pytest.raises(RuntimeError, match="episode is over"):
        env.step(A.Wait(0))
    obs, _ = env.reset(seed=8)
    obs, reward, term, *_ = env.step(A.Click(A.ElementRef(text="TWO")))
    assert reward == -1.0 and term


def test_multi_action_turn_stops_when_the_episode_ends(make_env):
    env = make_env(miniwob_task("click-test"))
    obs, _ = env.reset(seed=1)
    button = A.ElementRef(text="Click Me!")
    obs, reward, term, *_ = env.step([A.Click(button), A.Click(button), A.Click(button)])
    assert reward == 1.0 and term
    # the extra clicks would have started the next episode from the START screen
    assert env.page.evaluate("() => WOB_DONE_GLOBAL") is True


def test_page_timer_is_disabled(make_env):
    env = make_env(miniwob_task("click-button"))
    env.reset(seed=0)
    assert env.page.evaluate("() => core.EPISODE_MAX_TIME") >= 1e9


def test_task_specs():
    assert [t.id for t in resolve_tasks("click-button,enter-text")] == ["click-button", "enter-text"]
    with pytest.raises(KeyError, match="nope"):
        resolve_tasks("click-button,nope")
    mixed = resolve_tasks("click-button,cookie-notice,widget-tabs")  # MiniWoB ids beside the project's pages
    assert [t.id for t in mixed] == ["click-button", "cookie-notice", "widget-tabs"]
    assert [t.url.split("/")[-2:] for t in mixed[1:]] == [["tasks", "cookie-notice.html"], ["tasks", "widget-tabs.html"]]
    teachers = resolve_tasks("teachers")
    assert len(teachers) >= 6 and all(t.has_teacher for t in teachers)


# -- navigation: a turn that starts one observes where it lands -------------------------------------------------

FORM = (Path(__file__).parent / "pages" / "form-submit.html").as_uri()


@pytest.mark.parametrize("query, submit", [("", A.Type("cats\n", at=A.ElementRef(text="Query"))),
                                           ("?delay=300", A.Type("cats\n", at=A.ElementRef(text="Query"))),
                                           ("?delay=300", [A.Type("cats", at=A.ElementRef(text="Query")),
                                                           A.Hotkey("enter")])],
                         ids=["enter-submits", "script-submits-later-typed-enter", "script-submits-later-hotkey"])
def test_a_submitted_form_is_observed_on_its_new_page(make_env, query, submit):
    """The very turn that presses Enter sees the next page, even when the page's script sends the form 300 ms
    later (before, the turn observed the old page and the model acted on it once more)."""
    env = make_env(WebTask(FORM + query, "x"))
    obs, _ = env.reset()
    assert obs.title == "Search form"
    obs, *_ = env.step(submit)
    assert obs.title == "Results" and "form-arrived.html?q=cats" in obs.url, (obs.title, obs.url)
    assert "Results for cats" in [e.text for e in obs.elements]


def test_an_action_that_goes_nowhere_is_not_held_up(make_env, monkeypatch):
    env = make_env(WebTask(FORM + "?stay=1", "x"))
    env.reset()
    t0 = time.perf_counter()
    obs, *_ = env.step(A.Type("cats\n", at=A.ElementRef(text="Query")))  # a submit the page keeps to itself
    assert obs.title == "Handled here" and obs.url.endswith("?stay=1")
    assert time.perf_counter() - t0 < browser_module.NAVIGATION_GRACE_S + 2.5  # waited the grace at most
    monkeypatch.setattr(browser_module, "NAVIGATION_GRACE_S", 4.0)  # so that any wait would show, even under load
    t0 = time.perf_counter()
    env.step(A.Click(A.ElementRef(text="Query")))  # no submit, no link: nothing to wait for
    assert time.perf_counter() - t0 < 3.0


PAGE_SCRIPTS = [
    ("() => 1.5", None), ("() => [1, undefined, null, 'a']", None), ("() => ({a: undefined, b: [NaN, -0, Infinity]})", None),
    ("() => document.body", None), ("() => window", None), ("() => ({f: () => 1, g: 2})", None), ("() => new Date(0)", None),
    ("() => /ab+c/gi", None), ("() => new Error('boom')", None), ("(x) => x", {"a": [1, 2.5, "s", None, True]}),
    ("async (s) => { await new Promise(r => setTimeout(r, 5)); return s + '!'; }", "hi"), ("() => 10n", None),
    ("() => { const o = {a: 1}; o.self = o; return o; }", None), ("() => new Uint8Array([1, 2, 3])", None),
    ("() => ({toJSON: () => 5})", None), ("function () { return 7; }", None), ("document.title", None), ("1; 2", None),
    ("(a) => a", float("nan")), ("() => core.getUtterance()", None),
]


@pytest.mark.parametrize("js, arg", PAGE_SCRIPTS)
def test_page_scripts_mean_what_page_evaluate_means(make_env, js, arg):
    """env.page.evaluate goes through the page's DevTools session (envs/page_script.py): the same values back."""
    env = make_env(miniwob_task("click-button"))
    env.reset(seed=0)
    assert repr(env.page.evaluate(js, arg)) == repr(env.browser.call(env._page.evaluate(js, arg)))


def test_a_page_script_that_throws_raises(make_env):
    from playwright.async_api import Error as PlaywrightError

    env = make_env(miniwob_task("click-button"))
    env.reset(seed=0)
    with pytest.raises(PlaywrightError, match="TypeError"):
        env.page.evaluate("() => null.x")
