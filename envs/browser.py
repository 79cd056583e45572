"""BrowserEnv: a Playwright page as a gymnasium-style env.

One :class:`Browser` owns a Chromium and a private asyncio loop on a background thread. Any number of
:class:`BrowserEnv` objects, each with its own page, share it, and may be driven from different threads:
their calls are scheduled on the one loop, so episodes in different threads overlap their waits on the
browser. That is how ``--workers`` runs parallel episodes in one browser while the API stays synchronous.

Data enters as actions (``core.actions``), in screenshot pixels or element references, and leaves as an
:class:`core.env.Observation`: a screenshot cropped to the task area, and an element list read from the
DOM in one script call.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image

from core import actions as A
from core.env import MAX_STEPS, ActionError, Element, EnvCrashed, Observation
from envs.base import run_turn
from envs.executor import dispatch, screen_point
from envs.page_script import NAVIGATION_ERRORS, run_script
from envs.safety import SafetyPolicy, Site, Verdict

# Chromium's frame-rate limit stays on: without it (--disable-frame-rate-limit, --disable-gpu-vsync) the compositor
# draws frames as fast as it can, and a bench spent about a fifth of its CPU on them (docs/benchmarks.md).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]
DEBIAN_CHROMIUM = ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser")


class BrowserCrashed(EnvCrashed):
    """The browser process died under an episode. The episode is lost; the env recovers on reset."""


def find_chromium(playwright_default: str | None = None) -> str | None:
    """Playwright's own Chromium when it is installed, else Debian's. None lets Playwright decide."""
    env = os.environ.get("SCREENWISE_CHROMIUM")
    if env:
        return env
    if playwright_default and Path(playwright_default).exists():
        return None
    for path in DEBIAN_CHROMIUM:
        if Path(path).exists():
            return path
    found = shutil.which("chromium") or shutil.which("google-chrome")
    if found:
        return found
    raise RuntimeError(
        "No Chromium found. Install one with: sudo apt-get install -y chromium "
        "(or `playwright install chromium` where downloads work), or set SCREENWISE_CHROMIUM."
    )


class Browser:
    """One Chromium process on a private event loop. Thread-safe; restartable after a crash."""

    def __init__(self, headless: bool = True, executable: str | None = None, extra_args: tuple = ()):
        self.headless = headless
        self.executable = executable
        self.extra_args = list(extra_args)
        # A flag Chromium ignores, so tests and tools can find exactly this browser's processes.
        tag = os.environ.get("SCREENWISE_BROWSER_TAG", "")
        self.marker = f"--screenwise-browser={tag}{uuid.uuid4().hex[:12]}"
        self.generation = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="screenwise-browser", daemon=True)
        self._thread.start()
        self._pw = None
        self._browser = None
        self.call(self._launch())

    # -- plumbing -------------------------------------------------------------------------------------------
    def call(self, coro, timeout: float = 60.0):
        """Run a coroutine on the browser's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _launch(self):
        from playwright.async_api import async_playwright

        if self._pw is None:
            self._pw = await async_playwright().start()
        executable = self.executable or find_chromium(self._pw.chromium.executable_path)
        self._browser = await self._pw.chromium.launch(
            headless=self.headless, executable_path=executable,
            args=CHROMIUM_FLAGS + self.extra_args + [self.marker],
            # Ctrl-C is Python's to handle (the chat pauses on it); the browser still goes when Python does.
            handle_sigint=False,
        )

    @property
    def alive(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def pids(self) -> list[int]:
        """PIDs of this browser's processes (main process first), found by the marker flag."""
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmd = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if self.marker.encode() in cmd:
                is_main = not any(c.startswith(b"--type=") for c in cmd)
                found.append((not is_main, int(proc.name)))
        return [pid for _, pid in sorted(found)]

    def restart_if_dead(self, seen_generation: int) -> None:
        """Relaunch Chromium if it died, once per crash however many envs notice it."""
        with self._lock:
            if self.generation != seen_generation or self.alive:
                return
            self.call(self._relaunch())
            self.generation += 1
            print(f"screenwise: Chromium died; relaunched it (restart {self.generation})", file=sys.stderr)

    async def _relaunch(self):
        try:
            await self._browser.close()
        except Exception:
            pass
        await self._launch()

    async def new_page(self, viewport: tuple[int, int]):
        context = await self._browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        return page, cdp

    def close(self) -> None:
        async def shutdown():
            try:
                if self._browser is not None:
                    await self._browser.close()
            finally:
                if self._pw is not None:
                    await self._pw.stop()

        if self._thread.is_alive():
            try:
                self.call(shutdown(), timeout=20)
            except Exception:
                pass
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)


class PageHandle:
    """The synchronous view of a page that tasks and teachers use (privileged: it reads the DOM). Scripts run
    through the env's DevTools session (envs/page_script.py), with ``page.evaluate``'s meaning."""

    def __init__(self, browser: Browser, page, run_script):
        self.browser = browser
        self.page = page
        self._run_script = run_script

    def evaluate(self, js: str, arg: Any = None) -> Any:
        return self.browser.call(self._run_script(js, arg))

    def goto(self, url: str) -> None:
        self.browser.call(self.page.goto(url, wait_until="load"))

    @property
    def url(self) -> str:
        return self.page.url


# Reads the element list and page facts in one call. Elements are visible things a model can point at:
# form controls, links, anything with its own text, and text-less leaves such as shapes and swatches.
ELEMENTS_JS = r"""
([cx, cy, cw, ch]) => {
  const out = [];
  const ROLE = {A: 'link', BUTTON: 'button', SELECT: 'combobox', TEXTAREA: 'textbox', IMG: 'image',
    LABEL: 'label', LI: 'listitem', TD: 'cell', TH: 'cell', H1: 'heading', H2: 'heading', H3: 'heading',
    H4: 'heading', CANVAS: 'canvas', circle: 'circle', rect: 'rect', polygon: 'polygon', text: 'text',
    ellipse: 'ellipse', path: 'path', line: 'line', polyline: 'polyline', svg: 'svg'};
  const INPUT_ROLE = {checkbox: 'checkbox', radio: 'radio', button: 'button', submit: 'button',
    reset: 'button', range: 'slider', number: 'spinbutton', color: 'colorpicker'};
  const squash = s => s.replace(/\s+/g, ' ').trim();
  const focused = document.activeElement;
  for (const el of document.body.querySelectorAll('*')) {
    const tag = el.tagName;
    if (tag === 'SCRIPT' || tag === 'STYLE' || tag === 'OPTION' || tag === 'BR' || tag === 'NOSCRIPT') continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    const x0 = Math.max(r.left, cx) - cx, y0 = Math.max(r.top, cy) - cy;
    const x1 = Math.min(r.right, cx + cw) - cx, y1 = Math.min(r.bottom, cy + ch) - cy;
    if (x1 - x0 < 1 || y1 - y0 < 1) continue;
    let own = '';
    for (const n of el.childNodes) if (n.nodeType === 3) own += n.nodeValue;
    own = squash(own);
    const isInput = tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
    const control = isInput || tag === 'BUTTON' || tag === 'A' || el.hasAttribute('onclick')
      || el.hasAttribute('role') || el.hasAttribute('tabindex');
    const leaf = el.children.length === 0;
    if (!own && !control && !leaf) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none' || style.opacity === '0') continue;
    let role = el.getAttribute('role') || ROLE[tag] || '';
    let text = own;
    const state = [];
    if (tag === 'INPUT') {
      const type = (el.type || 'text').toLowerCase();
      role = INPUT_ROLE[type] || 'textbox';
      if (type === 'checkbox' || type === 'radio') { text = ''; if (el.checked) state.push('checked'); }
      else if (type === 'button' || type === 'submit' || type === 'reset') text = el.value;
      else { text = el.value || ''; if (!el.value && el.placeholder) state.push('placeholder=' + el.placeholder); }
    } else if (tag === 'TEXTAREA') {
      text = el.value || '';
    } else if (tag === 'SELECT') {
      text = el.selectedIndex >= 0 ? squash(el.options[el.selectedIndex].text) : '';
    } else if (tag === 'BUTTON' || tag === 'A') {
      text = squash(el.innerText || el.textContent || '');
    }
    if (!role) role = text ? 'text' : tag.toLowerCase();
    if (el === focused && el !== document.body) state.push('focused');
    if (el.disabled) state.push('disabled');
    out.push([role, text.slice(0, 200), [Math.round(x0), Math.round(y0), Math.round(x1), Math.round(y1)],
              state.join(' ')]);
  }
  return {elements: out, url: location.href, title: document.title};
}
"""

SELECT_JS = r"""
([x, y, option]) => {
  let el = document.elementFromPoint(x, y);
  while (el && el.tagName !== 'SELECT') el = el.parentElement;
  if (!el) return 'there is no drop-down list at that point';
  const want = option.trim().toLowerCase();
  let idx = [...el.options].findIndex(o => o.text.trim().toLowerCase() === want);
  if (idx < 0) idx = [...el.options].findIndex(o => o.text.trim().toLowerCase().includes(want));
  if (idx < 0) return 'the list has no option "' + option + '"; it has: ' + [...el.options].map(o => o.text.trim()).join(', ');
  el.selectedIndex = idx;
  el.dispatchEvent(new Event('input', {bubbles: true}));
  el.dispatchEvent(new Event('change', {bubbles: true}));
  return '';
}
"""

# Where an action lands, for the safety gate: the link under the point (or the focused element), and the form
# that a click there or an Enter would send, with its field values (compared with secrets in Python, so no
# secret is ever handed to the page's scripts).
SITE_JS = r"""
([x, y, atPoint]) => {
  const el = atPoint ? document.elementFromPoint(x, y) : document.activeElement;
  const out = {url: location.href, link: '', download: false, submits: false, form_action: '', values: []};
  if (!el) return out;
  const a = el.closest('a[href]');
  if (a) { out.link = a.href; out.download = a.hasAttribute('download'); }
  const control = el.closest('button, input, textarea, select');
  const form = (control && control.form) || el.closest('form');
  if (form) {
    out.submits = !!control && (control.tagName === 'BUTTON' ? (control.getAttribute('type') || 'submit') === 'submit'
                                : control.tagName === 'INPUT' && ['submit', 'image'].includes(control.type));
    out.form_action = form.action;
    out.values = [...form.elements].map(f => String(f.value || ''));
  }
  return out;
}
"""

OBSERVE_STALL_S = 8.0
"""An observation that takes longer is taken again on a fresh CDP session (see _observe_async)."""
NAVIGATION_GRACE_S = 0.5
"""After a form was submitted or a link clicked: how long its navigation may take to start (a page's script may
submit a moment later). Actions that start nothing are not held up."""
NAVIGATION_LOAD_S = 10.0
"""How long a navigation that started may take to reach its new page's load event."""

# Marks, in every document, that an action asked the page to go somewhere: a form was submitted (even one a
# script will send later) or a link to another document was clicked.
NAVIGATION_INTENT_JS = r"""
(() => {
  const mark = () => { window.__screenwiseNavigating = true; };
  addEventListener('submit', mark, true);
  addEventListener('click', e => {
    const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
    if (!a || (a.target && a.target !== '_self') || a.protocol === 'javascript:') return;
    if (a.hash && a.href.split('#')[0] === location.href.split('#')[0]) return;  // a jump within the page
    mark();
  }, true);
})();
"""
TAKE_INTENT_JS = "() => { const asked = !!window.__screenwiseNavigating; window.__screenwiseNavigating = false; " \
                 "return asked; }"
TWO_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"

PLAYWRIGHT_KEYS = {
    "ctrl": "Control", "alt": "Alt", "shift": "Shift", "meta": "Meta", "enter": "Enter", "escape": "Escape",
    "tab": "Tab", "backspace": "Backspace", "delete": "Delete", "space": "Space", "up": "ArrowUp",
    "down": "ArrowDown", "left": "ArrowLeft", "right": "ArrowRight", "home": "Home", "end": "End",
    "pageup": "PageUp", "pagedown": "PageDown", "insert": "Insert", "capslock": "CapsLock", "menu": "ContextMenu",
    "printscreen": "PrintScreen",
}
"""Canonical key names (envs/executor.py ``parse_keys``) in Playwright's spelling; F-keys are upper-cased and a
character is pressed as written."""
SCROLL_PIXELS = 100


def playwright_key(key: str) -> str:
    return PLAYWRIGHT_KEYS.get(key) or (key.upper() if len(key) > 1 else key)


def observe_script(score_js: str | None) -> str:
    """One script call after an action: whether the page asked to navigate (TAKE_INTENT_JS, when ``intent``), the
    element list and page facts (ELEMENTS_JS), and the task's score (its ``score_js``, when it has one). A document
    still being parsed (a navigation just committed) says so instead."""
    score = f"({score_js})()" if score_js else "null"
    return f"""([x, y, w, h, intent]) => {{
  const asked = intent ? ({TAKE_INTENT_JS})() : false;
  if (!document.body && document.readyState === 'loading') return {{asked, loading: true}};
  const facts = ({ELEMENTS_JS})([x, y, w, h]);
  facts.asked = asked;
  facts.score = {score};
  return facts;
}}"""


class BrowserEnv:
    """A browser page running one task at a time.

    ``task`` is any object with ``setup(page, seed) -> instruction`` and ``validate(page)``; it may be
    swapped between episodes with ``reset(options={'task': t})``. ``screenshot=False`` skips screenshots
    for policies that never look at them (the DOM-reading teachers), which is most of a step's cost.

    It is its own executor (core/env.py ``Executor``; envs/executor.py): ``dispatch`` gives each action its meaning and calls the
    primitives below (click, type_text, press...) with points in page pixels. After a turn, one script call
    reads whether an action asked the page to navigate, the element list and the task's score together.

    ``safety`` gates every action (``envs/safety.py``; by default risky actions are denied). When it watches
    pages (an allowlist, secrets, or a person to ask), every request the page makes passes it too: a
    navigation off the allowlist (a script's redirect, a link) or a request carrying a secret off its
    domains is aborted, and the model is told. Downloads the person approved are saved in ``downloads_dir``;
    any other download is cancelled.
    """

    where = "in a browser"

    def __init__(self, task=None, *, browser: Browser | None = None, max_steps: int = MAX_STEPS,
                 viewport: tuple[int, int] = (500, 320), screenshot: bool = True,
                 safety: SafetyPolicy | None = None, downloads_dir: str | Path | None = None):
        self.task = task
        self.max_steps = max_steps
        self.viewport = viewport
        self.own_viewport = viewport  # a task may ask for another size (a full-size page); others get this one
        self.want_screenshot = screenshot
        self.safety = safety or SafetyPolicy()
        self.downloads_dir = Path(downloads_dir) if downloads_dir else None
        self.downloads: list[Path] = []  # files saved after the person approved them
        self._blocked: list[tuple[Verdict, str]] = []  # (verdict, url) of requests and downloads stopped
        self._own_browser = browser is None
        self.browser = browser or Browser()
        self._generation = self.browser.generation
        try:
            self._open_page()
        except Exception:  # Chromium was down at that moment (a shared one, killed): relaunch it, try once more
            self.browser.restart_if_dead(self._generation)
            self._generation = self.browser.generation
            self._open_page()
        self.crop = (0, 0, viewport[0], viewport[1])
        self._nav_before: dict | None = None  # navigation counts before an action that may have started one
        self._may_navigate = False  # the running action's primitives say whether it may have started one
        self.steps = 0
        self.done = False
        self.instruction = ""
        self.obs: Observation | None = None

    # -- gymnasium API ---------------------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[Observation, dict]:
        options = options or {}
        if "task" in options:
            self.task = options["task"]
        if self.task is None:
            raise ValueError("BrowserEnv.reset needs a task: BrowserEnv(task) or reset(options={'task': t})")
        if not self.browser.alive or self.browser.generation != self._generation:
            self._recover()
        seed = 0 if seed is None else int(seed)
        try:
            self._fit_viewport(getattr(self.task, "viewport", None) or self.own_viewport)
            self.instruction = self.task.setup(self.page, seed)
            self.crop = getattr(self.task, "crop", None) or (0, 0, *self.viewport)
            self.steps = 0
            self.done = False
            self._nav_before = None
            self.obs = self.observe(self._report_blocked("")[0])
        except Exception as e:
            self._raise_if_crashed(e)
            raise
        return self.obs, {"task": getattr(self.task, "id", ""), "seed": seed}

    def step(self, action) -> tuple[Observation, float, bool, bool, dict]:
        """One turn: an action, or a list of actions run in order until one fails or the episode ends."""
        try:
            return run_turn(self, action, execute=self._run_action, ended=self._episode_over,
                            finish=self._finish_turn, site=self._site)
        except Exception as e:
            self._raise_if_crashed(e)
            raise

    def observe(self, error: str = "") -> Observation:
        """Look again without acting (a person may have used the page); secret values redacted."""
        self.obs = self.safety.redact_observation(self._observe(error))
        return self.obs

    @property
    def alive(self) -> bool:
        """False once the browser (or this page) died: the episode under way is lost, not the policy's fault."""
        return self.browser.alive and not self._page.is_closed()

    @property
    def screen(self) -> tuple[int, int, int, int]:
        return self.crop

    def close(self) -> None:
        try:
            self.browser.call(self._page.context.close(), timeout=10)
        except Exception:
            pass
        if self._own_browser:
            self.browser.close()

    # -- the turn, as run_turn asks for it -----------------------------------------------------------------
    def _run_action(self, action) -> None:
        before, self._may_navigate = dict(self._navigation), False
        dispatch(action, self, self.obs.elements)
        self._nav_before = before if self._may_navigate else None

    async def _await_navigation(self, before: dict, asked: bool) -> None:
        """Let a navigation the action started reach its new page, so the turn never observes the old one.

        A navigation request seen since the action, or a submit or link click the page reported (``asked``), means
        one is coming; then wait for the new document to commit (or the request to fail or turn into a download),
        and for its load event. Anything else returns at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + NAVIGATION_GRACE_S
        while self._navigation["request"] == before["request"]:
            if not asked or loop.time() > deadline:
                return
            await asyncio.sleep(0.01)
        deadline = loop.time() + NAVIGATION_LOAD_S
        while all(self._navigation[k] == before[k] for k in ("commit", "failed", "download")):
            if loop.time() > deadline:
                return
            await asyncio.sleep(0.01)
        if self._navigation["commit"] != before["commit"]:
            try:
                await self._page.wait_for_load_state("load", timeout=NAVIGATION_LOAD_S * 1000)
            except Exception:  # a page that never finishes loading is observed as it is
                pass

    async def _settle(self) -> None:
        """Between a turn's actions: the navigation the last one started, if any, reaches its page first."""
        before, self._nav_before = self._nav_before, None
        if before is not None:
            try:
                asked = await self._script(TAKE_INTENT_JS)
            except Exception:  # the document went away during the call: a navigation is under way
                asked = True
            await self._await_navigation(before, asked)

    async def _watch_navigations(self) -> None:
        """Count the main frame's navigation events (on the browser's loop: subscribing talks to Playwright)."""
        page = self._page
        page.on("request", lambda r: r.is_navigation_request() and self._count_navigation("request", r.frame))
        page.on("requestfailed", lambda r: r.is_navigation_request() and self._count_navigation("failed", r.frame))
        page.on("framenavigated", lambda f: self._count_navigation("commit", f))
        page.on("download", lambda d: self._count_navigation("download", page.main_frame))
        await page.context.add_init_script(NAVIGATION_INTENT_JS)

    def _count_navigation(self, kind: str, frame) -> None:
        if frame == self._page.main_frame:
            self._navigation[kind] += 1

    def _episode_over(self) -> bool:
        self.browser.call(self._settle())
        return self.task.validate(self.page)[1]

    def _finish_turn(self, error: str) -> tuple[Observation, float, bool, dict]:
        before, self._nav_before = self._nav_before, None
        score_js = getattr(self.task, "score_js", None)
        obs, raw = self.browser.call(self._observe_async(error, before, score_js))
        reward, done, info = self.task.score(raw) if score_js else self.task.validate(self.page)
        if self._blocked:  # what the gate stopped meanwhile (a script's redirect, a download) is told too
            error, moved = self._report_blocked(error)
            obs = self._observe(error) if moved else replace(obs, last_action_error=error)
        return obs, reward, done, info

    # -- the safety gate's eyes and hands ------------------------------------------------------------------
    def _open_page(self) -> None:
        self._page, self._cdp = self.browser.call(self.browser.new_page(self.viewport))
        self._cdp_document = 0  # the main-frame commit the DevTools session was made after
        self._cdp_lock = asyncio.Lock()
        self.page = PageHandle(self.browser, self._page, self._script)
        self._page.on("download", self._on_download)
        self._navigation = {"request": 0, "commit": 0, "failed": 0, "download": 0}  # main-frame events so far
        self.browser.call(self._watch_navigations())
        if self.safety.watches_pages:  # every request of the page's context (popups too) passes the policy
            self.browser.call(self._page.context.route("**/*", self._guard_request))

    def _fit_viewport(self, size: tuple[int, int]) -> None:
        """Resize the page when a task needs another size than the last one (a bench mixes both kinds)."""
        size = tuple(size)
        if size != tuple(self.viewport):
            self.browser.call(self._page.set_viewport_size({"width": size[0], "height": size[1]}))
            self.viewport = size

    def _site(self, action) -> Site:
        """Where an action lands: the page, and the link or form under its point (or the focused element)."""
        at = getattr(action, "at", None)
        x = y = 0.0
        if at is not None:
            try:
                x, y = screen_point(at, self.obs.elements, self.crop)
            except ActionError:
                return Site(self._page.url)  # running it will fail with the same message
        r = self.browser.call(self._script(SITE_JS, [x, y, at is not None]))
        clicks = isinstance(action, (A.Click, A.DoubleClick))
        return Site(r["url"], r["link"], r["download"], r["form_action"] if r["submits"] or not clicks else "",
                    tuple(r["values"]))

    async def _guard_request(self, route, request) -> None:
        try:
            body = request.post_data_buffer
        except Exception:  # a body Playwright cannot read is not one we can check either
            body = None
        navigation = request.is_navigation_request()
        verdict = self.safety.check_request(request.url, navigation, body)
        if verdict.decision == "allow":
            await route.fallback()
        else:
            self._blocked.append((verdict, request.url if navigation else ""))
            await route.abort("aborted")  # "aborted", not "blockedbyclient": the page stays where it was

    async def _on_download(self, download) -> None:
        target = f"download:{download.url}"
        if target in self.safety.approved:
            folder = self.downloads_dir or Path(tempfile.mkdtemp(prefix="screenwise-downloads-"))
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / Path(download.suggested_filename).name
            await download.save_as(path)
            self.downloads.append(path)
        else:
            await download.cancel()
            reason = f"the page started a download of {download.suggested_filename}"
            self._blocked.append((Verdict("deny", "download", reason, target), ""))

    def _report_blocked(self, error: str) -> tuple[str, bool]:
        """The requests and downloads the gate stopped, told to the model: (error text, whether the page moved).

        A stopped navigation still goes ahead if the person, asked now, approves it; then the page opens it."""
        stopped, self._blocked = self._blocked, []
        notes, moved = [error] if error else [], False
        for verdict, url in stopped:
            ask = verdict.kind == "navigation" and url and self.safety.confirm is not None
            if self.safety.review(replace(verdict, decision="ask" if ask else "deny")):
                self.browser.call(self._page.goto(url, wait_until="load"))
                moved = True
            else:
                notes.append(f"Blocked: {verdict.reason}.")
        return self.safety.redact(" ".join(notes)), moved

    # -- observation ---------------------------------------------------------------------------------------
    def _observe(self, error: str) -> Observation:
        return self.browser.call(self._observe_async(error))[0]

    async def _observe_async(self, error: str, before: dict | None = None,
                             score_js: str | None = None) -> tuple[Observation, Any]:
        """The observation, and the raw result of ``score_js``, read in one script call (with the screenshot
        beside it). ``before``: the navigation counts from before an action that may have started one; when it
        did, the new page is waited for and looked at instead."""
        x, y, w, h = self.crop
        script = observe_script(score_js)
        for attempt in range(10):
            try:
                facts_job = self._script(script, [x, y, w, h, before is not None])
                if self.want_screenshot:
                    facts, shot = await asyncio.wait_for(asyncio.gather(facts_job, self._screenshot()),
                                                         OBSERVE_STALL_S)
                else:
                    facts, shot = await asyncio.wait_for(facts_job, OBSERVE_STALL_S), None
            except Exception as e:
                # The action started a navigation (a link, a form): look again once the new page is there. It
                # may live in a new renderer, which the old CDP session no longer reaches (a screenshot asked
                # of it can then wait for ever: a stall counts as a navigation too).
                stalled = isinstance(e, TimeoutError)
                if (attempt == 9 or not (stalled or any(m in str(e) for m in NAVIGATION_ERRORS))
                        or self._page.is_closed()):
                    raise
                if before is not None:  # the document went away under the call: a navigation is under way
                    await self._await_navigation(before, asked=True)
                    before = None
                await asyncio.sleep(0.05 * (attempt + 1))
                await self._page.wait_for_load_state("load")
                await self._session(fresh=True)
                continue
            if before is not None and (facts["asked"] or self._navigation["request"] != before["request"]):
                await self._await_navigation(before, facts["asked"])
                before = None
                continue  # and look at the new page
            if facts.get("loading"):  # a new document, not parsed yet: look once it has loaded
                await self._page.wait_for_load_state("load")
                continue
            break
        band = getattr(self.task, "instruction_band", 0)  # the task's instruction text, given separately
        rows = [r for r in facts["elements"] if r[2][1] >= band] if band else facts["elements"]
        elements = [Element(i, role, text, tuple(box), state) for i, (role, text, box, state) in enumerate(rows)]
        return Observation(shot, self.instruction, elements, facts["url"], facts["title"], error), facts["score"]

    async def _screenshot(self) -> Image.Image:
        x, y, w, h = self.crop
        # CDP directly: Playwright's page.screenshot adds font and caret waits we do not need.
        data = await (await self._session()).send("Page.captureScreenshot", {
            "format": "png", "optimizeForSpeed": True,
            "clip": {"x": x, "y": y, "width": w, "height": h, "scale": 1},
        })
        img = Image.open(io.BytesIO(base64.b64decode(data["data"])))
        img.load()
        return img.convert("RGB")

    def screenshot(self) -> Image.Image:
        return self.browser.call(self._screenshot())

    async def _session(self, fresh: bool = False):
        """The page's DevTools session (scripts, screenshots), made again once the main frame has committed a new
        document: that may live in a new renderer, which the old session no longer reaches."""
        async with self._cdp_lock:  # a screenshot and a script ask at once; one new session serves both
            if fresh or self._cdp_document != self._navigation["commit"]:
                old, self._cdp_document = self._cdp, self._navigation["commit"]
                self._cdp = await self._page.context.new_cdp_session(self._page)
                try:
                    await old.detach()
                except Exception:  # already gone with its renderer
                    pass
            return self._cdp

    async def _script(self, js: str, arg: Any = None) -> Any:
        return await run_script(await self._session(), self._page, js, arg)

    # -- the executor's primitives (envs/executor.py), in page pixels ----------------------------------------
    # Those that may start a navigation (a link, a form sent by a click or an Enter) say so; the turn's last look
    # then asks the page whether it did.
    def click(self, x: int, y: int) -> None:
        self._input(self._page.mouse.click(x, y), navigates=True)

    def double_click(self, x: int, y: int) -> None:
        self._input(self._page.mouse.dblclick(x, y), navigates=True)

    def right_click(self, x: int, y: int) -> None:
        self._input(self._page.mouse.click(x, y, button="right"))

    def move(self, x: int, y: int) -> None:
        self._input(self._page.mouse.move(x, y))

    def drag(self, x0: int, y0: int, x1: int, y1: int) -> None:
        async def drag():
            mouse = self._page.mouse
            await mouse.move(x0, y0)
            await mouse.down()
            await mouse.move(x1, y1, steps=5)
            await mouse.up()

        self._input(drag())

    def type_text(self, text: str) -> None:
        async def type_pieces():
            kb = self._page.keyboard
            for piece, secret in self.safety.split_secrets(text):
                # A secret goes in as one edit: a page that logs keys or input events never sees part of it.
                await (kb.insert_text(piece) if secret else kb.type(piece))

        self._input(type_pieces(), navigates=True)

    def press(self, keys: list[str]) -> None:
        self._input(self._page.keyboard.press("+".join(playwright_key(k) for k in keys)), navigates=True)

    def scroll(self, dx: int, dy: int) -> None:
        async def wheel():
            await self._page.mouse.wheel(dx * SCROLL_PIXELS, dy * SCROLL_PIXELS)
            await self._script(TWO_FRAMES_JS)  # the wheel scrolls asynchronously

        self._input(wheel())

    def wait(self, seconds: float) -> None:
        time.sleep(seconds)

    def select(self, x: int, y: int, option: str) -> None:
        problem = self.browser.call(self._script(SELECT_JS, [x, y, option]))
        if problem:
            raise ActionError(problem)
        self._may_navigate = True  # a change handler may send a form

    def goto(self, url: str) -> None:
        self._open(self._page.goto(url, wait_until="load"))

    def back(self) -> None:
        self._open(self._page.go_back(wait_until="load"))

    def _input(self, job, navigates: bool = False) -> None:
        self.browser.call(job)
        self._may_navigate = self._may_navigate or navigates

    def _open(self, job) -> None:
        from playwright.async_api import Error as PlaywrightError

        try:
            self.browser.call(job)
        except PlaywrightError as e:  # an unreachable host, a refused request: the model can try another
            raise ActionError(f"the page did not open: {str(e).splitlines()[0]}") from None

    # -- crashes -------------------------------------------------------------------------------------------
    def _raise_if_crashed(self, error: Exception) -> None:
        if not self.browser.alive or self._page.is_closed():
            raise BrowserCrashed(f"the browser died during the episode: {error}") from error

    def _recover(self) -> None:
        """A fresh page, after relaunching Chromium if it died. A page that cannot be opened (the new browser
        died too, or hung while starting) is the browser's failure, not the episode's: BrowserCrashed."""
        try:
            self.browser.restart_if_dead(self._generation)
            self._open_page()
            self._generation = self.browser.generation  # only once a page is open: else the next reset retries
        except Exception as e:
            raise BrowserCrashed(f"could not open a page on a relaunched browser: {type(e).__name__}: {e}") from e
        self.obs = None
