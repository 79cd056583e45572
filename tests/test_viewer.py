"""The trajectory viewer over real runs: the agent loop on MiniWoB, the pages opened in a real Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from agent.loop import Agent, AgentConfig
from agent.trajectory import read_trajectory
from apps.viewer import PAGE, write_viewer
from envs.browser import BrowserEnv
from envs.tasks import miniwob_task
from models.scripted import ScriptedModel
from models.teacher import TeacherModel

# A model that stumbles: an unparseable reply, markup in its thought, clicks on nothing, a drag, a scroll, a
# point off the screen and an element that does not exist, then it gives up.
STUMBLING = [
    "I think I should click the button.",
    "Thought: <script>window.pwned = 1</script> & <b>not bold</b>\nAction: click(start_box='(3,207)')",
    "Action: drag(start_box='(10,150)', end_box='(100,180)')",
    "Action: scroll(start_box='(80,150)', direction='down')",
    "Action: click(start_box='(400,300)')",
    "Action: click(element='No such button')",
    "Action: finished(content='gave up')",
]


@pytest.fixture(scope="module")
def run(browser, tmp_path_factory) -> Path:
    """A run directory: two teacher episodes, one stumbling scripted episode, one killed episode."""
    root = tmp_path_factory.mktemp("viewer") / "run"
    env = BrowserEnv(browser=browser)
    try:
        for task, model in (("enter-text", TeacherModel(env)), ("click-test-2", TeacherModel(env)),
                            ("click-button", ScriptedModel(STUMBLING))):
            Agent(model, env, AgentConfig(), out_dir=root / task / "0").run(seed=0, task=miniwob_task(task))
    finally:
        env.close()
    killed = root / "enter-text-killed" / "0"
    shutil.copytree(root / "enter-text" / "0", killed)
    lines = (killed / "episode.jsonl").read_text().splitlines(keepends=True)
    assert '"type": "end"' in lines[-1]
    (killed / "episode.jsonl").write_text("".join(lines[:-1]))
    (killed / "final.png").unlink()
    write_viewer(root)
    return root


@pytest.fixture(scope="module")
def open_page(browser):
    """Open a viewer page in one real Chromium page, tall enough to show a short episode whole."""
    env = BrowserEnv(browser=browser, viewport=(1000, 1600))

    def open_(path: Path) -> BrowserEnv:
        env.page.goto(path.as_uri())  # waits for the load event: every <img> has loaded or failed
        return env

    yield open_
    env.close()


def test_index_lists_every_episode(run, open_page):
    env = open_page(run / "index.html")
    rows = env.page.evaluate("""() => [...document.querySelectorAll('tr.episode')].map(tr => ({
        cells: [...tr.cells].map(c => c.textContent), href: tr.querySelector('a').href}))""")
    episodes = sorted(p.parent for p in run.rglob("episode.jsonl"))
    assert len(rows) == len(episodes) == 4
    assert {Path(r["href"].removeprefix("file://")).parent for r in rows} == set(episodes)
    assert all(Path(r["href"].removeprefix("file://")).exists() for r in rows)
    status = {Path(r["href"]).parent.parent.name: (r["cells"][0], r["cells"][3]) for r in rows}
    assert status == {"enter-text": ("enter-text", "done"), "click-test-2": ("click-test-2", "done"),
                      "click-button": ("click-button", "finished"), "enter-text-killed": ("enter-text", "incomplete")}
    rate = env.page.evaluate("() => document.querySelector('.rate').textContent")
    assert "2 of 4 episodes" in rate and "50.0%" in rate and "1 incomplete" in rate


def test_episode_page_shows_every_step(run, open_page, tmp_path):
    episode = run / "enter-text" / "0"
    traj = read_trajectory(episode)
    env = open_page(episode / PAGE)
    page = env.page.evaluate("""() => ({
        steps: document.querySelectorAll('section.step').length,
        images: [...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.width]),
        clicks: document.querySelectorAll('section.step g.marker[data-action=click]').length,
        types: document.querySelectorAll('section.step g.marker[data-action=type]').length,
        external: document.querySelectorAll('script, link, iframe, [style*="url("]').length,
        instruction: document.querySelector('.instruction').textContent,
        result: document.querySelector('section.final').textContent})""")
    assert page["steps"] == len(traj.steps) == 2
    assert [src for src, *_ in page["images"]] == ["step_000.png", "step_001.png", "final.png"]
    assert all(complete and natural == 160 and shown == 320 for _, complete, natural, shown in page["images"])
    assert page["clicks"] == 1 and page["types"] == 1
    assert page["external"] == 0  # self-contained: no scripts, stylesheets or frames
    assert page["instruction"] == traj.header["instruction"]
    assert "done" in page["result"] and "1.00" in page["result"]

    shot = env.screenshot()
    shot.save(tmp_path / "episode.png")
    assert shot.size == (1000, 1600)
    assert len(shot.convert("RGB").getcolors(1 << 20) or []) > 50  # text, screenshots and markers, not a blank page
    marker = _marker_pixels(shot)
    assert marker > 20, "the pink marker should be drawn over the screenshot"


def test_errors_feedback_and_markers_of_a_stumbling_run(run, open_page):
    traj = read_trajectory(run / "click-button" / "0")
    env = open_page(run / "click-button" / "0" / PAGE)
    page = env.page.evaluate("""() => {
        const style = sel => getComputedStyle(document.querySelector(sel)).backgroundColor;
        return {
            steps: document.querySelectorAll('section.step').length,
            errors: [...document.querySelectorAll('.error')].map(e => e.textContent),
            feedback: [...document.querySelectorAll('.feedback')].map(e => e.textContent),
            errorColor: style('.error'), feedbackColor: style('.feedback'),
            markers: [...document.querySelectorAll('g.marker')].map(g => g.dataset.action),
            text: document.body.innerText, scripts: document.scripts.length, pwned: window.pwned || 0,
            bold: [...document.querySelectorAll('b')].some(b => b.textContent === 'not bold')};
    }""")
    assert page["steps"] == len(traj.steps) == len(STUMBLING)
    assert any(e.startswith("Reply not understood:") and "Action:" in e for e in page["errors"])
    assert any(e.startswith("Action failed:") for e in page["errors"]), page["errors"]
    assert any("changed nothing on the screen" in f for f in page["feedback"])
    assert page["errorColor"] == "rgb(255, 235, 233)" and page["feedbackColor"] == "rgb(255, 248, 197)"
    assert page["markers"] == ["click", "drag", "scroll"]  # the off-screen point and the element ref are not marked
    assert "point outside the 160×210 screenshot" in page["text"]
    assert "element reference" in page["text"]
    # Markup the model wrote is shown as text, never run or rendered.
    assert "<script>window.pwned = 1</script> & <b>not bold</b>" in page["text"]
    assert page["scripts"] == 0 and page["pwned"] == 0 and not page["bold"]
    assert "gave up" in page["text"] and "finished" in page["text"]


def test_incomplete_episode_renders(run, open_page):
    env = open_page(run / "enter-text-killed" / "0" / PAGE)
    page = env.page.evaluate("""() => ({
        steps: document.querySelectorAll('section.step').length,
        loaded: [...document.images].every(i => i.complete && i.naturalWidth > 0),
        badge: document.querySelector('h1 .badge').textContent,
        result: document.querySelector('section.final').textContent})""")
    assert page["steps"] == 2 and page["loaded"]
    assert page["badge"] == "incomplete" and "incomplete" in page["result"]


def test_rewriting_is_idempotent(run):
    before = (run / "index.html").read_text()
    assert write_viewer(run) == run / "index.html"
    assert (run / "index.html").read_text() == before


def _marker_pixels(img: Image.Image) -> int:
    """Pixels of the markers' colour (#e0007a), which MiniWoB pages do not use."""
    rgb = img.convert("RGB")
    return sum(n for n, (r, g, b) in rgb.getcolors(1 << 20) if r > 200 and g < 40 and 90 < b < 150)
