"""A plain web page as a task: open a URL, follow a free-form instruction.

Most pages keep no score, so the agent decides when it is done. A page that keeps score the MiniWoB way (the
``WOB_*`` globals and ``core.getUtterance()``, as the pages of envs/tasks/web do) is scored, and when the
command line gives no instruction its own is used: ``screenwise run --url file://.../signin.html?seed=3``. Such a
page also has a teacher when it defines ``teach()`` (``--model teacher``, envs/teachers/pages.py).
"""

from __future__ import annotations

from envs.teachers.pages import page_teacher

# The page's own instruction when it has one (a scored page), else its title.
INSTRUCTION_JS = """() => (window.core && typeof core.getUtterance === 'function' && core.getUtterance())
                         || document.title"""
# [raw reward, done, reason] on a page that keeps score; null elsewhere.
SCORE_JS = """() => typeof WOB_DONE_GLOBAL === 'undefined' ? null
                    : [WOB_RAW_REWARD_GLOBAL, WOB_DONE_GLOBAL, WOB_REWARD_REASON]"""


class WebTask:
    crop = None  # the whole viewport

    def __init__(self, url: str, instruction: str = "", id: str = "web"):
        self.id = id
        self.url = url
        self.instruction = instruction

    def setup(self, page, seed: int) -> str:
        page.goto(self.url)
        return self.instruction or page.evaluate(INSTRUCTION_JS) or f"Use the page at {self.url}."

    score_js = SCORE_JS

    @staticmethod
    def score(raw) -> tuple[float, bool, dict]:
        if not raw or not raw[1]:
            return 0.0, False, {}
        return float(raw[0]), True, {"reason": raw[2]}

    def validate(self, page) -> tuple[float, bool, dict]:
        try:
            raw = page.evaluate(SCORE_JS)
        except Exception:  # a navigation under way: no score yet
            return 0.0, False, {}
        return self.score(raw)

    def teacher(self, obs, page, visible: bool = False):
        """The teacher of a page that defines ``teach()`` (envs/tasks/web, envs/tasks/unseen)."""
        return page_teacher(obs, page)
