"""The HTTP model path, over real loopback HTTP: Model -> ModelServer -> OpenAICompatModel, and its failures."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from core.messages import image_part, images_in, text_part
from core.model import Generation, ModelError
from models.openai_compat import OpenAICompatModel
from models.scripted import ScriptedModel
from models.serve import ModelServer

HELLO = [{"role": "user", "content": "hello"}]


def noise_image(w: int = 23, h: int = 17) -> Image.Image:
    rng = random.Random(7)
    img = Image.new("RGB", (w, h))
    img.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(w * h)])
    return img


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, data: bytes) -> tuple[int, dict]:
    req = urllib.request.Request(url + "/chat/completions", data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class RecordingModel:
    """Returns ``sample i`` for each of the n generations and remembers the sampling parameters it was given."""

    name = "recording"
    coord_space = "pixels"

    def __init__(self):
        self.params: list[tuple[int, float, int]] = []

    def generate(self, messages, n=1, temperature=0.0, max_tokens=256):
        self.params.append((n, temperature, max_tokens))
        return [Generation(f"sample {i}", token_ids=[1] * (i + 1), finish_reason="length" if i == n - 1 else "stop")
                for i in range(n)]


class FlakyModel:
    """Raises on its first ``failures`` calls, then answers."""

    name = "flaky"
    coord_space = "pixels"

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    def generate(self, messages, n=1, temperature=0.0, max_tokens=256):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("GPU fell over")
        return [Generation("recovered")]


class StatusServer:
    """A bare HTTP server answering chat completions with the given statuses in turn, counting the requests.
    A status of None drops the connection without a response; "junk" is a 200 whose body is not JSON."""

    def __init__(self, statuses: list[int | str | None]):
        self.statuses = statuses
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                status = outer.statuses[min(outer.requests, len(outer.statuses) - 1)]
                outer.requests += 1
                if status is None:
                    self.close_connection = True
                    return
                body = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                     "finish_reason": "stop"}]}
                if status not in (200, "junk"):
                    body = {"error": {"message": f"status {status}", "type": "test"}}
                data = b"<html>gateway</html>" if status == "junk" else json.dumps(body).encode()
                self.send_response(200 if status == "junk" else status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_round_trip_carries_text_and_image():
    img = noise_image()
    messages = [{"role": "system", "content": "You are a GUI agent."},
                {"role": "user", "content": [text_part("Click the red button."), image_part(img)]}]
    scripted = ScriptedModel(["Thought: it is at the top.\nclick(10, 5)"])
    with ModelServer(scripted) as server:
        model = OpenAICompatModel(server.url, model="scripted", backoff=0.01)
        generations = model.generate(messages)
    assert [g.text for g in generations] == ["Thought: it is at the top.\nclick(10, 5)"]
    assert generations[0].finish_reason == "stop"
    assert scripted.calls == [messages]
    (received,) = images_in(scripted.calls[0])
    assert received.size == img.size and received.tobytes() == img.tobytes()


def test_n_samples_and_sampling_parameters_pass_through():
    recording = RecordingModel()
    with ModelServer(recording) as server:
        model = OpenAICompatModel(server.url, backoff=0.01)
        generations = model.generate(HELLO, n=3, temperature=0.7, max_tokens=40)
        status, body = post(server.url, json.dumps({"messages": HELLO, "n": 2}).encode())
    assert [g.text for g in generations] == ["sample 0", "sample 1", "sample 2"]
    assert [g.finish_reason for g in generations] == ["stop", "stop", "length"]
    assert recording.params[0] == (3, 0.7, 40)
    assert status == 200 and body["object"] == "chat.completion" and len(body["choices"]) == 2
    assert body["usage"] == {"prompt_tokens": 0, "completion_tokens": 3, "total_tokens": 3}


def test_model_id_is_discovered_from_the_server():
    with ModelServer(ScriptedModel(["hi"], name="ui-tars-under-test")) as server:
        assert OpenAICompatModel(server.url).name == "ui-tars-under-test"
        bare = server.url.removesuffix("/v1")
        assert OpenAICompatModel(bare).name == "ui-tars-under-test"  # /v1 is added to a bare host:port
        with urllib.request.urlopen(bare + "/health", timeout=5) as r:
            assert json.loads(r.read()) == {"status": "ok", "model": "ui-tars-under-test", "replicas": 1, "busy": 0}


@pytest.mark.parametrize("body, complaint", [
    (b"{not json", "not valid JSON"),
    (b"[]", "JSON object"),
    (json.dumps({"messages": []}).encode(), "messages"),
    (json.dumps({"messages": [{"role": "robot", "content": "hi"}]}).encode(), "role"),
    (json.dumps({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]}).encode(), "data: URL"),
    (json.dumps({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}).encode(), "data: URL"),
    (json.dumps({"messages": HELLO, "n": 0}).encode(), "'n'"),
    (json.dumps({"messages": HELLO, "structured_outputs": {"json": {}}}).encode(), "regex"),
    (json.dumps({"messages": HELLO, "structured_outputs": {"regex": "(a"}}).encode(), "not a regular expression"),
    (json.dumps({"messages": HELLO, "structured_outputs": {"regex": "a+"}}).encode(), "cannot follow"),
    (json.dumps({"messages": HELLO, "model": "gpt-9"}).encode(), "unknown model"),
])
def test_malformed_request_gets_400(body, complaint):
    scripted = ScriptedModel(["never"])
    with ModelServer(scripted, quiet=True) as server:
        status, answer = post(server.url, body)
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error" and complaint in answer["error"]["message"]
    assert scripted.calls == []


def test_server_not_running_fails_after_all_retries_with_backoff():
    url = f"http://127.0.0.1:{free_port()}/v1"
    model = OpenAICompatModel(url, model="m", max_retries=3, backoff=0.05)
    t0 = time.monotonic()
    with pytest.raises(ModelError) as err:
        model.generate(HELLO)
    elapsed = time.monotonic() - t0
    assert str(err.value) == f"model server {url} unreachable after 4 attempts: Connection refused"
    assert 0.05 + 0.1 + 0.2 <= elapsed < 2.0  # three doubling sleeps between four attempts


def test_dropped_connections_are_retried_exactly_max_retries_times():
    server = StatusServer([None])
    try:
        with pytest.raises(ModelError, match="unreachable after 4 attempts"):
            OpenAICompatModel(server.url, model="m", max_retries=3, backoff=0.01).generate(HELLO)
    finally:
        server.close()
    assert server.requests == 4


@pytest.mark.parametrize("statuses, requests, error", [
    ([503, 429, 200], 3, None),
    ([None, 200], 2, None),
    ([400], 1, "refused the request: HTTP 400: status 400"),
    ([404], 1, "refused the request: HTTP 404"),
    ([500], 3, "still failing after 3 attempts: HTTP 500: status 500"),
    (["junk"], 1, "sent a bad response"),
])
def test_retry_policy(statuses, requests, error):
    server = StatusServer(statuses)
    model = OpenAICompatModel(server.url, model="m", max_retries=2, backoff=0.01)
    try:
        if error is None:
            assert model.generate(HELLO)[0].text == "ok"
        else:
            with pytest.raises(ModelError, match=error):
                model.generate(HELLO)
    finally:
        server.close()
    assert server.requests == requests


def test_server_stopped_mid_session():
    server = ModelServer(ScriptedModel(["first"])).start()
    url = server.url
    model = OpenAICompatModel(url, max_retries=2, backoff=0.01)
    assert model.generate(HELLO)[0].text == "first"
    server.stop()
    with pytest.raises(ModelError) as err:
        model.generate(HELLO)
    assert str(err.value) == f"model server {url} unreachable after 3 attempts: Connection refused"


def test_model_failing_twice_then_recovering_is_retried_through_500s():
    flaky = FlakyModel(failures=2)
    with ModelServer(flaky) as server:
        assert OpenAICompatModel(server.url, max_retries=3, backoff=0.01).generate(HELLO)[0].text == "recovered"
        assert flaky.calls == 3
        flaky.calls = 0
        with pytest.raises(ModelError, match="still failing after 2 attempts: HTTP 500: RuntimeError: GPU fell over"):
            OpenAICompatModel(server.url, max_retries=1, backoff=0.01).generate(HELLO)
        assert flaky.calls == 2


def test_timeout_is_retried_then_reported():
    class SlowModel:
        name, coord_space = "slow", "pixels"

        def generate(self, messages, n=1, temperature=0.0, max_tokens=256):
            time.sleep(0.3)
            return [Generation("late")]

    with ModelServer(SlowModel(), quiet=True) as server:
        with pytest.raises(ModelError, match="unreachable after 2 attempts: no answer within 0.1 s"):
            OpenAICompatModel(server.url, model="slow", timeout=0.1, max_retries=1, backoff=0.01).generate(HELLO)


def test_one_log_line_per_request_unless_quiet(capsys):
    with ModelServer(ScriptedModel(["hi"])) as server:
        OpenAICompatModel(server.url, backoff=0.01).generate(HELLO)
    with ModelServer(ScriptedModel(["hi"]), quiet=True) as server:
        OpenAICompatModel(server.url, backoff=0.01).generate(HELLO)
    lines = capsys.readouterr().err.splitlines()
    assert [line.rsplit(" ", 2)[0] for line in lines] == ["GET /v1/models 200", "POST /v1/chat/completions 200"]
    assert all(line.endswith(" ms") for line in lines)
