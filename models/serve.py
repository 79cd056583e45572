"""Serve any Model (core/model.py) as an OpenAI-compatible chat-completions server, on the standard library.

    GET  /health                -> {"status": "ok", "model": NAME, "replicas": R, "busy": B}
    GET  /v1/models             -> the one model, by its ``name``, with its card under ``"screenwise"``
    POST /v1/chat/completions   -> messages with text and image_url (data: URL) parts; n, temperature, max_tokens,
                                   stream, and vLLM's ``structured_outputs: {"regex": …}``

So a client written against ``vllm serve`` (``models/openai_compat.py``) runs against a scripted, teacher or local
transformers model unchanged, and a client given nothing but the URL learns from ``/v1/models`` how to prompt the
model (models/card.py).

As vLLM does, a served model decodes freely unless a request brings a pattern (``structured_outputs.regex``,
which models/reply_pattern.py writes for a card that asks for constraints); ``--no-structured-outputs`` ignores
the field, to measure the unconstrained path.

Requests arrive on many threads. Models are not thread-safe, so each call takes one of ``replicas`` copies of the
model from a pool, and waits only for a free copy: ``/health`` and ``/v1/models`` never wait, and R copies answer R
requests at once (on a CPU, one torch thread each). ``stream: true`` answers with server-sent events in the
OpenAI chunk format; the reply is sent once it is decoded (the decoders have no per-token callback).

A request the server cannot read gets a 400 with an OpenAI-style error body; an exception from the model gets a
500 carrying its message. ``usage`` is sent only when the generations carry token ids, and then
``prompt_tokens`` is 0: the Model protocol does not report the prompt's length.

    screenwise serve --model embedded --port 8000 --replicas 2
"""

from __future__ import annotations

import json
import queue
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core.messages import decode_image

MAX_BODY = 64 * 1024 * 1024  # bytes: a few dozen full-HD PNG screenshots


class BadRequest(ValueError):
    """The request body is not a chat-completions request we can answer (sent back as a 400)."""


def parse_chat_request(body: object, model_name: str) -> tuple[list[dict], int, float, int]:
    """(messages, n, temperature, max_tokens) from a decoded request body, or BadRequest saying what is wrong."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    if body.get("model") not in (None, "", model_name):
        raise BadRequest(f"unknown model {body['model']!r}: this server serves {model_name!r}")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list")
    for i, m in enumerate(messages):
        check_message(m, f"messages[{i}]")
    n = body.get("n", 1)
    temperature = body.get("temperature", 0.0)
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens", 256))
    if not _is_int(n) or n < 1:
        raise BadRequest("'n' must be a positive integer")
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or temperature < 0:
        raise BadRequest("'temperature' must be a number >= 0")
    if not _is_int(max_tokens) or max_tokens < 1:
        raise BadRequest("'max_tokens' must be a positive integer")
    return messages, n, float(temperature), max_tokens


def requested_pattern(body: dict) -> str | None:
    """The regular expression a request asks the reply to match: vLLM's ``structured_outputs.regex`` (or its
    older ``guided_regex``); None when it asks for none. Other structured-output kinds are refused."""
    spec = body.get("structured_outputs")
    if spec is None and "guided_regex" in body:
        spec = {"regex": body["guided_regex"]}
    if spec is None:
        return None
    if not isinstance(spec, dict) or set(spec) - {"regex"} or not isinstance(spec.get("regex"), str):
        raise BadRequest("structured_outputs: this server follows {'regex': PATTERN} only")
    try:
        re.compile(spec["regex"])
    except re.error as e:
        raise BadRequest(f"structured_outputs.regex is not a regular expression: {e}")
    return spec["regex"]


def check_message(m: object, where: str) -> None:
    if not isinstance(m, dict):
        raise BadRequest(f"{where} must be an object")
    if m.get("role") not in ("system", "user", "assistant"):
        raise BadRequest(f"{where}.role must be 'system', 'user' or 'assistant'")
    content = m.get("content")
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise BadRequest(f"{where}.content must be a string or a list of parts")
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            continue
        if kind == "image_url":
            url = part.get("image_url", {}).get("url") if isinstance(part.get("image_url"), dict) else None
            try:  # decoded here so that a broken image is the client's 400, not the model's 500
                decode_image(url if isinstance(url, str) else "")
            except Exception as e:
                raise BadRequest(f"{where}.content[{j}]: image_url.url is not a readable data: URL image ({e})")
            continue
        raise BadRequest(f"{where}.content[{j}] must be a text part or an image_url part")


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class ModelServer:
    """Serves ``model`` (or a list of identical replicas) on a background thread. ``port=0`` picks a free port;
    ``.url`` is the API root. ``structured_outputs=False`` ignores the requests' patterns."""

    def __init__(self, model, host: str = "127.0.0.1", port: int = 0, quiet: bool = False,
                 structured_outputs: bool = True):
        replicas = list(model) if isinstance(model, (list, tuple)) else [model]
        self.model = replicas[0]
        self.replicas = len(replicas)
        self.pool: queue.Queue = queue.Queue()
        for m in replicas:
            self.pool.put(m)
        self.host = host
        self.port = port
        self.quiet = quiet
        self.structured_outputs = structured_outputs
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server has no URL until start()")
        return f"http://{self.host}:{self.port}/v1"

    def generate(self, messages, n, temperature, max_tokens, pattern):
        """One call on a free replica (waiting for one when all are busy)."""
        model = self.pool.get()
        try:
            kw = {"pattern": pattern} if pattern is not None else {}
            return model.generate(messages, n=n, temperature=temperature, max_tokens=max_tokens, **kw)
        finally:
            self.pool.put(model)

    def bind(self) -> ThreadingHTTPServer:
        handler = type("Handler", (ChatHandler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True  # a request stuck in the model must not keep the process alive
        self.port = self._httpd.server_address[1]
        return self._httpd

    def start(self) -> ModelServer:
        httpd = self.bind()
        # a short poll interval because stop() waits for the serving loop to notice it
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name=f"ModelServer:{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()
        self._httpd = self._thread = None

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class ChatHandler(BaseHTTPRequestHandler):
    server_state: ModelServer  # set on the per-server subclass made in ModelServer.bind

    def do_GET(self) -> None:
        self._timed(self._get)

    def do_POST(self) -> None:
        self._timed(self._post)

    def _get(self) -> None:
        state = self.server_state
        name = state.model.name
        if self.path == "/health":
            self._send(200, {"status": "ok", "model": name, "replicas": state.replicas,
                             "busy": state.replicas - state.pool.qsize()})
        elif self.path == "/v1/models":
            entry = {"id": name, "object": "model", "created": 0, "owned_by": "screenwise"}
            card = getattr(state.model, "card", None)
            if card is not None:
                entry["screenwise"] = card.to_dict()
            self._send(200, {"object": "list", "data": [entry]})
        else:
            self._error(404, f"no route GET {self.path}")

    def _post(self) -> None:
        if self.path != "/v1/chat/completions":
            return self._error(404, f"no route POST {self.path}")
        state = self.server_state
        try:
            body = self._read_json()
            messages, n, temperature, max_tokens = parse_chat_request(body, state.model.name)
            pattern = requested_pattern(body) if state.structured_outputs else None
            if pattern is not None and not getattr(state.model, "follows_constraints", False):
                raise BadRequest(f"{state.model.name} cannot follow structured_outputs")
        except BadRequest as e:
            return self._error(400, str(e))
        try:
            generations = state.generate(messages, n, temperature, max_tokens, pattern)
        except Exception as e:
            return self._error(500, f"{type(e).__name__}: {e}", "server_error")
        reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if body.get("stream"):
            return self._stream(reply_id, created, state.model.name, generations)
        body = {
            "id": reply_id, "object": "chat.completion", "created": created, "model": state.model.name,
            "choices": [{"index": i, "message": {"role": "assistant", "content": g.text},
                         "finish_reason": g.finish_reason, "logprobs": None} for i, g in enumerate(generations)],
        }
        if generations and all(g.token_ids for g in generations):
            completion = sum(len(g.token_ids) for g in generations)
            body["usage"] = {"prompt_tokens": 0, "completion_tokens": completion, "total_tokens": completion}
        self._send(200, body)

    def _stream(self, reply_id: str, created: int, name: str, generations) -> None:
        """Server-sent events: per choice a role chunk, the content, a finish chunk; then ``[DONE]``."""
        def chunk(index: int, delta: dict, finish: str | None = None) -> bytes:
            event = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": name,
                     "choices": [{"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}]}
            return b"data: " + json.dumps(event).encode() + b"\n\n"

        events = []
        for i, g in enumerate(generations):
            events += [chunk(i, {"role": "assistant", "content": ""}), chunk(i, {"content": g.text}),
                       chunk(i, {}, g.finish_reason)]
        data = b"".join(events) + b"data: [DONE]\n\n"
        self._write(200, "text/event-stream", data)

    def _read_json(self) -> object:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise BadRequest("a Content-Length header is required")
        if not 0 <= length <= MAX_BODY:
            raise BadRequest(f"the body must be at most {MAX_BODY} bytes")
        try:
            return json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BadRequest(f"the body is not valid JSON: {e}")

    def _error(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        self._send(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})

    def _send(self, status: int, body: dict) -> None:
        self._write(status, "application/json", json.dumps(body).encode())

    def _write(self, status: int, kind: str, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self._status = status
        except (BrokenPipeError, ConnectionResetError):
            self._status = 499  # the client gave up (timed out) before the answer was ready: nginx's code for it

    def _timed(self, handle) -> None:
        t0, self._status = time.perf_counter(), 0
        try:
            handle()
        finally:
            if not self.server_state.quiet:
                ms = (time.perf_counter() - t0) * 1000
                print(f"{self.command} {self.path} {self._status} {ms:.0f} ms", file=sys.stderr, flush=True)

    def log_message(self, format: str, *args) -> None:
        pass  # one line per request comes from _timed instead of http.server's access log


def serve_forever(model, host: str = "127.0.0.1", port: int = 8000, quiet: bool = False,
                  structured_outputs: bool = True) -> None:
    """Serve in the foreground until Ctrl-C (the CLI's entry point). ``model``: one model or a list of replicas."""
    server = ModelServer(model, host, port, quiet, structured_outputs)
    httpd = server.bind()
    print(f"serving {server.model.name} at {server.url} ({server.replicas} replica(s))", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.stop()


def serving(model):
    """A model as a server runs it: like vLLM, it follows the pattern a request brings and nothing else, so the
    card's in-process reference masks are off."""
    if getattr(model, "constraint", None) is not None:
        model.constraint = None
    return model
