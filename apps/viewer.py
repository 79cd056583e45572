"""The trajectory viewer: static HTML pages written next to the trajectories, read straight from disk.

``write_viewer(run_dir)`` writes ``run_dir/index.html``, a table of every episode under ``run_dir`` with the
success rate, and a ``view.html`` inside each episode directory: the instruction, then every step (its
screenshot with the action's points marked, the reflection, thought, actions, errors, feedback, reward and
timing), then the final screenshot and the result. The pages hold no scripts and load nothing from the
network; screenshots are the episode's own PNG files, linked by relative paths, so a run directory can be
copied or zipped and still be viewed.

Points in the actions are in the model's coordinate space. A header that names the space (``coord_space``,
at the top or in ``config``) is converted to screen pixels; otherwise a point is drawn as a screen pixel when
it falls inside the screenshot and listed as unmarked when it does not. Element references are shown as text:
the step lines do not record element boxes.
"""

from __future__ import annotations

import json
import math
import os
import time
from html import escape
from pathlib import Path
from urllib.parse import quote

from PIL import Image

from agent.trajectory import Trajectory, find_trajectories, read_trajectory
from core import actions as A
from core.coords import to_screen

PAGE = "view.html"
"""The episode page's file name, inside each episode directory."""

"""How the loop tells the model its last action failed (``agent.memory.observation_notes``). The step lines
do not carry executor errors, so the viewer finds them in the next step's prompt."""

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; margin: 0.2em 0; } h2 { font-size: 1.1em; margin: 0 0 0.5em; }
a { color: #0550ae; } code, pre { font: 12.5px/1.4 ui-monospace, monospace; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: 0.5em; margin: 0.3em 0; }
table { border-collapse: collapse; } th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; text-align: left; }
table.tasks { margin-bottom: 1em; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1a7f37; font-weight: 600; } .fail { color: #cf222e; font-weight: 600; } .muted { color: #777; }
.badge { display: inline-block; padding: 0 0.5em; border-radius: 0.7em; background: #eee; font-size: 0.9em; }
.badge.ok { background: #dafbe1; } .badge.fail { background: #ffebe9; }
.badge.incomplete { background: #fff1c2; color: #7a4d00; }
.instruction { font-size: 1.1em; background: #f0f4ff; border-left: 4px solid #0550ae; padding: 0.5em 0.8em; }
.step, .final { border-top: 1px solid #ccc; padding: 1em 0; }
.row { display: flex; gap: 1.2em; align-items: flex-start; } .text { flex: 1; min-width: 0; }
.shot { position: relative; flex: none; max-width: 100%; }
.shot img { display: block; width: 100%; height: auto; image-rendering: pixelated; outline: 1px solid #bbb; }
.shot svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: visible; }
.marker .halo { fill: none; stroke: #fff; stroke-width: 3; }
.marker .ring { fill: none; stroke: #e0007a; stroke-width: 1.5; } .marker .dot { fill: #e0007a; }
.marker text { fill: #e0007a; stroke: #fff; stroke-width: 2.5; paint-order: stroke; font: bold 8px sans-serif; }
.label { font-weight: 600; color: #555; margin-top: 0.4em; }
ol.actions { margin: 0.2em 0; padding-left: 1.5em; }
.error { background: #ffebe9; border-left: 4px solid #cf222e; color: #82071e; padding: 0.3em 0.6em; margin: 0.4em 0; }
.feedback { background: #fff8c5; border-left: 4px solid #d4a72c; color: #6b4a00; padding: 0.3em 0.6em;
  margin: 0.4em 0; }
details { margin-top: 0.4em; } summary { cursor: pointer; color: #555; }
"""


def write_viewer(run_dir: str | Path) -> Path:
    """Write ``index.html`` into ``run_dir`` and a ``view.html`` into every episode directory under it.

    Returns the path of ``index.html``. Files that are not trajectories of this format are listed as skipped.
    """
    run_dir = Path(run_dir)
    episodes, skipped = [], []
    for path in find_trajectories(run_dir):
        try:
            episodes.append(read_trajectory(path))
        except (ValueError, OSError) as e:
            skipped.append((path, str(e)))
    episodes.sort(key=_order)
    index = run_dir / "index.html"
    for i, traj in enumerate(episodes):
        nav = {"index": _href(index, traj.dir),
               "previous": _href(episodes[i - 1].dir / PAGE, traj.dir) if i > 0 else "",
               "next": _href(episodes[i + 1].dir / PAGE, traj.dir) if i + 1 < len(episodes) else ""}
        (traj.dir / PAGE).write_text(episode_page(traj, nav), encoding="utf-8")
    index.write_text(index_page(run_dir, episodes, skipped), encoding="utf-8")
    return index


# -- the index ---------------------------------------------------------------------------------------------

def summary(traj: Trajectory) -> dict:
    """One row of the index. An episode with no end line (a killed run) has status 'incomplete'."""
    h, end = traj.header, traj.end
    row = {"task": h.get("task", ""), "seed": h.get("seed"), "model": h.get("model", ""), "steps": len(traj.steps)}
    if end is None:
        last_reward = traj.steps[-1].get("reward") if traj.steps else None
        return {**row, "status": "incomplete", "success": None, "reward": last_reward, "seconds": None}
    return {**row, "status": end.get("status", ""), "success": bool(end.get("success")),
            "reward": end.get("reward"), "steps": end.get("steps", len(traj.steps)), "seconds": end.get("seconds")}


def index_page(run_dir: Path, episodes: list[Trajectory], skipped: list[tuple[Path, str]]) -> str:
    rows = [summary(t) for t in episodes]
    n, wins = len(rows), sum(bool(r["success"]) for r in rows)
    incomplete = sum(r["status"] == "incomplete" for r in rows)
    rate = f"{wins / n:.1%}" if n else "n/a"
    body = [f"<h1>{escape(run_dir.name or str(run_dir))}</h1>",
            f'<p class="rate">Success rate <b>{rate}</b>: {wins} of {n} episodes succeeded'
            + (f', <span class="badge incomplete">{incomplete} incomplete</span>' if incomplete else "") + ".</p>"]
    tasks: dict[str, list[dict]] = {}
    for r in rows:
        tasks.setdefault(r["task"], []).append(r)
    if len(tasks) > 1:
        body.append('<table class="tasks"><tr><th>task</th><th class="num">episodes</th>'
                    '<th class="num">success</th></tr>')
        for task, rs in tasks.items():
            body.append(f'<tr><td>{escape(str(task))}</td><td class="num">{len(rs)}</td>'
                        f'<td class="num">{sum(bool(r["success"]) for r in rs) / len(rs):.0%}</td></tr>')
        body.append("</table>")
    head = "".join(f'<th class="{c}">{name}</th>' for name, c in
                   (("task", ""), ("seed", "num"), ("model", ""), ("status", ""), ("success", ""),
                    ("reward", "num"), ("steps", "num"), ("seconds", "num")))
    body.append(f'<table class="episodes"><tr>{head}</tr>')
    for traj, r in zip(episodes, rows):
        link = escape(_href(traj.dir / PAGE, run_dir))
        body.append(
            f'<tr class="episode"><td><a href="{link}">{escape(str(r["task"]) or traj.dir.name)}</a></td>'
            f'<td class="num">{escape(_text(r["seed"]))}</td><td>{escape(str(r["model"]))}</td>'
            f'<td>{_status_badge(r["status"], r["success"])}</td><td>{_success_mark(r["success"])}</td>'
            f'<td class="num">{_number(r["reward"])}</td><td class="num">{escape(_text(r["steps"]))}</td>'
            f'<td class="num">{_number(r["seconds"], 1)}</td></tr>')
    body.append("</table>")
    if skipped:
        body.append('<p class="label">Skipped</p><ul>' + "".join(
            f"<li><code>{escape(str(p.relative_to(run_dir)))}</code>: {escape(msg)}</li>" for p, msg in skipped)
            + "</ul>")
    return _document(f"{run_dir.name}: trajectories", "\n".join(body))


# -- one episode -------------------------------------------------------------------------------------------

def episode_page(traj: Trajectory, nav: dict[str, str] | None = None) -> str:
    """The page of one episode. ``nav`` holds relative links: index, previous, next (empty when none)."""
    nav = nav or {}
    h, row = traj.header, summary(traj)
    links = " · ".join(f'<a href="{escape(nav[k])}">{label}</a>' for k, label in
                       (("index", "all episodes"), ("previous", "← previous"), ("next", "next →")) if nav.get(k))
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(h["started"])) if h.get("started") else ""
    body = [f'<nav class="muted">{links}</nav>' if links else "",
            f'<h1>{escape(str(row["task"]) or traj.dir.name)} · seed {escape(_text(row["seed"]))} '
            f'{_status_badge(row["status"], row["success"])}</h1>',
            f'<p class="muted">model {escape(str(row["model"]))} · {len(traj.steps)} step lines'
            + (f" · started {started}" if started else "") + "</p>",
            f'<div class="instruction">{escape(str(h.get("instruction", "")))}</div>']
    if h.get("config"):
        config = escape(json.dumps(h["config"], indent=1))
        body.append(f"<details><summary>config</summary><pre>{config}</pre></details>")
    space = h.get("coord_space") or (h.get("config") or {}).get("coord_space")
    for i, step in enumerate(traj.steps):
        errors = [step["action_error"]] if step.get("action_error") else []
        body.append(_step_block(traj.dir, step, errors, space))
    body.append(_final_block(traj))
    return _document(f"{row['task']} seed {_text(row['seed'])}", "\n".join(body))


def _step_block(directory: Path, step: dict, action_errors: list[str], space: str | None) -> str:
    index = step.get("index", "?")
    shot = step.get("screenshot")
    size = _image_size(directory / shot) if shot else None
    marks, notes = [], []
    actions = step.get("actions") or []
    for n, text in enumerate(actions, 1):
        mark, note = _marks_for(text, n, len(actions) > 1, size, space)
        marks += mark
        notes.append(note)
    text = []
    for cue in step.get("feedback") or []:
        text.append(f'<div class="feedback"><b>Feedback to the model:</b> {escape(str(cue))}</div>')
    for label in ("reflection", "thought"):
        if step.get(label):
            text.append(f'<div class="label">{label.capitalize()}</div>'
                        f'<div class="{label}">{escape(step[label])}</div>')
    if step.get("actions"):
        items = "".join(f"<li><code>{escape(a)}</code>{note}</li>" for a, note in zip(step["actions"], notes))
        text.append(f'<div class="label">Actions</div><ol class="actions">{items}</ol>')
    if step.get("error"):
        text.append(f'<div class="error"><b>Reply not understood:</b> {escape(str(step["error"]))}</div>')
    for err in action_errors:
        text.append(f'<div class="error"><b>Action failed:</b> {escape(err)}</div>')
    if step.get("raw_output"):
        text.append(f"<details><summary>raw output</summary><pre>{escape(step['raw_output'])}</pre></details>")
    if step.get("prompt"):
        text.append(_prompt_details(step["prompt"]))
    meta = f'reward {_number(step.get("reward"))} · model {_number(step.get("seconds"), 2)} s'
    picture = _screenshot(shot, size, marks) if shot else '<div class="muted">no screenshot</div>'
    return (f'<section class="step" id="step-{escape(str(index))}"><h2>Step {escape(str(index))} '
            f'<span class="muted">{meta}</span></h2><div class="row">{picture}'
            f'<div class="text">{"".join(text)}</div></div></section>')


def _final_block(traj: Trajectory) -> str:
    final = traj.dir / "final.png"
    picture = _screenshot("final.png", _image_size(final), []) if final.exists() else ""
    end = traj.end
    if end is None:
        result = ('<p><span class="badge incomplete">incomplete</span> The run stopped before it wrote an end line '
                  f"(killed or still running); {len(traj.steps)} steps were recorded.</p>")
    else:
        fields = [("status", _status_badge(end.get("status", ""), bool(end.get("success")))),
                  ("success", _success_mark(bool(end.get("success")))), ("reward", _number(end.get("reward"))),
                  ("steps", escape(_text(end.get("steps")))), ("seconds", _number(end.get("seconds"), 2))]
        if end.get("answer"):
            fields.append(("answer", escape(str(end["answer"]))))
        rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in fields)
        result = f"<table>{rows}</table>"
        if end.get("error"):
            result += f'<div class="error">{escape(str(end["error"]))}</div>'
    return (f'<section class="final" id="final"><h2>Result</h2><div class="row">{picture}'
            f'<div class="text">{result}</div></div></section>')


def _prompt_details(messages: list[dict]) -> str:
    parts = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            content = "\n".join(f"[screenshot {p.get('path')}]" if p.get("type") == "image_file"
                                else str(p.get("text", "")) for p in content)
        parts.append(f'<div class="label">{escape(str(m.get("role", "")))}</div><pre>{escape(str(content))}</pre>')
    return f"<details><summary>prompt ({len(messages)} messages)</summary>{''.join(parts)}</details>"


# -- screenshots and markers -------------------------------------------------------------------------------

def _screenshot(name: str, size: tuple[int, int] | None, marks: list[str]) -> str:
    if size is None:
        return f'<div class="muted">screenshot {escape(name)} is missing</div>'
    w, h = size
    scale = 2 if w <= 640 else 1  # small MiniWoB screens (160x210) are shown at 2x, pixel for pixel
    overlay = (f'<svg viewBox="0 0 {w} {h}">{"".join(marks)}</svg>'
               if marks else "")
    return (f'<div class="shot" style="width:{w * scale}px"><img src="{escape(quote(name))}" width="{w * scale}" '
            f'height="{h * scale}" alt="{escape(name)}">{overlay}</div>')


def _marks_for(text: str, n: int, several: bool, size: tuple[int, int] | None,
               space: str | None) -> tuple[list[str], str]:
    """The SVG markers for one action (in screenshot pixels) and a note for the action list."""
    try:
        action = A.parse_action(text)
    except A.ActionParseError:
        return [], ' <span class="muted">(unreadable)</span>'
    if space and size:
        action = to_screen(action, space, size)
    targets = A.targets(action)
    refs = [t for t in targets if isinstance(t, A.ElementRef)]
    points = [t for t in targets if not isinstance(t, A.ElementRef)]
    if refs:
        return [], ' <span class="muted">(element reference: no box recorded, not marked)</span>'
    if not points:
        return [], ""
    if size is None or not all(0 <= x < size[0] and 0 <= y < size[1] for x, y in points):
        where = f"the {size[0]}×{size[1]} screenshot" if size else "a missing screenshot"
        return [], f' <span class="muted">(point outside {where}: model coordinates? not marked)</span>'
    r = max(5, round(min(size) / 40))
    kind = A.NAMES[type(action)]
    title = f"<title>{n}. {escape(text)}</title>"
    shapes = [_ring(x, y, r) for x, y in points]
    if isinstance(action, A.Drag):
        (x1, y1), (x2, y2) = points
        length = math.hypot(x2 - x1, y2 - y1)
        if length > 2 * r:  # from ring edge to ring edge, so the line does not hide the points
            ux, uy = (x2 - x1) / length * r, (y2 - y1) / length * r
            shapes.insert(0, _arrow(x1 + ux, y1 + uy, x2 - ux, y2 - uy, r))
    elif isinstance(action, A.Scroll):
        (x, y), (dx, dy) = points[0], _DIRECTIONS.get(action.direction, (0, 0))
        shapes.append(_arrow(x + dx * r, y + dy * r, x + dx * 3 * r, y + dy * 3 * r, r))
    x, y = points[0]
    label = f"{n}.{kind}" if several else kind
    shapes.append(f'<text x="{x + r + 1}" y="{y - r}">{escape(label)}</text>')
    return [f'<g class="marker" data-action="{escape(kind)}">{title}{"".join(shapes)}</g>'], ""


_DIRECTIONS = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}


def _ring(x: float, y: float, r: float) -> str:
    return (f'<circle class="halo" cx="{x}" cy="{y}" r="{r}"/><circle class="ring" cx="{x}" cy="{y}" r="{r}"/>'
            f'<circle class="dot" cx="{x}" cy="{y}" r="{max(1, r / 4):g}"/>')


def _arrow(x1: float, y1: float, x2: float, y2: float, r: float) -> str:
    """A line from (x1,y1) to (x2,y2) with a head at the end, drawn white under colour like the rings."""
    angle = math.atan2(y2 - y1, x2 - x1)
    head = [(x2 - r * math.cos(angle + s), y2 - r * math.sin(angle + s)) for s in (0.45, -0.45)]
    (hx1, hy1), (hx2, hy2) = head
    d = f"M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f} M{hx1:.1f},{hy1:.1f} L{x2:.1f},{y2:.1f} L{hx2:.1f},{hy2:.1f}"
    return f'<path class="halo" d="{d}"/><path class="ring" d="{d}"/>'


# -- small pieces ------------------------------------------------------------------------------------------

def _document(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def _order(traj: Trajectory):
    seed = traj.header.get("seed")
    return (str(traj.header.get("task", "")), not isinstance(seed, int), seed if isinstance(seed, int) else 0,
            str(traj.dir))


def _href(target: Path, from_dir: Path) -> str:
    return quote(Path(os.path.relpath(target, from_dir)).as_posix())


def _image_size(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, ValueError):
        return None


def _status_badge(status: str, success: bool | None) -> str:
    kind = "incomplete" if status == "incomplete" else "ok" if success else "fail"
    return f'<span class="badge {kind}">{escape(str(status) or "?")}</span>'


def _success_mark(success: bool | None) -> str:
    if success is None:
        return '<span class="muted">–</span>'
    return '<span class="ok">✓</span>' if success else '<span class="fail">✗</span>'


def _number(value, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def _text(value) -> str:
    return "" if value is None else str(value)
