"""Trajectories: the product of every run. The same files feed the viewer, SFT and GRPO.

One directory per episode::

    episode.jsonl   line 1: {"type": "header", "format": "screenwise.trajectory", "version": 1, ...}
                    then one {"type": "step", ...} line per turn, written the moment the turn ends
                    last:  {"type": "end", "status": ..., "success": ..., "reward": ...}
    step_000.png    the screenshot the model saw at step 0 (then step_001.png, ...); final.png at the end

A step line holds the prompt (messages, with each image replaced by ``{"type": "image_file", "path": ...}``),
the raw model output, the parsed thought and actions (canonical text), any error, the feedback given to the
model, the reward and the timings. A killed run keeps every finished step; ``read_trajectory`` accepts a
file with no end line.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

FORMAT = "screenwise.trajectory"
VERSION = 1


class TrajectoryWriter:
    def __init__(self, directory: str | Path, header: dict):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "episode.jsonl"
        self._file = open(self.path, "w")
        self._write({"type": "header", "format": FORMAT, "version": VERSION, "started": time.time(), **header})

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()

    def save_image(self, img: Image.Image | None, name: str) -> str | None:
        if img is None:
            return None
        img.save(self.dir / name)
        return name

    def step(self, record: dict) -> None:
        self._write({"type": "step", **record})

    def end(self, record: dict) -> None:
        self._write({"type": "end", **record})
        self._file.close()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def prompt_for_file(messages: list[dict], image_names: list[str | None]) -> list[dict]:
    """The messages with their images replaced, in order, by references to the saved files."""
    names = iter(image_names)
    out = []
    for m in messages:
        content = m["content"]
        if isinstance(content, list):
            content = [{"type": "image_file", "path": next(names, None)} if p.get("type") == "image_url" else p
                       for p in content]
        out.append({**m, "content": content})
    return out


@dataclass
class Trajectory:
    path: Path
    header: dict
    steps: list[dict] = field(default_factory=list)
    end: dict | None = None

    @property
    def dir(self) -> Path:
        return self.path.parent


def read_trajectory(path: str | Path) -> Trajectory:
    """Read an episode.jsonl (or its directory). A torn last line from a killed run is ignored."""
    path = Path(path)
    if path.is_dir():
        path = path / "episode.jsonl"
    header, steps, end = {}, [], None
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            break
        kind = rec.get("type")
        if kind == "header":
            if rec.get("format") != FORMAT or rec.get("version", 0) > VERSION:
                raise ValueError(f"{path} is not a {FORMAT} v{VERSION} file")
            header = rec
        elif kind == "step":
            steps.append(rec)
        elif kind == "end":
            end = rec
    return Trajectory(path, header, steps, end)


def find_trajectories(root: str | Path) -> list[Path]:
    return sorted(Path(root).rglob("episode.jsonl"))
