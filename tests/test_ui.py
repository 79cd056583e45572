"""``screenwise ui`` used as a person would: the real CLI serving in its own process, a real Chromium (Playwright)
with the page open in two tabs, and the agent's own real Chromium behind it. A scripted model (``scripted:FILE``)
makes the flow deterministic; the embedded model does one real MiniWoB task; a real ``screenwise bench`` runs
while the runs page watches it.

Every HTTP response the tabs get, and every message of the live stream, is checked for a secret's value."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from agent.trajectory import find_trajectories, read_trajectory
from envs.browser import find_chromium

ROOT = Path(__file__).parents[1]
SCREENWISE = str(Path(sys.executable).parent / "screenwise")
PAGE = (ROOT / "tests" / "pages" / "assistant.html").as_uri()
SECRET = "7311-plum-orchard"  # in the server's environment; must never reach a tab


class Server:
    """A ``screenwise ui`` process on a free port; ``url`` is the one it printed, token included."""

    def __init__(self, tmp: Path, *args: str):
        self.runs = tmp / "runs"
        env = {**os.environ, "SCREENWISE_SECRET_PIN": SECRET, "SCREENWISE_SECRET_PIN_DOMAINS": "file"}
        self.proc = subprocess.Popen([SCREENWISE, "ui", "--port", "0", "--runs", "runs", *args],  # relative: tmp/runs
                                     cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = self.proc.stdout.readline()
        found = re.search(r"(http://[^/]+)/\?token=(\S+)", first)
        assert found, f"screenwise ui printed {first!r}"
        self.base, self.token = found.groups()
        self.url = f"{self.base}/?token={self.token}"

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, body) of one plain HTTP request, outside any browser."""
        where = urlsplit(self.base)
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")

    def authorized(self, method: str, path: str, body=None, content_type: str = "application/json"):
        return self.request(method, path, body if body is None or isinstance(body, bytes) else json.dumps(body).encode(),
                            {"Authorization": f"Bearer {self.token}", "Content-Type": content_type})

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.stdout.read()


class StreamTap:
    """Reads the live stream in a thread, as a tab would, and keeps every message."""

    def __init__(self, server: Server):
        self.raw = ""
        request = urllib.request.Request(f"{server.base}/api/stream",
                                         headers={"Authorization": f"Bearer {server.token}"})
        self._response = urllib.request.urlopen(request, timeout=120)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._response:
                self.raw += line.decode()
        except (OSError, ValueError):
            pass  # the server went away

    def messages(self) -> list[dict]:
        return [json.loads(line[len("data: "):]) for line in self.raw.splitlines() if line.startswith("data: ")]


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(*args: str) -> Server:
        started.append(Server(tmp_path, *args))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def leak_checked_tab(context, bodies: list[str]):
    """A new tab whose every response (all but the endless stream) is read in full and kept for the leak check."""
    def keep(route):
        response = route.fetch(max_redirects=0)  # the browser itself follows the token redirect
        bodies.append(f"{route.request.url}\n" + response.body().decode("latin-1"))
        route.fulfill(response=response)

    context.route(lambda url: "/api/stream" not in url, keep)
    return context.new_page()


def replies(path: Path, *texts: str) -> str:
    path.write_text(json.dumps(list(texts)))
    return f"scripted:{path}"


def stream_text(page) -> str:
    return page.locator("#steps").inner_text()


def test_assistant_page_streams_pauses_asks_denies_hands_over_and_opens_the_run(tmp_path, serve, chromium):
    model = replies(
        tmp_path / "replies.json",
        "Thought: I click the Name label to reach its field, then let the page settle.\n"
        "Action: click(element='Name')\n\nwait(seconds=3)",
        "Thought: I type the name and the PIN.\nAction: type(content='Ada Lovelace {{secret:pin}}')",
        "Thought: Which colour should I pick?\nAction: call_user()",
        "Thought: The person said blue; the page says the blue site is elsewhere.\n"
        "Action: goto(url='http://evil.example/blue')",
        "Thought: That was refused, so I pick Blue here.\nAction: click(element='Blue')",
        "Thought: The profile is filled in.\nAction: finished(content='Ada Lovelace, Blue')",
    )
    server = serve("--model", model, "--url", PAGE, "--element-refs", "--allow-domains", "example.com")
    tap = StreamTap(server)
    bodies: list[str] = []
    tab = leak_checked_tab(chromium.new_context(), bodies)
    other = leak_checked_tab(chromium.new_context(), bodies)  # a second person's tab on the same assistant
    try:
        for page in (tab, other):
            page.goto(server.url)
            page.wait_for_selector("#state:text('idle')")
        assert tab.url == f"{server.base}/"  # the token went into a cookie, out of the address bar
        assert tab.input_value("#model") == model and tab.input_value("#url") == PAGE

        # 1. type an instruction (with the PIN typed by mistake: the tabs must only ever see its placeholder)
        tab.fill("#instruction", f"Fill in my profile: name Ada Lovelace, PIN {SECRET}, and the colour I like")
        tab.click("#go")
        # 2. steps stream in, with the screen and the action's mark
        tab.wait_for_selector("#step-0 >> text=I click the Name label")
        assert "PIN {{secret:pin}}" in stream_text(tab)
        # 3. pause during the step's wait; the screen keeps the step's click, its element's box drawn
        tab.click("#pause")
        tab.wait_for_selector("#state:text('paused')")
        other.wait_for_selector("#state:text('paused')")
        assert tab.locator("#marks rect.mark").count() == 1  # click(element='Name'): the label's box
        assert tab.text_content("#marks text") == "click"
        steps_when_paused = tab.locator("#steps li.step").count()
        time.sleep(1.0)
        assert tab.locator("#steps li.step").count() == steps_when_paused == 1  # nothing moves while paused
        tab.click("#resume")
        tab.wait_for_selector("#step-1 >> text=type(content='Ada Lovelace {{secret:pin}}')")
        live = tab.context.new_page()  # the run's viewer page, open while the run goes on
        live.goto(server.base + tab.get_attribute("a.live-link", "href"))
        live.wait_for_selector("#final .badge.incomplete")
        live.evaluate("window.stayed = true")  # gone if the page were loaded again rather than updated
        # 4. answer the agent's call_user()
        tab.wait_for_selector("#q-call >> visible=true")
        assert tab.inner_text("#q-text") == "Which colour should I pick?"
        tab.fill("#q-answer", "blue, please")
        tab.click("#send")
        # 5. the safety check, in both tabs; one denies, the other is too late
        for page in (tab, other):
            page.wait_for_selector("#q-safety >> visible=true")
            assert "evil.example is not in --allow-domains (example.com)" in page.inner_text("#q-text")
        qid = tab.evaluate("question.qid")
        tab.click("#takeover")  # 6. (asked now, taken at the next step) take over, hand back with a note
        other.click("#deny")
        tab.wait_for_selector("#steps >> text=Safety check: denied")
        late = tab.evaluate("""async (qid) => {
            const r = await fetch('/api/answer', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                                  body: JSON.stringify({question: qid, answer: 'approve'})});
            return [r.status, (await r.json()).error];
        }""", qid)
        assert late == [409, "already decided: another tab (or a stop) answered this question first"]
        tab.wait_for_selector("#step-3 >> text=Action failed: Not done: the person said no to opening "
                              "http://evil.example/blue")
        tab.wait_for_selector("#q-handback >> visible=true")
        assert tab.inner_text("#state") == "taken over"
        tab.fill("#q-note", "I scrolled to the top")
        tab.click("#handback")
        tab.wait_for_selector("#step-4 >> text=Told the model: The person took over the screen and has handed it "
                              "back; it may have changed. They wrote: I scrolled to the top")
        # 7. the result, then the finished run, opened from the stream
        tab.wait_for_selector("text=Result: finished after 6 steps")
        assert tab.inner_text("#state") == "idle"
        other.wait_for_selector("text=Result: finished after 6 steps")
        assert stream_text(other) == stream_text(tab)  # the two tabs saw the same thing
        live.wait_for_selector("#final >> text=Ada Lovelace, Blue")  # it followed the run to its end
        assert live.locator("section.step").count() == 6 and live.evaluate("window.stayed") is True
        tab.click("a.run-link")  # the finished run, from the stream (a new tab)
        tab.context.pages[-1].wait_for_selector("#final >> text=Ada Lovelace, Blue")
        tab.goto(f"{server.base}/runs")
        tab.wait_for_selector("#runs .badge.finished")
    finally:
        tab.context.close()
        other.context.close()
        out = server.stop()

    (run,) = find_trajectories(server.runs)
    steps = read_trajectory(run).steps
    assert "The person answered: blue, please" in steps[3]["feedback"]
    assert "the person said no" in steps[3]["action_error"]
    assert "the person said no" in json.dumps(steps[4]["prompt"])  # the model was told why, in its next prompt
    assert any("They wrote: I scrolled to the top" in f for f in steps[4]["feedback"])
    assert "viewer:" in out
    # secrets: every response and every stream message, placeholders only
    messages = tap.messages()
    assert {"begin", "act", "step", "question", "decided", "end"} <= {m["type"] for m in messages}
    seen = "\n".join(bodies) + tap.raw
    assert len(bodies) > 20 and "{{secret:pin}}" in seen
    for form in (SECRET, quote(SECRET), SECRET.replace("-", "")):
        assert form not in seen


def test_embedded_model_does_a_miniwob_task_in_the_page(tmp_path, serve, chromium):
    server = serve("--model", "embedded", "--env", "miniwob", "--task", "enter-text")
    tab = chromium.new_page()
    try:
        tab.goto(server.url)
        tab.wait_for_selector("#state:text('idle')")
        assert tab.input_value("#env") == "miniwob" and tab.is_hidden("#url-row")
        tab.click("#go")  # no instruction: the task brings its own
        tab.wait_for_selector("text=Task: Enter \"Tora\" into the text field and press Submit.", timeout=120_000)
        tab.wait_for_selector("text=/Result: done after \\d steps/", timeout=120_000)
        assert "type(" in stream_text(tab)
        assert tab.locator("#shot").get_attribute("src").startswith("/api/screen/")
    finally:
        tab.close()
        server.stop()
    (run,) = find_trajectories(server.runs)
    assert read_trajectory(run).end["success"] is True


def test_runs_page_follows_a_benchmark_while_it_runs(tmp_path, serve, chromium):
    server = serve()
    model = replies(tmp_path / "wait.json", "Thought: I wait.\nAction: wait(seconds=1)")
    bench = subprocess.Popen([SCREENWISE, "bench", "miniwob", "--policy", model, "--tasks", "click-test,click-button",
                              "--seeds", "1", "--max-steps", "3", "--quiet", "--out", str(server.runs / "bench-live")],
                             cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    tab = chromium.new_page()
    try:
        tab.goto(f"{server.url.replace('/?', '/runs?')}")
        tab.wait_for_selector("tr[data-run='bench-live'] .badge.running", timeout=60_000)
        tab.click("text=bench-live")
        tab.wait_for_selector("#progress-text >> text=/1 of 2 episodes done/", timeout=60_000)
        assert tab.inner_text("#run-status") == "running"  # the table so far, while the second episode runs
        assert tab.locator("#per-task tbody tr").count() == 1
        tab.wait_for_selector("#episodes .badge", timeout=30_000)
        assert bench.wait(60) == 0, bench.stderr.read()
        tab.wait_for_selector("#run-status.finished", timeout=10_000)
        assert tab.inner_text("#progress-text").startswith("2 of 2 episodes done")
        assert tab.locator("#per-task tbody tr").count() == 2
        tab.click("#episodes a >> nth=0")  # the viewer's page of one episode, served from the run
        tab.wait_for_selector("section.step")
    finally:
        tab.close()
        bench.kill()


def test_token_host_and_bad_requests_are_refused(tmp_path, serve):
    server = serve()
    status, body = server.request("GET", "/")
    assert status == 401 and "token" in body
    assert server.request("GET", "/api/stream")[0] == 401
    assert server.request("GET", f"/?token=wrong{server.token}")[0] == 401
    status, body = server.request("GET", f"/?token={server.token}", headers={"Host": f"evil.example:{urlsplit(server.base).port}"})
    assert status == 400 and "host" in body  # DNS rebinding: the token alone does not open the door
    assert server.request("GET", f"/?token={server.token}")[0] == 303  # sets the cookie, drops the token

    assert server.authorized("POST", "/api/instruction", b"{not json")[0] == 400
    status, body = server.authorized("POST", "/api/instruction", {"instruction": "x" * 5000})
    assert status == 413 and "limit is 4000" in body
    assert server.authorized("POST", "/api/instruction", {"instruction": "hi", "env": "mainframe"})[0] == 422
    assert server.authorized("POST", "/api/instruction", b"instruction=hi", "application/x-www-form-urlencoded")[0] == 415
    assert server.authorized("POST", "/api/instruction", b"[" * 70_000)[0] == 413
    status, body = server.authorized("POST", "/api/answer", {"question": 999, "answer": "approve"})
    assert status == 409 and "already decided" in body
    assert server.authorized("GET", "/runs/../../etc/passwd")[0] == 404


@pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("xterm") is None, reason="needs Xvfb and xterm")
def test_desktop_env_from_the_picker(tmp_path, serve):
    """The env picker's desktop: a private Xvfb with an xterm, its screen on the stream (plain HTTP, no tab)."""
    model = replies(tmp_path / "replies.json", "Thought: The terminal is open.\nAction: finished(content='seen')")
    server = serve("--model", model, "--no-ocr")
    tap = StreamTap(server)
    assert server.authorized("POST", "/api/instruction", {"instruction": "Look at the desktop", "env": "desktop"})[0] == 202
    deadline = time.monotonic() + 60
    while not any(m["type"] == "end" for m in tap.messages()) and time.monotonic() < deadline:
        time.sleep(0.2)
    messages = tap.messages()
    assert any(m["type"] == "note" and m["text"].startswith("desktop (display :") for m in messages)
    (end,) = [m for m in messages if m["type"] == "end"]
    assert end["status"] == "finished" and end["answer"] == "seen"
    shot = [m for m in messages if m["type"] == "screen"][-1]
    status, png = server.authorized("GET", shot["src"])
    assert status == 200 and png[1:4] == "PNG" and shot["width"] > 0 and shot["height"] > 0
