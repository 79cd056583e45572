"""DesktopEnv: an X11 display as a gymnasium-style env, driven by pyautogui and seen through mss and OCR.

By default the env starts its own :class:`Xvfb` (a sandbox: nothing the agent does reaches your screen).
``DesktopEnv(display=":1")`` or ``DesktopEnv(real_display=True)`` drives an existing display, only when
asked; there pyautogui's FAILSAFE stays on (throw the mouse into a corner to stop the agent).

Data enters as actions (``core.actions``) in screen pixels or element references, and leaves as an
:class:`core.env.Observation`: a screenshot of the whole screen taken once it stops changing, and the text
OCR finds on it, and the text fields found by their look, as elements (``envs/screen_elements.py``).

The sandbox has no window manager. Two of its jobs are done here, so that keys go where a person expects:
a click gives the keyboard focus to the window under the pointer, and a new episode focuses the newest window.

Tasks (``envs/tasks/desktop/``) launch their programs with :meth:`DesktopEnv.launch` and read the real state
they leave (files written, an app's state file). The privileged handle tasks and teachers get, ``env.page``,
is the env itself: its display, its work directory, its processes.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

from PIL import Image

from core.env import MAX_STEPS, ActionError, EnvCrashed, Observation
from envs.base import run_turn
from envs.executor import dispatch, parse_keys
from envs.screen_elements import screen_elements
from envs.safety import SafetyPolicy, Site

INSTALL_HINT = "pip install 'screenwise[desktop]'"

PYAUTOGUI_KEYS = {"meta": "win", "escape": "esc", "menu": "apps"}
"""Canonical key names (envs/executor.py ``parse_keys``) that pyautogui spells otherwise; the rest it spells alike."""


def desktop_keys(combo: str) -> list[str]:
    """'ctrl shift t' -> ['ctrl', 'shift', 't'] in pyautogui's key names. Raises ActionError for unknown keys."""
    return [PYAUTOGUI_KEYS.get(k, k.lower()) for k in parse_keys(combo)]  # 'ctrl S' means ctrl+s, not ctrl+shift+s


# -- the X server -------------------------------------------------------------------------------------------

class Xvfb:
    """A private, virtual X server on a free display number; ``with Xvfb() as x: ... x.display``.

    It never takes a display that is in use: numbers with a lock file or a socket are skipped, and Xvfb
    itself refuses a number another server holds (then the next one is tried). ``-displayfd`` makes Xvfb
    report the number only once it accepts connections, so no polling is needed.
    """

    def __init__(self, size: tuple[int, int] = (1024, 768), depth: int = 24, first: int = 99):
        self.size, self.depth, self.first = size, depth, first
        self.display = ""
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "Xvfb":
        if shutil.which("Xvfb") is None:
            raise RuntimeError("Xvfb is not installed: sudo apt-get install -y xvfb xdotool")
        w, h = self.size
        problems = []
        for n in range(self.first, self.first + 200):
            if Path(f"/tmp/.X{n}-lock").exists() or Path(f"/tmp/.X11-unix/X{n}").exists():
                continue
            rfd, wfd = os.pipe()
            log = tempfile.TemporaryFile()
            proc = subprocess.Popen(
                ["Xvfb", f":{n}", "-displayfd", str(wfd), "-screen", "0", f"{w}x{h}x{self.depth}",
                 "-nolisten", "tcp", "-noreset"],
                pass_fds=(wfd,), stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
            os.close(wfd)
            got, deadline = b"", time.monotonic() + timeout
            try:
                while not got.endswith(b"\n") and time.monotonic() < deadline and proc.poll() is None:
                    ready, _, _ = select.select([rfd], [], [], 0.1)
                    if ready:
                        chunk = os.read(rfd, 32)
                        if not chunk:
                            break
                        got += chunk
            finally:
                os.close(rfd)
            if got.strip() == str(n).encode():
                self.proc, self.display = proc, f":{n}"
                weakref.finalize(self, _stop, proc)  # at exit too: a crashed run leaves no server behind
                return self
            _stop(proc)
            log.seek(0)
            problems.append(f":{n}: {log.read().decode(errors='replace').strip()[-300:]}")
            if len(problems) >= 3:
                break
        raise RuntimeError("could not start Xvfb: " + " | ".join(problems))

    def stop(self) -> None:
        if self.proc is not None:
            if "pyautogui" in sys.modules:
                _forget_display(self.display)
            _stop(self.proc)
            self.proc = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> "Xvfb":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


def _stop(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """End a process we started and its process group (an xterm's shell, say): TERM, then KILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.wait(grace)


def _stop_all(procs: list[subprocess.Popen]) -> None:
    while procs:
        _stop(procs.pop())


_gui_connections: dict[str, object] = {}  # display -> pyautogui's X connection to it


def pyautogui_for(display: str):
    """pyautogui, pointed at ``display``.

    pyautogui opens its X connection when imported, from ``$DISPLAY``, so DISPLAY is set for the import; an
    env on another display afterwards gets its own connection swapped in (envs call this before acting).
    Key codes are read once, at import: every Xvfb has the same keymap, and a process drives at most one
    real display.
    """
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        import pyautogui
        from pyautogui import _pyautogui_x11 as x11
    except ImportError as e:
        raise ImportError(f"the desktop env needs pyautogui, mss, rapidocr and python-xlib: {INSTALL_HINT}") from e
    finally:
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous
    bound = getattr(x11, "_screenwise_display", None)
    if bound is None:  # the connection the import opened
        _gui_connections[display] = x11._display
    elif bound != display:
        if display not in _gui_connections:
            from Xlib.display import Display

            _gui_connections[display] = Display(display)
        x11._display = _gui_connections[display]
    x11._screenwise_display = display
    pyautogui.PAUSE = 0  # its default 0.1 s after every call; the env waits for the screen instead
    return pyautogui


def _forget_display(display: str) -> None:
    """Drop pyautogui's connection to a server that is going away (a new one may reuse its number)."""
    conn = _gui_connections.pop(display, None)
    from pyautogui import _pyautogui_x11 as x11

    if getattr(x11, "_screenwise_display", None) == display:
        x11._screenwise_display = ""
    if conn is not None:
        try:
            conn.close()
        except Exception:
            pass


def _mss_for(display: str):
    try:
        import mss
    except ImportError as e:
        raise ImportError(f"the desktop env needs mss for screenshots: {INSTALL_HINT}") from e
    factory = getattr(mss, "MSS", None) or mss.mss
    return factory(display=display)


# -- the env ------------------------------------------------------------------------------------------------

class DesktopEnv:
    """One X display running one desktop task at a time.

    ``task`` has ``setup(env, seed) -> instruction``, ``validate(env) -> (reward, done, info)``, optionally
    ``teacher(obs, env)`` and ``close()``; swap it between episodes with ``reset(options={'task': t})``.
    ``ocr=False`` leaves the element list empty, for policies that never read it (the privileged teachers):
    OCR is most of a step's cost. ``safety`` gates every action (``envs/safety.py``: destructive shell
    commands, system hotkeys, secrets); by default risky actions are denied.

    It is its own executor (core/env.py ``Executor``; envs/executor.py): ``dispatch`` gives each action its meaning and calls the
    primitives below with points in screen pixels.
    """

    where = "on a desktop"

    def __init__(self, task=None, *, display: str | None = None, real_display: bool = False,
                 xvfb: Xvfb | None = None, size: tuple[int, int] = (1024, 768), max_steps: int = MAX_STEPS,
                 settle: float = 0.08, settle_max: float = 1.5, ocr: bool = True, scroll_clicks: int = 2,
                 safety: SafetyPolicy | None = None):
        self.task = task
        self.safety = safety or SafetyPolicy()
        self.max_steps = max_steps
        self.settle, self.settle_max = settle, settle_max
        self.want_ocr = ocr
        self.scroll_clicks = scroll_clicks
        self._clicked_at = 0.0  # when the last click went down (typing right after one waits for its focus)
        self._xvfb: Xvfb | None = None
        if xvfb is not None:  # a sandbox someone else started (tests share one)
            self.display, self.sandbox = xvfb.display, True
        elif display is None and not real_display:
            self._xvfb = Xvfb(size).start()
            self.display, self.sandbox = self._xvfb.display, True
        else:
            self.display = display or os.environ.get("DISPLAY", "")
            if not self.display:
                raise RuntimeError("real_display=True needs $DISPLAY (or pass display=':N')")
            self.sandbox = False
        try:
            self._connect()
        except BaseException:
            self._stop_xvfb()
            raise
        self._root = Path(tempfile.mkdtemp(prefix="screenwise-desktop-"))
        self.workdir = self._root
        self.episode = 0
        self._procs: list[subprocess.Popen] = []
        weakref.finalize(self, _stop_all, self._procs)  # at exit too: a crashed run leaves no app behind
        self.page = self  # the privileged handle tasks and teachers get, as BrowserEnv's page
        self.steps = 0
        self.actions_run = 0
        self.done = False
        self.instruction = ""
        self.obs: Observation | None = None

    # -- gymnasium API ---------------------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[Observation, dict]:
        options = options or {}
        self._end_episode()
        if self._xvfb is not None and not self._xvfb.alive:
            self._restart_display()
        if "task" in options:
            self.task = options["task"]
        if self.task is None:
            raise ValueError("DesktopEnv.reset needs a task: DesktopEnv(task) or reset(options={'task': t})")
        seed = 0 if seed is None else int(seed)
        self.episode += 1
        self.workdir = self._root / f"episode-{self.episode}"
        self.workdir.mkdir()
        self._gui = pyautogui_for(self.display)
        self._gui.FAILSAFE = not self.sandbox
        if self.sandbox:  # a neutral pointer: no hover highlight carries over from the last episode
            self._gui.moveTo(self.size[0] - 1, self.size[1] - 1)
        self.instruction = self.task.setup(self, seed)
        if self.sandbox:
            self._focus_newest_window()
        self.steps = 0
        self.actions_run = 0  # tasks key their privileged reads on it: new input means the state may have moved
        self.done = False
        self.obs = self.observe()
        return self.obs, {"task": getattr(self.task, "id", ""), "seed": seed}

    def step(self, action) -> tuple[Observation, float, bool, bool, dict]:
        """One turn: an action, or a list of actions run in order until one fails or the episode ends."""
        try:
            return run_turn(self, action, execute=self._run_action, ended=self._episode_over,
                            finish=self._finish_turn, site=lambda a: Site("desktop"))
        except Exception as e:
            if not self.alive:
                raise EnvCrashed(f"the display died during the episode: {e}") from e
            raise

    def observe(self) -> Observation:
        """Look again without acting (a person may have used the screen); secret values redacted."""
        self.obs = self.safety.redact_observation(self._observe(""))
        return self.obs

    @property
    def alive(self) -> bool:
        """False once the sandbox display died under the episode (the next reset starts a new one)."""
        return self._xvfb is None or self._xvfb.alive

    @property
    def screen(self) -> tuple[int, int, int, int]:
        return self._monitor["left"], self._monitor["top"], *self.size

    def close(self) -> None:
        self._end_episode()
        try:
            if not self.sandbox:
                self._restore_keymap()
            self._x.close()
        except Exception:
            pass
        try:
            self._shooter.close()
        except Exception:
            pass
        self._stop_xvfb()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> "DesktopEnv":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- programs ------------------------------------------------------------------------------------------
    def launch(self, argv: list[str], cwd: str | Path | None = None, env: dict | None = None) -> subprocess.Popen:
        """Start a program on this display, in the episode's work directory; it ends with the episode."""
        proc_env = {**os.environ, **(env or {}), "DISPLAY": self.display}
        log = open(self.workdir / "programs.log", "ab")
        try:
            proc = subprocess.Popen(argv, cwd=str(cwd or self.workdir), env=proc_env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        self._procs.append(proc)
        return proc

    def xdotool(self, *args: str, timeout: float = 10.0) -> str:
        """Run xdotool on this display (privileged queries: window search, geometry) and return its output."""
        if shutil.which("xdotool") is None:
            raise RuntimeError("xdotool is not installed: sudo apt-get install -y xdotool")
        out = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": self.display},
                             capture_output=True, text=True, timeout=timeout)
        return out.stdout

    def _end_episode(self) -> None:
        if self.task is not None and hasattr(self.task, "close"):
            self.task.close()
        _stop_all(self._procs)
        if self.workdir != self._root:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _stop_xvfb(self) -> None:
        if self._xvfb is not None:
            self._xvfb.stop()
            self._xvfb = None

    # -- connections ---------------------------------------------------------------------------------------
    def _connect(self) -> None:
        """pyautogui, mss and an Xlib connection of our own (focus, keymap) to ``self.display``."""
        from Xlib.display import Display

        self._gui = pyautogui_for(self.display)
        self._shooter = _mss_for(self.display)
        self._x = Display(self.display)
        self._monitor = self._shooter.monitors[0]
        self.size = (self._monitor["width"], self._monitor["height"])
        self._added_keys: dict[int, int] = {}  # keysym -> the spare key code typing put it on
        self._spare_keys: list[int] | None = None
        self._keysyms_per_code = 2
        if self.sandbox:
            self._paint_root()

    def _restart_display(self) -> None:
        """Our Xvfb died (killed, crashed): start a fresh one; the episode that saw it die is lost."""
        print(f"screenwise: the Xvfb on {self.display} died; starting a new one", file=sys.stderr)
        for conn in (self._x, self._shooter):
            try:
                conn.close()
            except Exception:
                pass
        self._xvfb.stop()
        self._xvfb = Xvfb(self._xvfb.size).start()
        self.display = self._xvfb.display
        self._connect()

    # -- observation ---------------------------------------------------------------------------------------
    def screenshot(self) -> Image.Image:
        shot = self._shooter.grab(self._monitor)
        return Image.frombytes("RGB", shot.size, shot.rgb)

    def _settle(self) -> Image.Image:
        """Wait ``settle`` seconds, then until two screenshots 30 ms apart agree (at most ``settle_max``)."""
        time.sleep(self.settle)
        deadline = time.monotonic() + self.settle_max
        last = self._shooter.grab(self._monitor)
        while time.monotonic() < deadline:
            time.sleep(0.03)
            shot = self._shooter.grab(self._monitor)
            if shot.raw == last.raw:
                break
            last = shot
        return Image.frombytes("RGB", last.size, last.rgb)

    def _episode_over(self) -> bool:
        self._settle()
        return self.task.validate(self)[1]

    def _finish_turn(self, error: str) -> tuple[Observation, float, bool, dict]:
        shot = self._settle()
        reward, done, info = self.task.validate(self)
        return self._observe(error, shot), reward, done, info

    def _observe(self, error: str, shot: Image.Image | None = None) -> Observation:
        shot = shot if shot is not None else self._settle()
        elements = []
        if self.want_ocr:
            elements = screen_elements(shot)
        return Observation(shot, self.instruction, elements, "", getattr(self.task, "title", ""), error)

    # -- execution: the executor's primitives (envs/executor.py), in screen pixels ---------------------------
    def _run_action(self, action) -> None:
        self._gui = pyautogui_for(self.display)  # another env in this process may have rebound it
        self._gui.FAILSAFE = not self.sandbox  # per call: one process may hold a sandbox and a real display
        self.actions_run += 1
        dispatch(action, self, self.obs.elements)

    def click(self, x: int, y: int) -> None:
        self._press_here(x, y)
        self._gui.click(x, y)

    def double_click(self, x: int, y: int) -> None:
        self._press_here(x, y)
        self._gui.doubleClick(x, y, interval=0.05)

    def right_click(self, x: int, y: int) -> None:
        self._press_here(x, y)
        self._gui.rightClick(x, y)

    def move(self, x: int, y: int) -> None:
        self._gui.moveTo(x, y)

    def drag(self, x0: int, y0: int, x1: int, y1: int) -> None:
        self._press_here(x0, y0)
        self._gui.mouseDown(x0, y0)
        for i in range(1, 11):  # apps see the motion in steps, as from a hand
            time.sleep(0.015)
            self._gui.moveTo(round(x0 + (x1 - x0) * i / 10), round(y0 + (y1 - y0) * i / 10))
        time.sleep(0.03)
        self._gui.mouseUp(x1, y1)

    def type_text(self, text: str) -> None:
        time.sleep(max(0.0, self._clicked_at + 0.03 - time.monotonic()))  # the window a click focused gets the keys
        if not text:
            return
        if text.isascii():
            self._gui.write(text)
        else:
            self._type_any(text)

    def press(self, keys: list[str]) -> None:
        names = [PYAUTOGUI_KEYS.get(k, k.lower()) for k in keys]
        mapping = _key_codes()
        missing = [k for k in names if mapping.get(k) is None]
        if missing:
            raise ActionError(f"this display has no key {missing[0]!r} (hotkey(key={' '.join(keys)!r}))")
        self._gui.hotkey(*names)

    def scroll(self, dx: int, dy: int) -> None:
        if dy:
            self._gui.scroll(-dy * self.scroll_clicks)  # pyautogui: positive is up
        if dx:
            self._gui.hscroll(dx * self.scroll_clicks)

    def wait(self, seconds: float) -> None:
        time.sleep(seconds)

    def _type_any(self, text: str) -> None:
        """Type any Unicode text with XTest, through key codes of our own for characters the keymap lacks.

        ``xdotool type`` remaps a key code for each character and restores it at once; a client whose Xlib has
        read the restore by the time it handles the key press gets nothing (measured here: a third of non-ASCII
        strings typed into Tk lost characters). So the needed characters are mapped once, before the first key
        press, and stay mapped; a real display gets its keymap back on close().
        """
        from Xlib import XK, X
        from Xlib.ext import xtest

        d = self._x
        shift = d.keysym_to_keycode(XK.string_to_keysym("Shift_L"))
        special = {"\n": XK.string_to_keysym("Return"), "\t": XK.string_to_keysym("Tab")}
        plan = [self._keycode_for(special.get(ch) or _keysym(ch)) for ch in text]
        d.sync()
        time.sleep(0.02)
        for code, shifted in plan:
            if shifted:
                xtest.fake_input(d, X.KeyPress, shift)
            xtest.fake_input(d, X.KeyPress, code)
            xtest.fake_input(d, X.KeyRelease, code)
            if shifted:
                xtest.fake_input(d, X.KeyRelease, shift)
            d.sync()
            time.sleep(0.004)

    def _keycode_for(self, keysym: int) -> tuple[int, bool]:
        """(key code, needs shift) for a keysym, mapping it onto a spare key code when the keymap lacks it."""
        if keysym in self._added_keys:
            return self._added_keys[keysym], False
        for code, index in self._x.keysym_to_keycodes(keysym):
            if index in (0, 1):
                return code, index == 1
        if self._spare_keys is None:
            first = self._x.display.info.min_keycode
            rows = self._x.get_keyboard_mapping(first, self._x.display.info.max_keycode - first + 1)
            self._keysyms_per_code = len(rows[0])
            self._spare_keys = [first + i for i, row in enumerate(rows) if not any(row)]
        if not self._spare_keys:  # every spare code is in use: recycle the oldest
            oldest = next(iter(self._added_keys))
            self._spare_keys.append(self._added_keys.pop(oldest))
        code = self._spare_keys.pop(0)
        self._x.change_keyboard_mapping(code, [(keysym, keysym) + (0,) * (self._keysyms_per_code - 2)])
        self._added_keys[keysym] = code
        return code, False

    def _restore_keymap(self) -> None:
        for code in self._added_keys.values():
            self._x.change_keyboard_mapping(code, [(0,) * self._keysyms_per_code])
        self._added_keys.clear()
        self._x.sync()

    # -- the window manager's two jobs, in the sandbox only --------------------------------------------------
    def _press_here(self, x: int, y: int) -> None:
        """Click-to-focus: give the keyboard to the top-level window under (x, y) before the button goes down."""
        self._clicked_at = time.monotonic()
        if not self.sandbox:
            return
        self._gui.moveTo(x, y)
        from Xlib import X

        try:
            child = self._x.screen().root.query_pointer().child
            if child and self._focusable(child):
                child.set_input_focus(X.RevertToPointerRoot, X.CurrentTime)
                self._x.sync()
        except Exception:  # the window went away between the query and the focus: nothing to focus
            pass

    def _paint_root(self, rgb: int = 0x2F3E4C) -> None:
        """A plain slate desktop rather than Xvfb's black (one colour, so OCR still skips it)."""
        root = self._x.screen().root
        root.change_attributes(background_pixel=rgb)
        root.clear_area(0, 0, 0, 0)
        self._x.sync()

    def _focus_newest_window(self) -> None:
        from Xlib import X

        try:
            for child in reversed(self._x.screen().root.query_tree().children):  # top of the stack first
                if self._focusable(child):
                    child.set_input_focus(X.RevertToPointerRoot, X.CurrentTime)
                    self._x.sync()
                    return
        except Exception:
            pass

    @staticmethod
    def _focusable(window) -> bool:
        from Xlib import X

        attrs = window.get_attributes()
        return attrs.map_state == X.IsViewable and not attrs.override_redirect


def _keysym(ch: str) -> int:
    """X keysym of a character: Latin-1 keysyms equal the code point; the rest are 0x01000000 + code point."""
    cp = ord(ch)
    return cp if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF else 0x01000000 + cp


def _key_codes() -> dict:
    from pyautogui import _pyautogui_x11 as x11

    return x11.keyboardMapping
