"""Make the web UI's pictures: docs/ui_assistant.png, docs/ui_runs.png and docs/ui_bench.png.

A real ``screenwise ui`` serves a scratch runs folder; a real Chromium (Playwright) opens its pages.
- The assistant: the instruction goes in, the scripted model (``ui_replies.json``, so the picture is the same
  every time) fills in the profile page of the chat and UI tests (``tests/pages/assistant.html``) and then
  clicks a link off ``--allow-domains``. The picture is
  taken while the safety check waits, with the link's box drawn on the agent's screen.
- The runs: a finished teacher benchmark, the assistant's run, and the embedded model's benchmark, taken
  while it runs; then that benchmark's page, with its progress and per-task table so far.

    .venv/bin/python docs/make_ui_png.py
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from envs.browser import find_chromium

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCREENWISE = str(Path(sys.executable).parent / "screenwise")


def bench(runs: Path, name: str, policy: str, tasks: str, seeds: int, wait: bool) -> subprocess.Popen:
    proc = subprocess.Popen([SCREENWISE, "bench", "miniwob", "--policy", policy, "--tasks", tasks, "--seeds",
                             str(seeds), "--quiet", "--out", str(runs / name)], stdout=subprocess.DEVNULL)
    if wait:
        proc.wait()
    return proc


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="screenwise-ui-shot-"))
    runs = tmp / "runs"
    shutil.copy(DOCS / "ui_replies.json", tmp / "ui_replies.json")  # short paths in the picture
    shutil.copy(ROOT / "tests" / "pages" / "assistant.html", tmp / "profile.html")
    bench(runs, "bench-teacher", "teacher", "click-test,click-button,enter-text,focus-text,click-link", 10, True)
    server = subprocess.Popen([SCREENWISE, "ui", "--port", "0", "--runs", "runs", "--model", "scripted:ui_replies.json",
                               "--url", (tmp / "profile.html").as_uri(), "--viewport", "760x420",
                               "--element-refs", "--allow-domains", "example.com"],
                              cwd=tmp, stdout=subprocess.PIPE, text=True)
    going = None
    try:
        url = re.search(r"http://\S+", server.stdout.readline()).group(0)
        base = url.split("/?")[0]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1440, "height": 760})
            page.goto(url)
            page.wait_for_selector("#state:text('idle')")
            page.fill("#instruction", "Fill in my profile: my name is Ada Lovelace and I like blue")
            page.click("#go")
            page.wait_for_selector("#q-safety >> visible=true")
            page.wait_for_selector("#marks rect.mark", state="attached")
            page.wait_for_timeout(500)  # the screenshot image loads
            page.screenshot(path=str(DOCS / "ui_assistant.png"))
            page.click("#deny")
            page.wait_for_selector("text=Result: finished")

            going = bench(runs, "bench-embedded", "embedded", "click-test,enter-text,click-link,focus-text", 20, False)
            page.goto(f"{base}/runs")
            page.wait_for_selector("tr[data-run='bench-embedded'] >> text=/[1-9][0-9]? of 80 episodes/", timeout=120_000)
            page.set_viewport_size({"width": 1000, "height": 330})
            page.screenshot(path=str(DOCS / "ui_runs.png"))
            page.click("text=bench-embedded")
            page.wait_for_selector("#progress-text >> text=/(2[5-9]|[3-6][0-9]) of 80 episodes done/", timeout=120_000)
            page.set_viewport_size({"width": 1000, "height": 520})
            page.screenshot(path=str(DOCS / "ui_bench.png"))
            browser.close()
    finally:
        if going is not None:
            going.kill()
        server.terminate()
        server.wait(30)
    for name in ("ui_assistant.png", "ui_runs.png", "ui_bench.png"):
        print(DOCS / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
