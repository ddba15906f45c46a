"""The local review app: Starlette routes served by uvicorn on 127.0.0.1.

Every request needs the access token printed with the URL (as Jupyter does): the
first page is opened with ``?token=...``, which sets a same-site cookie; a decision
is a POST that must also carry the token in a header, so no other site can make one.
Audio is served only for recordings the workspace holds, found by quote id; no part
of a request is ever joined onto a path. Pages are Jinja2 templates with autoescaping,
and a Content-Security-Policy keeps any script but the app's own from running.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path
from urllib.parse import quote as urlquote
from urllib.parse import urlencode

from pipeline.records import Verdict
from pipeline.review import store
from pipeline.review.clips import CACHE_DIR, AudioCache, ClipError, clip_samples, peaks, wav_bytes
from pipeline.review.results import Card, Results, load_results
from pipeline.review.views import card_view, environment

log = logging.getLogger(__name__)

PAGE_SIZE = 25
"""Cards per page."""

COOKIE = "dispatch_review"
"""The cookie that carries the token after the first visit."""

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
"""The pages' Content-Security-Policy: the app's own files and nothing else."""

STATIC = {"review.js": "application/javascript", "review.css": "text/css"}
"""The only static files served, by name (read from the package, never from a request path)."""

FILTERS = (("verdict", "verdict"), ("source", "source"), ("recording", "recording"), ("speaker", "speaker"))


@dataclass
class ReviewState:
    """What the app holds while it runs."""

    results: Results
    """The results folder."""
    reviewer: str
    """Who decides."""
    token: str
    """The access token."""
    decisions: store.DecisionStore
    """The decisions table."""
    audio: AudioCache
    """Decoded recordings."""
    hashes: dict[str, str] = field(default_factory=dict)
    """Recording SHA-256 by recorded path."""
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    """Serialises rewrites of ``quotes.csv``."""

    def basis(self, card: Card) -> dict:
        """The card's fingerprint basis."""
        return store.row_basis(card.row, self.hashes)

    def matches(self) -> dict[str, store.Match]:
        """Every card's decision as it stands."""
        by_id, by_fp = self.decisions.all_latest()
        return {c.quote_id: store.match(c.quote_id, store.basis_fingerprint(self.basis(c)), by_id, by_fp)
                for c in self.results.cards}

    def orphans(self) -> int:
        """Decisions that match no quote of this run, neither by fingerprint nor by id."""
        by_id, by_fp = self.decisions.all_latest()
        fps = {store.basis_fingerprint(self.basis(c)) for c in self.results.cards}
        ids = {c.quote_id for c in self.results.cards}
        return sum(1 for q, d in by_id.items() if q not in ids and d.fingerprint not in fps)

    def write_back(self) -> None:
        """Rewrite ``quotes.csv`` with the review columns."""
        with self.write_lock:
            store.write_quotes_csv(self.results.directory / "quotes.csv", self.results.rows,
                                   self.results.columns, self.results.workspace)


def open_state(results_dir: str | Path, reviewer: str | None = None, token: str | None = None,
               audio_roots: tuple = ()) -> ReviewState:
    """Read a results folder and open its decisions, ready to serve.

    Raises:
        ReviewError: The folder holds no verify run.
    """
    results = load_results(results_dir, audio_roots)
    state = ReviewState(
        results=results, reviewer=reviewer or store.default_reviewer(),
        token=token or secrets.token_urlsafe(24), decisions=store.DecisionStore(results.workspace),
        audio=AudioCache(results.directory / CACHE_DIR),
        hashes={k: r.sha256 for k, r in results.recordings.items()},
    )
    if state.decisions.all_latest()[0]:
        state.write_back()  # a verify re-run may have written quotes.csv without them
    return state


def create_app(state: ReviewState):
    """The Starlette application over a review state."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    env = environment()
    routes = [
        Route("/", partial(_index, state=state, env=env)),
        Route("/clip", partial(_clip, state=state)),
        Route("/peaks", partial(_peaks, state=state)),
        Route("/decide", partial(_decide, state=state), methods=["POST"]),
        Route("/static/{name}", partial(_static, state=state)),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(_Guard, state=state, env=env)
    return app


class _Guard:
    """ASGI middleware: the token check, the security headers, and a plain page on errors."""

    def __init__(self, app, state: ReviewState, env):
        self.app, self.state, self.env = app, state, env

    async def __call__(self, scope, receive, send):
        from starlette.requests import Request
        from starlette.responses import HTMLResponse, RedirectResponse

        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        given = request.query_params.get("token")
        if given is not None and secrets.compare_digest(given, self.state.token):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            response = RedirectResponse(request.url.path + ("?" + urlencode(rest) if rest else ""), 303)
            response.set_cookie(COOKIE, self.state.token, httponly=True, samesite="strict")
            return await response(scope, receive, send)
        if not _authorised(request, self.state.token):
            page = self.env.get_template("message.html").render(
                title="Access refused",
                message="This review needs its access link: open the URL that `dispatch review` printed.")
            return await HTMLResponse(page, 403)(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"content-security-policy", CSP.encode()),
                            (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store")]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:  # a plain page, never a stack trace in the browser
            log.exception("review request failed: %s", request.url.path)
            page = self.env.get_template("message.html").render(
                title="Something went wrong", message="The request failed; the terminal shows why.")
            await HTMLResponse(page, 500)(scope, receive, send)


def _authorised(request, token: str) -> bool:
    cookie = request.cookies.get(COOKIE, "")
    if request.method == "GET":
        return bool(cookie) and secrets.compare_digest(cookie, token)
    header = request.headers.get("x-review-token", "")
    return bool(header) and secrets.compare_digest(header, token)


def _selected(request) -> dict[str, str]:
    keys = [name for name, _ in FILTERS] + ["q"]
    return {k: request.query_params.get(k, "") for k in keys}


def _keep(card: Card, sel: dict[str, str]) -> bool:
    if sel["verdict"] and card.verdict.value != sel["verdict"]:
        return False
    for name in ("source", "recording", "speaker"):
        if sel[name] and getattr(card, name) != sel[name]:
            return False
    if sel["q"]:
        hay = " ".join((card.quote_id, card.text, card.heard_text, card.source, card.speaker)).casefold()
        return all(part in hay for part in sel["q"].casefold().split())
    return True


def _page_number(request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if re.fullmatch(r"[1-9][0-9]{0,5}", raw) else 1


async def _index(request, state: ReviewState, env):
    from starlette.responses import HTMLResponse

    sel = _selected(request)
    cards = state.results.cards
    matching = [(i, c) for i, c in enumerate(cards, start=1) if _keep(c, sel)]
    page = _page_number(request)
    chunk = matching[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    found = state.matches()
    views = [card_view(state.results, c, i, found[c.quote_id]) for i, c in chunk]
    query = {k: v for k, v in sel.items() if v}

    def page_url(n: int) -> str | None:
        if n < 1 or (n - 1) * PAGE_SIZE >= len(matching):
            return None
        return "/?" + urlencode({**query, "page": n})

    options = {name: sorted({getattr(c, name).value if name == "verdict" else getattr(c, name)
                             for c in cards} - {""}) for name, _ in FILTERS}
    html = env.get_template("app.html").render(
        title=str(state.results.directory), token=state.token, reviewer=state.reviewer, views=views,
        total=len(cards), matching=len(matching),
        reviewed=sum(1 for m in found.values() if m.current), stale=sum(1 for m in found.values() if m.stale),
        orphans=state.orphans(), filters=[(n, label, options[n]) for n, label in FILTERS], selected=sel,
        shown_from=(page - 1) * PAGE_SIZE + 1 if chunk else 0, shown_to=(page - 1) * PAGE_SIZE + len(chunk),
        next_url=page_url(page + 1), prev_url=page_url(page - 1),
        clip_url=lambda qid: "/clip?q=" + urlquote(qid, safe=""),
    )
    return HTMLResponse(html)


def _card_for(request, state: ReviewState) -> tuple[Card | None, str]:
    card = state.results.card(request.query_params.get("q", ""))
    if card is None or not card.located:
        return None, "no such quote, or it was not found in any recording"
    rec = state.results.recordings.get(card.recording)
    if rec is None:
        return None, f"the workspace holds no transcript of {card.recording}: its audio is not served"
    return card, ""


async def _clip(request, state: ReviewState):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import PlainTextResponse, Response

    card, why = _card_for(request, state)
    if card is None:
        return PlainTextResponse(why, 404)
    try:
        samples = await run_in_threadpool(state.audio.samples, state.results.recordings[card.recording])
    except ClipError as e:
        return PlainTextResponse(str(e), 404)
    data = wav_bytes(clip_samples(samples, *card.clip))
    start, end = _byte_range(request.headers.get("range", ""), len(data))
    headers = {"accept-ranges": "bytes", "content-type": "audio/wav"}
    if start is None:
        return Response(data, 200, headers=headers)
    headers["content-range"] = f"bytes {start}-{end}/{len(data)}"
    return Response(data[start:end + 1], 206, headers=headers)


def _byte_range(header: str, size: int) -> tuple[int | None, int]:
    """The first range of a ``Range: bytes=a-b`` header, clamped; (None, 0) for none."""
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not m or (not m.group(1) and not m.group(2)) or size == 0:
        return None, 0
    if not m.group(1):  # the last N bytes
        return max(size - int(m.group(2)), 0), size - 1
    start = min(int(m.group(1)), size - 1)
    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return start, max(start, end)


async def _peaks(request, state: ReviewState):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    card, why = _card_for(request, state)
    if card is None:
        return JSONResponse({"error": why}, 404)
    try:
        samples = await run_in_threadpool(state.audio.samples, state.results.recordings[card.recording])
    except ClipError as e:
        return JSONResponse({"error": str(e)}, 404)
    start, end = card.clip
    return JSONResponse({"start": start, "end": end, "peaks": peaks(clip_samples(samples, start, end))})


async def _decide(request, state: ReviewState):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    try:
        body = json.loads(await request.body())
        card = state.results.card(str(body["quote_id"]))
        verdict = Verdict(body["verdict"])
        seen = body.get("seen")
        seen = int(seen) if seen is not None else None
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": "a decision needs quote_id, verdict, and seen"}, 400)
    if card is None:
        return JSONResponse({"error": "no such quote"}, 404)
    try:
        decision = state.decisions.save(
            card.quote_id, state.basis(card), verdict, reviewer=state.reviewer,
            heard=str(body.get("heard", ""))[:2000], note=str(body.get("note", ""))[:4000], seen=seen)
    except store.Conflict as e:
        return JSONResponse({"error": str(e), "current": e.current.as_json()}, 409)
    await run_in_threadpool(state.write_back)
    return JSONResponse({"decision": decision.as_json()})


async def _static(request, state: ReviewState):
    from starlette.responses import PlainTextResponse, Response

    name = request.path_params["name"]
    if name not in STATIC:
        return PlainTextResponse("not found", 404)
    return Response(static_text(name), media_type=STATIC[name])


def static_text(name: str) -> str:
    """One of the app's own static files, by its fixed name."""
    if name not in STATIC:
        raise KeyError(name)
    return resources.files("pipeline.review").joinpath("static", name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- running


@dataclass
class Server:
    """A review app running in a thread."""

    url: str
    """The address to open, token included."""
    thread: threading.Thread
    """The thread serving."""
    server: object
    """The uvicorn server."""
    state: ReviewState
    """What it serves."""

    def stop(self) -> None:
        """Stop serving and close the decisions table."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.state.decisions.close()


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket on ``host``: ``port`` 0 takes a free one."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def start(results_dir: str | Path, *, host: str = "127.0.0.1", port: int = 0,
          reviewer: str | None = None, token: str | None = None, audio_roots: tuple = (),
          warm: bool = True) -> Server:
    """Start the review app in a background thread.

    Args:
        results_dir: The results folder.
        host: Address to bind (127.0.0.1 by default; any other is reachable by others).
        port: Port, 0 for a free one.
        reviewer: Name recorded with each decision (default: the OS user).
        token: The access token (default: a random one).
        audio_roots: Extra folders to find recordings in.
        warm: Decode the recordings in the background, in review order.

    Returns:
        The running server; call ``stop()`` to end it.

    Raises:
        ReviewError: The folder holds no verify run.
    """
    import uvicorn

    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving the review on %s: anyone who can reach it and has the token can decide", host)
    state = open_state(results_dir, reviewer, token, audio_roots)
    sock = bind(host, port)
    config = uvicorn.Config(create_app(state), log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="review", daemon=True)
    thread.start()
    if warm:
        order: dict[str, object] = {}
        for c in state.results.cards:
            if c.recording in state.results.recordings:
                order.setdefault(c.recording, state.results.recordings[c.recording])
        state.audio.warm(list(order.values()))
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    return Server(url=f"http://{shown}:{bound[1]}/?token={state.token}", thread=thread, server=server,
                  state=state)


def serve(results_dir: str | Path, *, host: str = "127.0.0.1", port: int = 0, reviewer: str | None = None,
          open_browser: bool = True, ready=None, audio_roots: tuple = ()) -> None:
    """Serve the review app until interrupted (Ctrl-C).

    Args:
        results_dir: The results folder.
        host: Address to bind.
        port: Port, 0 for a free one.
        reviewer: Name recorded with each decision (default: the OS user).
        open_browser: Open the URL in the default browser.
        ready: Called with the URL once serving (the command line prints it).
        audio_roots: Extra folders to find recordings in.

    Raises:
        ReviewError: The folder holds no verify run.
    """
    running = start(results_dir, host=host, port=port, reviewer=reviewer, audio_roots=audio_roots)
    if ready:
        ready(running.url)
    if open_browser:
        import webbrowser

        webbrowser.open(running.url)
    try:
        while running.thread.is_alive():
            running.thread.join(timeout=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
