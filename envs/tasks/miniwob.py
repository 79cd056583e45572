"""MiniWoB++ tasks, served from the installed ``miniwob`` wheel (no clone, no server).

A task page is loaded once per env; each episode then starts in place with a seeded
``core.startEpisodeReal()``. The page's own 10 s timer is pushed out of reach: the env counts steps instead.
Reward is ``WOB_RAW_REWARD_GLOBAL``; success is a raw reward above 0, as BrowserGym counts it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path

from core.env import UnknownTask
from envs.teachers import TEACHERS, VISIBLE

TASK_AREA = (0, 0, 160, 210)  # the #wrap div: 50 px instruction band over a 160x160 task area

START_JS = r"""
async (seed) => {
  core.EPISODE_MAX_TIME = 1e9;
  if (core.EP_TIMER !== null) core.endEpisode(0, false, 'reset');
  Math.seedrandom(String(seed));
  core.startEpisodeReal();
  for (let i = 0; i < 100 && typeof WOB_TASK_READY !== 'undefined' && !WOB_TASK_READY; i++)
    await new Promise(r => setTimeout(r, 20));
  const u = core.getUtterance();
  return typeof u === 'string' ? u : u.utterance;
}
"""

REWARD_JS = "() => [WOB_RAW_REWARD_GLOBAL, WOB_DONE_GLOBAL, WOB_REWARD_REASON]"


def miniwob_html_dir() -> Path:
    import miniwob

    return Path(miniwob.__file__).parent / "html"


@lru_cache(maxsize=1)
def registered_task_names() -> tuple[str, ...]:
    """The 125 MiniWoB++ tasks the package registers (the 3 flight tasks need http and are left out)."""
    import miniwob

    source = (Path(miniwob.__file__).parent / "registration.py").read_text()
    names = re.findall(r'id="miniwob/([a-z0-9-]+)-v1"', source)
    return tuple(sorted(set(names)))


class MiniWoBTask:
    """One MiniWoB-style HTML page: the package's own, or a user's page beside ``../core``.

    ``viewport`` (W, H): a full-size page (envs/tasks/web): it is run in a viewport of that size and seen whole,
    with no instruction band, instead of the 160x210 task area of a 500x320 page.
    """

    crop = TASK_AREA
    instruction_band = 50  # elements starting above this are the instruction, which the observation holds as text
    viewport = None  # the env's own (500x320)

    def __init__(self, id: str, path: Path, viewport: tuple[int, int] | None = None):
        self.id = id
        self.path = Path(path)
        self.url = self.path.absolute().as_uri()  # not resolve(): a task dir reaches ../core through links
        if viewport:
            self.viewport = tuple(viewport)
            self.crop = (0, 0, *self.viewport)
            self.instruction_band = 0

    def __repr__(self) -> str:
        return f"MiniWoBTask({self.id!r})"

    def setup(self, page, seed: int) -> str:
        if page.url.split("#")[0] != self.url:  # a link to '#' in the last episode left a fragment: same page
            page.goto(self.url)
        return page.evaluate(START_JS, seed).strip()

    score_js = REWARD_JS

    @staticmethod
    def score(raw) -> tuple[float, bool, dict]:
        reward, done, reason = raw
        return (float(reward) if done else 0.0), bool(done), {"reason": reason}

    def validate(self, page) -> tuple[float, bool, dict]:
        return self.score(page.evaluate(REWARD_JS))

    def teacher(self, obs, page, visible: bool = False):
        """The privileged teacher's (thought, action); ``visible``: the visible-state one where there is one."""
        return (VISIBLE if visible and self.id in VISIBLE else TEACHERS)[self.id](obs, page)

    @property
    def has_teacher(self) -> bool:
        return self.id in TEACHERS


def miniwob_task(name: str) -> MiniWoBTask:
    path = miniwob_html_dir() / "miniwob" / f"{name}.html"
    if not path.exists():
        raise UnknownTask(f"no MiniWoB task {name!r}; see `screenwise tasks`")
    return MiniWoBTask(name, path)


# A full-size page says so in its head: <meta name="screenwise-viewport" content="1280x720">.
_VIEWPORT_META = re.compile(r'<meta\s+name="screenwise-viewport"\s+content="(\d+)x(\d+)"', re.I)


def page_viewport(path: Path) -> tuple[int, int] | None:
    """The viewport a page declares (a full-size page), or None (a 160x210 MiniWoB-style page)."""
    found = _VIEWPORT_META.search(path.read_text(errors="replace")[:4000])
    return (int(found[1]), int(found[2])) if found else None


def task_dir_tasks(directory: str | os.PathLike) -> list[MiniWoBTask]:
    """User tasks: every ``*.html`` in DIR, written like the package's tasks (see envs/README.md).

    Their ``../core/`` and ``../common/`` references are made to resolve by linking DIR into a folder
    that also links the package's ``core`` and ``common``. A full-size page (one that declares its viewport,
    envs/tasks/web) brings its own scripts, so it is opened where it lies.
    """
    directory = Path(directory).resolve()
    pages = sorted(directory.glob("*.html"))
    if not pages:
        raise UnknownTask(f"no .html task pages in {directory}")
    digest = hashlib.sha1(str(directory).encode()).hexdigest()[:10]
    root = Path(tempfile.gettempdir()) / f"screenwise-tasks-{digest}"
    root.mkdir(exist_ok=True)
    html = miniwob_html_dir()
    for name, target in (("core", html / "core"), ("common", html / "common"), ("tasks", directory)):
        link = root / name
        if not link.is_symlink() or link.resolve() != target.resolve():
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target, target_is_directory=True)
    tasks = []
    for p in pages:
        size = page_viewport(p)
        tasks.append(MiniWoBTask(p.stem, p, size) if size else MiniWoBTask(p.stem, root / "tasks" / p.name))
    return tasks
