"""``screenwise ui``: the web app (Starlette on uvicorn), its guard, and its routes.

Pages: ``/`` the live assistant, ``/runs`` the run directories. The live stream is Server-Sent Events
(``/api/stream``): every message of the :class:`Board`, from the one after ``Last-Event-ID``. A tab acts with
small JSON POSTs: ``/api/instruction``, ``/api/control`` (pause, take over, stop), ``/api/answer`` (a safety
check, a call_user() question, a pause, a hand-back).

The guard, in front of every route:
- a wrong ``Host`` header gets 400 (a DNS-rebinding page reaches 127.0.0.1 under its own host name);
- no token gets 401. The printed URL carries it once (``?token=``); the answer sets an HttpOnly, SameSite=Strict
  cookie and redirects to the URL without it, so the token does not stay in the address bar or in referrers;
- a POST must be JSON: a page on another site can send a form, but not JSON with the cookie.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import html
import json
import secrets
import socket
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, \
    StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from agent.flags import Parser
from agent.trajectory import find_trajectories, read_trajectory
from apps.chat import add_chat_args
from apps.ui.assistant import ENVS, Busy, WebChat
from apps.ui.board import Board, scrub
from apps.ui.runs import inside, list_runs, run_detail
from apps.viewer import episode_page, index_page, write_viewer
from apps.viewer import PAGE as EPISODE_PAGE
from envs.safety import SafetyPolicy, load_secrets

STATIC = Path(__file__).parent / "static"
COOKIE = "screenwise_ui"
MAX_INSTRUCTION = 4000
"""Characters; an instruction is a sentence or a paragraph, not a document."""
MAX_BODY = 64 * 1024
"""Bytes of a POST body."""
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


# -- the guard ---------------------------------------------------------------------------------------------

class Guard:
    """ASGI middleware: the Host check, then the token (query, cookie or ``Authorization: Bearer``)."""

    def __init__(self, app, token: str, hosts: set[str] | None):
        self.app, self.token, self.hosts = app, token, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if self.hosts is not None and host_name(headers.get("host", "")) not in self.hosts:
            return await _error(400, "this server does not answer to that host name (see --allow-host)")(
                scope, receive, send)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        cookie = SimpleCookie(headers.get("cookie", ""))
        offered = [query.get("token"), cookie[COOKIE].value if COOKIE in cookie else None,
                   headers.get("authorization", "").removeprefix("Bearer ").strip() or None]
        if not any(t and hmac.compare_digest(t, self.token) for t in offered):
            return await _error(401, "no access token: open the URL that screenwise ui printed")(scope, receive, send)
        if query.get("token") and scope["method"] == "GET":  # keep the token out of the address bar from here on
            rest = urlencode({k: v for k, v in query.items() if k != "token"})
            response = RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return await response(scope, receive, send)
        if scope["method"] == "POST" and not headers.get("content-type", "").startswith("application/json"):
            return await _error(415, "send JSON (Content-Type: application/json)")(scope, receive, send)
        return await self.app(scope, receive, send)


def host_name(host: str) -> str:
    """The name in a Host header, without its port: ``[::1]:8000`` -> ``::1``."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>screenwise · {name}</title><link rel="stylesheet" href="/static/ui.css"></head>
<body><header><b>screenwise</b><nav><a href="/">assistant</a> · <a href="/runs">runs</a></nav></header>
{main}<script src="/static/page.js"></script><script src="/static/{name}.js"></script>
</body></html>
"""


def page(name: str) -> Response:
    """One of the two pages: its own part (``static/NAME.html``, ``NAME.js``) in the head and header they share."""
    return HTMLResponse(PAGE.format(name=name, main=(STATIC / f"{name}.html").read_text()),
                        headers={"Cache-Control": "no-store"})


def _error(status: int, text: str) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status, headers={"Cache-Control": "no-store"})


# -- the app -----------------------------------------------------------------------------------------------

class UI:
    """The routes' shared state: the board, the assistant, the runs root, and the redaction of secrets."""

    def __init__(self, args: argparse.Namespace, policy):
        self.args, self.policy = args, policy
        self.root = Path(args.runs)
        self.board = Board(self.redact)
        self.chat = WebChat(self.board, policy, self.root / time.strftime("ui-%Y%m%d-%H%M%S"), self.chat_args)

    def redact(self, text: str) -> str:
        """Secret values out of any text a tab gets: as typed, URL-encoded (policy.redact) or HTML-escaped."""
        text = self.policy.redact(text)
        for secret in self.policy.secrets.values():
            escaped = html.escape(secret.value)
            if escaped in text:
                text = text.replace(escaped, "{{secret:" + secret.name + "}}")
        return text

    def chat_args(self, picks: dict) -> argparse.Namespace:
        """A tab's picks as ``screenwise chat`` options, on top of this server's defaults."""
        a = self.args
        argv = ["--env", "desktop" if picks["env"] == "desktop" else "browser", "--model", picks["model"],
                "--max-steps", str(a.max_steps), "--max-seconds", str(a.max_seconds), "--url", picks.get("url", ""),
                "--viewport", "500x320" if picks["env"] == "miniwob" else "{}x{}".format(*a.viewport)]
        argv += ["--no-ocr"] * a.no_ocr
        for flag, value in (("--card", a.card), ("--prompt", a.prompt), ("--coord-space", a.coord_space)):
            argv += [flag, str(value)] if value is not None else []
        if a.element_refs is not None:
            argv.append("--element-refs" if a.element_refs else "--no-element-refs")
        parser = Parser(prog="screenwise chat")
        add_chat_args(parser)
        return parser.parse_args(argv)

    # -- pages and the stream ------------------------------------------------------------------------------
    async def config(self, request: Request) -> Response:
        a = self.args
        return JSONResponse(scrub({"model": a.model, "env": a.env, "url": a.url, "task": a.task, "envs": list(ENVS),
                                   "models": ["embedded", "teacher", "scripted:FILE", "http://HOST:PORT/v1",
                                              "hf:DIR"],
                                   "max_instruction": MAX_INSTRUCTION, "runs": str(self.root)}, self.redact))

    async def stream(self, request: Request) -> Response:
        try:
            since = int(request.headers.get("last-event-id") or request.query_params.get("since") or 0)
        except ValueError:
            return _error(400, "since / Last-Event-ID must be a message number")
        backlog, queue = self.board.subscribe(since, asyncio.get_running_loop())

        async def events():
            try:
                for message in backlog:
                    yield _sse(message)
                while True:
                    try:
                        message = await asyncio.wait_for(queue.get(), timeout=10)
                    except TimeoutError:
                        yield ": still here\n\n"  # proxies and browsers drop a silent stream
                        continue
                    if message is None:  # the server is stopping
                        return
                    yield _sse(message)
            finally:
                self.board.unsubscribe(queue)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def screen(self, request: Request) -> Response:
        png = self.board.images.get(request.path_params["number"])
        if png is None:
            return _error(404, "that screenshot is gone; a newer one is on the stream")
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    # -- what a tab asks for -------------------------------------------------------------------------------
    async def instruction(self, request: Request) -> Response:
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        instruction, env = body.get("instruction", ""), body.get("env", self.args.env)
        model = body.get("model") or self.args.model
        if not isinstance(instruction, str) or not isinstance(model, str):
            return _error(422, "instruction and model must be text")
        if len(instruction) > MAX_INSTRUCTION:
            return _error(413, f"the instruction is {len(instruction)} characters; the limit is {MAX_INSTRUCTION}")
        if env not in ENVS:
            return _error(422, f"env must be one of {', '.join(ENVS)}")
        picks = {"env": env, "model": model.strip(), "url": str(body.get("url") or ""),
                 "task": str(body.get("task") or "")}
        if env == "miniwob" and not picks["task"]:
            return _error(422, "a MiniWoB env needs a task id (e.g. click-test)")
        if not instruction.strip() and env != "miniwob":
            return _error(422, "type an instruction (only a MiniWoB task brings its own)")
        try:
            self.chat.start(instruction.strip(), picks)
        except Busy as e:
            return _error(409, str(e))
        return JSONResponse({"ok": True}, status_code=202)

    async def control(self, request: Request) -> Response:
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        if body.get("action") not in ("pause", "take over", "stop"):
            return _error(422, "action must be pause, take over or stop")
        self.chat.control(body["action"])
        return JSONResponse({"ok": True, "state": self.chat.state})

    async def answer(self, request: Request) -> Response:
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        qid, answer = body.get("question"), body.get("answer")
        if not isinstance(qid, int) or not isinstance(answer, str) or len(answer) > MAX_INSTRUCTION:
            return _error(422, f"question must be a number and answer text of at most {MAX_INSTRUCTION} characters")
        if not self.board.answer(qid, answer):
            return _error(409, "already decided: another tab (or a stop) answered this question first")
        return JSONResponse({"ok": True})

    # -- runs ----------------------------------------------------------------------------------------------
    async def runs_list(self, request: Request) -> Response:
        return JSONResponse(scrub(list_runs(self.root, self.chat.live_dir), self.redact))

    async def run_info(self, request: Request) -> Response:
        try:
            return JSONResponse(scrub(run_detail(self.root, request.path_params["path"], self.chat.live_dir),
                                      self.redact))
        except FileNotFoundError:
            return _error(404, "no such run")

    async def run_file(self, request: Request) -> Response:
        """An episode page or index rendered now (so a running one shows every step so far), or a screenshot."""
        rel = request.path_params["path"]
        try:
            path = inside(self.root, rel)
        except FileNotFoundError:
            return _error(404, "no such file")
        if path.suffix == ".png" and path.is_file():
            return FileResponse(path, headers={"Cache-Control": "no-cache"})
        if path.name == EPISODE_PAGE and (path.parent / "episode.jsonl").is_file():
            page = episode_page(read_trajectory(path.parent), {"index": "/runs?run=" + rel.split("/", 1)[0]})
        elif path.name == "index.html" and path.parent.is_dir():
            page = index_page(path.parent, [read_trajectory(p) for p in find_trajectories(path.parent)], [])
        else:
            return _error(404, "only episode pages, run indexes and screenshots are served")
        live = '<p class="ui-bar"><a href="/">assistant</a> · <a href="/runs">runs</a></p>'
        page = page.replace("<body>", "<body>\n" + live, 1).replace(
            "</body>", '<script src="/static/live_episode.js"></script></body>', 1)
        return HTMLResponse(self.redact(page), headers={"Cache-Control": "no-store"})

    def app(self, token: str, hosts: set[str] | None) -> Guard:
        routes = [
            Route("/", lambda r: page("assistant")),
            Route("/runs", lambda r: page("runs")),
            Route("/api/config", self.config),
            Route("/api/stream", self.stream),
            Route("/api/screen/{number:int}.png", self.screen),
            Route("/api/instruction", self.instruction, methods=["POST"]),
            Route("/api/control", self.control, methods=["POST"]),
            Route("/api/answer", self.answer, methods=["POST"]),
            Route("/api/runs", self.runs_list),
            Route("/api/runs/{path:path}", self.run_info),
            Route("/runs/{path:path}", self.run_file),
            Mount("/static", StaticFiles(directory=STATIC)),
        ]
        return Guard(Starlette(routes=routes), token, hosts)


async def _json_body(request: Request) -> dict | Response:
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return _error(413, f"the request is larger than {MAX_BODY} bytes")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _error(413, f"the request is larger than {MAX_BODY} bytes")
    try:
        body = json.loads(raw)
    except ValueError as e:
        return _error(400, f"the body is not valid JSON: {e}")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    return body


def _sse(message: dict) -> str:
    return f"id: {message['id']}\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"


# -- the command -------------------------------------------------------------------------------------------

def allowed_hosts(bind: str, extra: list[str]) -> set[str] | None:
    """The Host names to answer: the loopback names, the bound address, and ``--allow-host``; ``*`` is any.
    Bound to every interface, the machine's own name and addresses are added."""
    if "*" in extra:
        return None
    hosts = LOCAL_HOSTS | {bind} | set(extra)
    if bind in ("0.0.0.0", "::"):
        name = socket.gethostname()
        hosts |= {name, socket.getfqdn()}
        try:
            hosts |= set(socket.gethostbyname_ex(name)[2])
        except OSError:
            pass
    return hosts


def main(args: argparse.Namespace) -> int:
    """``screenwise ui``: print the URL with its token, then serve until Ctrl-C."""
    try:
        import uvicorn
    except ImportError as e:
        raise SystemExit("screenwise ui needs its server: pip install 'screenwise[ui]'") from e

    policy = SafetyPolicy(allow_domains=args.allow_domains, secrets=load_secrets(args.secrets))
    ui = UI(args, policy)
    token = secrets.token_urlsafe(24)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))  # bound here, so the printed URL has the port even when it was 0
    sock.listen(128)  # a tab opened the moment the URL shows waits in the backlog until uvicorn accepts
    port = sock.getsockname()[1]
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    shown = f"[{shown}]" if ":" in shown else shown
    print(f"screenwise ui: http://{shown}:{port}/?token={token}", flush=True)
    print(f"runs under {ui.root}/ ; the assistant's trajectories in {ui.chat.out}/", flush=True)
    if args.host not in LOCAL_HOSTS:
        print(f"listening on {args.host}: anyone who can reach this port and has the token can drive the agent",
              flush=True)
    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            ui.board.end_streams()  # else uvicorn waits for the open tabs' streams, which never end
            super().handle_exit(sig, frame)

    server = Server(uvicorn.Config(ui.app(token, allowed_hosts(args.host, args.allow_host)), log_level="warning",
                                   timeout_graceful_shutdown=5, lifespan="off"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn stops on Ctrl-C, then raises it again for us
        pass
    finally:
        ui.chat.close()
        if ui.chat.runs:
            print(f"viewer: {write_viewer(ui.chat.out)}", flush=True)
    return 0
