"""Tasks, registered by id and kept apart from the envs that run them.

``resolve_tasks(spec)`` turns a CLI spec into tasks: ``all``, ``webgum56``, ``teachers``, ``core``, or ``a,b,c``
(MiniWoB ids, and the project's own pages by name, PAGE_DIRS, so one run can mix both); ``task_dir`` gives the pages of a user's task directory instead (``all``, or a comma list of page names). A name
that matches nothing raises :class:`core.env.UnknownTask`.
"""

from __future__ import annotations

from pathlib import Path

from core.env import UnknownTask
from envs.tasks.miniwob import MiniWoBTask, miniwob_task, registered_task_names, task_dir_tasks
from envs.teachers import TEACHERS, teacher
from envs.teachers.pages import page_teacher

# Pages written in this project (envs/README.md), run with --task-dir. The unseen ones measure how the model does
# on layouts and wording it has never met: nothing may be trained on them.
UNSEEN_PAGES = Path(__file__).parent / "unseen"
"""MiniWoB-style pages (160x210) of everyday widgets: report only, never trained on."""
WEB_TRAIN_PAGES = Path(__file__).parent / "web" / "train"
"""Full-size (1280x720) everyday pages that training may use."""
WEB_UNSEEN_PAGES = Path(__file__).parent / "web" / "unseen"
"""Full-size (1280x720) everyday pages: report only, never trained on."""
WIDGET_PAGES = Path(__file__).parent / "widgets"
"""MiniWoB-style pages (160x210) of the WAI-ARIA Authoring Practices' widget patterns, drawn anew from each seed
(labels, amounts, layout, wording): training data for reading widgets, not screens."""
PAGE_DIRS = (UNSEEN_PAGES, WEB_TRAIN_PAGES, WEB_UNSEEN_PAGES, WIDGET_PAGES)
for _dir in PAGE_DIRS:  # each of these pages teaches itself (its teach(), envs/teachers/pages.py)
    for _page in sorted(_dir.glob("*.html")):
        teacher(_page.stem)(page_teacher)

# The 56-task subset of WebN-T5 / WebGUM / HTML-T5.
WEBGUM56 = tuple("""
book-flight choose-date choose-date-easy choose-date-medium choose-list click-button click-button-sequence
click-checkboxes click-checkboxes-large click-checkboxes-soft click-checkboxes-transfer click-collapsible
click-collapsible-2 click-color click-dialog click-dialog-2 click-link click-menu click-option click-pie
click-scroll-list click-shades click-shape click-tab click-tab-2 click-tab-2-hard click-test click-test-2
click-widget count-shape email-inbox email-inbox-forward-nl email-inbox-forward-nl-turk email-inbox-nl-turk
enter-date enter-password enter-text enter-text-dynamic enter-time focus-text focus-text-2 grid-coordinate
guess-number identify-shape login-user login-user-popup multi-layouts multi-orderings navigate-tree
search-engine social-media social-media-all social-media-some tic-tac-toe use-autocomplete use-spinner
""".split())

# The tasks the embedded model is trained on (models/embedded): those whose teacher answers can be learnt as
# copies, out of the instruction or the element list, by a tiny model in a few CPU hours. Chosen before
# training from the teachers' replies, not from the student's results; `--tasks all` reports the rest.
CORE = tuple("""
choose-list click-button click-button-sequence click-checkboxes click-checkboxes-large click-checkboxes-transfer
click-collapsible click-collapsible-2 click-collapsible-2-nodelay click-collapsible-nodelay click-color
click-dialog click-dialog-2 click-link click-menu-2 click-option click-shape click-tab click-tab-2
click-tab-2-easy click-tab-2-hard click-tab-2-medium click-test click-test-2 click-test-transfer click-widget
email-inbox-delete email-inbox-important enter-password enter-text enter-text-2 enter-text-dynamic focus-text
focus-text-2 generate-number identify-shape login-user login-user-popup multi-layouts multi-orderings
navigate-tree odd-or-even unicode-test
""".split())


def never_train_ids() -> set[str]:
    """The ids of the pages kept for reporting (UNSEEN_PAGES, WEB_UNSEEN_PAGES): data recorded on them must not
    reach training."""
    return {p.stem for d in (UNSEEN_PAGES, WEB_UNSEEN_PAGES) for p in d.glob("*.html")}


def task_names(spec: str) -> list[str]:
    if spec == "all":
        return list(registered_task_names())
    if spec == "webgum56":
        return list(WEBGUM56)
    if spec == "core":
        return list(CORE)
    if spec == "teachers":
        return [n for n in registered_task_names() if n in TEACHERS]
    names = [s.strip() for s in spec.split(",") if s.strip()]
    known = set(registered_task_names())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownTask(f"unknown MiniWoB task(s): {', '.join(unknown)}; see `screenwise tasks`")
    return names


def resolve_tasks(spec: str = "all", task_dir: str | None = None) -> list[MiniWoBTask]:
    if task_dir:
        tasks = task_dir_tasks(task_dir)
        if spec not in ("all", ""):
            wanted = {s.strip() for s in spec.split(",") if s.strip()}
            unknown = sorted(wanted - {t.id for t in tasks})
            if unknown:
                raise UnknownTask(f"no page(s) {', '.join(unknown)} in {task_dir}")
            tasks = [t for t in tasks if t.id in wanted]
        return tasks
    if spec in ("all", "webgum56", "core", "teachers"):
        return [miniwob_task(n) for n in task_names(spec)]
    names, pages, known = [s.strip() for s in spec.split(",") if s.strip()], project_pages(), set(registered_task_names())
    unknown = [n for n in names if n not in known and n not in pages]
    if unknown:
        raise UnknownTask(f"unknown task(s): {', '.join(unknown)}; see `screenwise tasks` and envs/tasks/*/")
    by_dir = {d: {t.id: t for t in task_dir_tasks(d)} for d in {pages[n] for n in names if n in pages}}
    return [by_dir[pages[n]][n] if n in pages else miniwob_task(n) for n in names]


def project_pages() -> dict[str, Path]:
    """The project's own pages (PAGE_DIRS) by name, each with its directory."""
    return {p.stem: d for d in PAGE_DIRS for p in sorted(d.glob("*.html"))}


__all__ = ["CORE", "MiniWoBTask", "PAGE_DIRS", "UNSEEN_PAGES", "WEBGUM56", "WEB_TRAIN_PAGES", "WEB_UNSEEN_PAGES",
           "WIDGET_PAGES",
           "miniwob_task", "never_train_ids", "project_pages", "registered_task_names", "resolve_tasks", "task_dir_tasks",
           "task_names"]
