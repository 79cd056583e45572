"""The pages written here (envs/tasks/unseen, envs/tasks/web, envs/tasks/widgets): their teachers solve them, a wrong
way fails, a seed fixes the episode, and the full-size ones run at full size, in the bench and through WebTask
(screenwise run)."""

from __future__ import annotations

import pytest

from agent.bench import BenchConfig, run_bench
from core.elements import LIST_LIMIT, describe_elements, listed_elements
from core import actions as A
from core.env import resolve_target
from envs.tasks import (
    PAGE_DIRS, UNSEEN_PAGES, WEB_TRAIN_PAGES, WEB_UNSEEN_PAGES, never_train_ids, registered_task_names, task_dir_tasks,
)
from envs.tasks.web import WebTask
from envs.teachers.dom import first
from models.student_form import student_action

PAGES = {t.id: t for d in PAGE_DIRS for t in task_dir_tasks(d)}
TEACHER_SEEDS = (20000, 20001)

# A wrong way through each page, as steps whose selectors and texts are JS expressions read from the page's own
# episode (privileged, like the teachers): ("click", sel), ("type", sel, text), ("select", sel, option),
# ("key", combo). Each ends the episode in a state the instruction did not ask for, so the checker must say -1.
WRONG = {
    "toggle-settings": [("click", "'#save'")],  # nothing switched
    "star-rating": [("click", "'#send'")],  # the rating left as it was
    "quantity-stepper": [("click", "'#update'")],
    "delivery-day": [("click", "'#c' + ((target + 1) % labels.length)"), ("click", "'#confirm'")],
    "plan-wizard": [("click", "'#p' + ((want + 1) % 3)"), ("click", "'#next'"), ("click", "'#finish'")],
    "folder-path": [("click", "'#sub0'")],
    "plan-cards": [("click", "'#price' + ((target + 1) % 3)"), ("click", "'#go'")],
    "cookie-notice": [("click", "accept ? '#no' : '#yes'")],
    "sort-products": [("click", "'#apply'")],  # still "Featured"
    "photo-tags": [("click", "'#save'")],  # the two new tags missing
    "level-slider": [("click", "'#apply'")],
    "delete-file": [("click", "'#del' + ((target + 1) % 3)"), ("click", "'#yes'")],
    "signin": [("type", "'#user'", "user"), ("type", "'#pass'", "pass + '0'"), ("click", "'#signin'")],
    "site-search": [("type", "'#q'", "query"), ("click", "'#go'"),
                    ("click", "'#body .card:nth-of-type(' + (results(query).indexOf(wanted) === 0 ? 2 : 1) + ') a'")],
    "settings": [("click", "'#save'")],  # the two changes not made
    "newsletter": [("type", "'#email'", "email"), ("click", "'#sub'")],  # no topics ticked
    "cart": [("click", "'#checkout'")],
    "contact": [("type", "'#name'", "name"), ("click", "'#email'"), ("key", "ctrl a"), ("type", "'#email'", "email"),
                ("select", "'#topic'", "topic"), ("type", "'#msg'", "'Please call me back tomorrow.'"),
                ("click", "'#send'")],  # valid, but not the message asked for
    "account-login": [("click", "'#create'")],  # the other form
    "orders-table": [("click", "'#view' + orders.filter(o => o !== target)[0].id")],
    "checkout-steps": [("type", "'#name'", "want.name"), ("type", "'#street'", "want.street"),
                       ("type", "'#city'", "'Nowhere'"), ("type", "'#post'", "want.post"), ("click", "'#next'"),
                       ("click", "'#next'"), ("click", "'#place'")],
    "delete-confirm": [("click", "'#del' + ((target + 1) % projects.length)"),
                       ("type", "'#confirm-name'", "projects[(target + 1) % projects.length]"), ("click", "'#really'")],
    "book-appointment": [("select", "'#service'", "want.service"), ("click", "'#d' + ((want.day + 1) % 6)"),
                         ("click", "'#times button:not([disabled])'"), ("type", "'#who'", "want.name"),
                         ("click", "'#book'")],  # another day
    "address-book": [("click", "'#edit' + ((target + 1) % people.length)"), ("click", "'#save'")],
    "widget-switch": [("click", "'#done'")],  # nothing switched
    "widget-checkbox": [("click", "'#done'")],
    "widget-radio": [("click", "'#r' + ((target + 1) % names.length)"), ("click", "'#done'")],
    "widget-listbox": [("click", "'#o' + ((target + 1) % names.length)"), ("click", "'#done'")],
    "widget-select": [("click", "'#done'")],  # still the first option
    "widget-spinbutton": [("click", "'#done'")],
    "widget-slider": [("click", "'#done'")],
    "widget-tabs": [("click", "'#t' + ((tab + 1) % tabs.length)"),
                    ("click", "'#b' + ((tab + 1) % tabs.length) + '_0'")],
    "widget-accordion": [("click", "'#h' + ((sec + 1) % heads.length)"),
                         ("click", "'#b' + ((sec + 1) % heads.length) + '_0'")],
    "widget-menubutton": [("click", "'#m' + menu"),
                          ("click", "'#i' + menu + '_' + ((target + 1) % items[menu].length)")],
    "widget-dialog": [("click", "'#e' + target"), ("click", "'#ok'")],  # the old name kept
    "widget-alertdialog": [("click", "'#x' + ((target + 1) % names.length)"), ("click", "'#yes'")],
    "widget-breadcrumb": [("click", "'#s0'")],  # down, not up
    "widget-treeview": [("click", "'#done'")],  # nothing selected
    "widget-grid": [("click", "'#a' + ((target + 1) % rows.length)")],
    "widget-toolbar": [("click", "'#done'")],
    "widget-disclosure": [("type", "'#box'", "code + '9'"), ("click", "'#done'")],
    "widget-textbox": [("click", "'#done'")],  # nothing typed
    "widget-carousel": [("click", "(at + 1) % slides.length === target ? '#prev' : '#next'"), ("click", "'#go'")],
    "widget-link": [("click", "'#l' + ((target + 1) % names.length)")],
}


def assert_target_listed(obs, action) -> None:
    """What the student form of ``action`` points at is in the list the prompt shows (a long list is cut)."""
    at = getattr(student_action(action, obs.elements), "at", None)
    if at is None:
        return
    x, y = resolve_target(at, obs.elements) if isinstance(at, A.ElementRef) else at
    shown = listed_elements(obs.elements, obs.instruction)
    assert any(e.bbox[0] <= x < e.bbox[2] and e.bbox[1] <= y < e.bbox[3] for e in shown), (action, at)


def play_teacher(env, task, seed: int) -> float:
    obs, _ = env.reset(seed, options={"task": task})
    for _ in range(env.max_steps):
        _thought, action = task.teacher(obs, env.page)
        assert_target_listed(obs, action)
        obs, reward, done, truncated, _ = env.step(action)
        assert not obs.last_action_error, obs.last_action_error
        if done or truncated:
            return reward
    return 0.0


def wrong_action(page, step: tuple) -> A.Action:
    kind, *args = step
    if kind == "key":
        return A.Hotkey(args[0])
    el = first(page, page.evaluate(f"() => {args[0]}"))
    assert el is not None, f"{args[0]} is not on the page"
    at = (el["x"], el["y"])
    if kind == "click":
        return A.Click(at)
    value = page.evaluate(f"() => String({args[1]})")
    return A.Type(value, at=at) if kind == "type" else A.Select(at, value)


def test_every_page_has_a_wrong_way_and_no_id_clashes():
    assert set(WRONG) == set(PAGES)
    assert len(PAGES) == sum(len(list(d.glob("*.html"))) for d in PAGE_DIRS)  # no id in two folders
    assert not set(PAGES) & set(registered_task_names())
    assert len(task_dir_tasks(UNSEEN_PAGES)) >= 10 and len(PAGES) - len(task_dir_tasks(UNSEEN_PAGES)) >= 10
    held_out = never_train_ids()
    assert {t.id for t in task_dir_tasks(WEB_UNSEEN_PAGES)} | {t.id for t in task_dir_tasks(UNSEEN_PAGES)} == held_out
    assert not held_out & {t.id for t in task_dir_tasks(WEB_TRAIN_PAGES)}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page(make_env, name):
    """Teacher wins, a wrong way loses, and a seed gives one episode (instruction and screen)."""
    task = PAGES[name]
    env = make_env(screenshot=False)
    for seed in TEACHER_SEEDS:
        assert play_teacher(env, task, seed) > 0, f"{name} seed {seed}"

    obs, _ = env.reset(3, options={"task": task})
    for step in WRONG[name]:
        obs, reward, done, _, _ = env.step(wrong_action(env.page, step))
        assert not obs.last_action_error, (step, obs.last_action_error)
    assert done and reward < 0, f"{name}: the wrong way ended with {reward} (done={done})"

    first_look = env.reset(7, options={"task": task})[0]
    again = env.reset(7, options={"task": task})[0]
    assert (first_look.instruction, first_look.elements) == (again.instruction, again.elements)
    others = {env.reset(s, options={"task": task})[0].instruction for s in (8, 9, 10)}
    assert len(others | {first_look.instruction}) > 1, "the seed changes nothing"


def test_web_pages_run_full_size(make_env):
    """A full-size page is run in its own 1280x720 viewport and seen whole; a MiniWoB page after it is cropped again."""
    env = make_env()
    obs, _ = env.reset(20000, options={"task": PAGES["orders-table"]})
    assert obs.screenshot.size == (1280, 720)
    assert len(obs.elements) > 100  # a long list: 24 rows of 6 cells, the frame, the filter
    assert max(e.bbox[3] for e in obs.elements) <= 720  # only what is on the screen
    # the prompt's list keeps the named customer's rows, the filter and the View links before plain text
    shown = listed_elements(obs.elements, obs.instruction)
    customer = obs.instruction.split(" order of ")[1].rstrip(".")
    assert len(shown) == LIST_LIMIT
    assert {e.text for e in shown if e.role == "cell" and e.text == customer} == {customer}
    assert any(e.role == "textbox" for e in shown) and sum(e.text == "View" for e in shown) >= 10
    listing = describe_elements(obs.elements, compact=True, instruction=obs.instruction)
    assert listing.endswith(f"... {len(obs.elements) - LIST_LIMIT} more")
    obs, _ = env.reset(20000, options={"task": PAGES["star-rating"]})
    assert obs.screenshot.size == (160, 210)


def test_web_page_through_webtask(make_env):
    """`screenwise run --url file://...?seed=N`: the page's own instruction, teacher and score."""
    page = WEB_UNSEEN_PAGES / "account-login.html"
    env = make_env(WebTask(page.absolute().as_uri() + "?seed=5"), viewport=(1280, 720))
    obs, _ = env.reset()
    assert obs.instruction.startswith("Log in to the bank with the e-mail ")
    reward = 0.0
    for _ in range(5):  # the page's teach() is WebTask's teacher (screenwise run --model teacher)
        obs, reward, done, _, _ = env.step(env.task.teacher(obs, env.page)[1])
        if done:
            break
    assert done and reward > 0
    # the same page with an instruction from the command line keeps it
    env.task = WebTask(page.absolute().as_uri() + "?seed=5", "Open an account for Ada.")
    assert env.reset()[0].instruction == "Open an account for Ada."


def test_student_form_teacher_benches_a_full_size_and_a_small_page(tmp_path):
    """`--policy model:teacher:student`: the teacher's replies in the embedded model's form (element references)
    play the pages through the agent loop."""
    for directory, names in ((WEB_UNSEEN_PAGES, "orders-table"), (UNSEEN_PAGES, "level-slider")):
        summary = run_bench(BenchConfig(policy="model:teacher:student", tasks=names, task_dir=str(directory),
                                        seeds=1, seed_offset=20000, out=str(tmp_path / names), quiet=True))
        assert summary["episode_success"] == 1.0, summary
