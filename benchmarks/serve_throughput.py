"""Decisions per second through an OpenAI-compatible server, at several concurrencies, side by side.

A decision is one chat completion on the compact prompt a MiniWoB step sends: a 160x210 screenshot, the task, the
history and an element list, with the card's structured-output pattern when the card asks for one (exactly what
`screenwise bench --policy http://...` sends). The server is given (``--url``) or started here
(``--model SPEC --replicas R``: `screenwise serve` in a subprocess, one torch thread per replica).

    python benchmarks/serve_throughput.py --model embedded --replicas 1 2 --concurrency 1 4 --requests 40
    python benchmarks/serve_throughput.py --url http://127.0.0.1:8000/v1 --concurrency 1 8 32   # e.g. vLLM

Prints a table and writes JSON (``--json``): per setting, decisions/s and the median latency.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models import resolve  # noqa: E402
from core.messages import image_part, text_part  # noqa: E402

PROMPT = ("Task: Enter \"Ada Lovelace\" into the text field and press Submit.\nPrevious actions:\nnone\n"
          "Elements:\n[0] text 'Enter \"Ada Lovelace\" into the text field and press Submit.'\n"
          "[1] textbox at (68,81)\n[2] button 'Submit'\n[3] label 'Name'\n"
          "Named in the task: [2] button 'Submit'")


def messages() -> list[dict]:
    shot = Image.new("RGB", (160, 210), "white")
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, 160, 50), fill=(255, 255, 170))
    draw.rectangle((20, 72, 120, 90), outline="black")
    draw.rectangle((30, 110, 90, 130), fill=(220, 220, 220), outline="black")
    return [{"role": "user", "content": [image_part(shot), text_part(PROMPT)]}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(spec: str, replicas: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "apps.cli", "serve", "--model", spec, "--port", str(port),
                             "--replicas", str(replicas), "--quiet"], env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            return proc, url + "/v1"
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"screenwise serve exited with {proc.returncode}")
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("screenwise serve did not come up in 120 s")


def measure(url: str, concurrency: int, requests: int) -> dict:
    model, card = resolve(url)
    msgs = messages()
    model.generate(msgs, max_tokens=64)  # warm-up: the server's first call builds what it caches

    def one(_):
        t = time.perf_counter()
        text = model.generate(msgs, max_tokens=64)[0].text
        return time.perf_counter() - t, text

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        done = list(pool.map(one, range(requests)))
    seconds = time.perf_counter() - t0
    return {"concurrency": concurrency, "requests": requests, "seconds": round(seconds, 3),
            "decisions_per_s": round(requests / seconds, 2),
            "median_latency_ms": round(1000 * statistics.median(d for d, _ in done), 1),
            "constrained": card.constrain_references, "sample_reply": done[0][1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=None, help="an OpenAI-compatible API root; else --model is served here")
    ap.add_argument("--model", default="embedded", help="the spec `screenwise serve` serves when no --url")
    ap.add_argument("--replicas", type=int, nargs="+", default=[1], help="server replicas to compare (no --url)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--requests", type=int, default=40, help="decisions per setting")
    ap.add_argument("--json", default=None, help="write the rows here")
    args = ap.parse_args()
    rows = []
    for replicas in ([None] if args.url else args.replicas):
        proc, url = (None, args.url) if args.url else start_server(args.model, replicas)
        try:
            for c in args.concurrency:
                row = {"server": args.url or f"screenwise serve --model {args.model}", "replicas": replicas,
                       **measure(url, c, args.requests)}
                rows.append(row)
                print(f"replicas {replicas}  concurrency {c:>3}: {row['decisions_per_s']:7.2f} decisions/s, "
                      f"median {row['median_latency_ms']:.0f} ms", flush=True)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    base = rows[0]["decisions_per_s"]
    for row in rows:
        row["ratio_to_first"] = round(row["decisions_per_s"] / base, 2)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
