"""Hostile servers on loopback, and what every run against one must still get right.

Two kinds of server:

- `RawServer`: a plain TCP listener whose connections are handled by a function, for answers
  that are not HTTP at all (silence, dripping, resets, garbage, bodies cut short or huge) and
  for a proxy that dies mid-run (`goes_down_after`). With `lure=True` it answers the harness's
  two start-up requests (discovery and the key probe) correctly, so the run gets past its start
  and meets the hostile behaviour inside the checks. It records what reached it (`requests()`).
- `AsgiServer`: uvicorn in a thread serving an ASGI app (a constant answer, or the reference
  wrapped in a middleware such as `EndlessCursor`), for answers that are HTTP but wrong; it can
  speak TLS (`self_signed` makes the certificate). Wrap the app in `Recording` to see, server
  side, every request and the status it got.

`assert_survived` is what every hostile run must get right.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import random
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import uvicorn
from harness_suite import KEY_TRIPLES, SuiteResult
from versions import OLDEST, TARGET

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# The limits every hostile run is given, and the slack allowed for process start and report.
REQUEST_TIMEOUT = 2
DEADLINE = 60
LIMITS = ("--request-timeout", str(REQUEST_TIMEOUT), "--deadline", str(DEADLINE))
TIMED_OUT = (f"timed out after {REQUEST_TIMEOUT} s", f"no complete response within {REQUEST_TIMEOUT} s")
STARTUP_SLACK = 30.0  # interpreter, plugins, catalogue, validator, report rendering

# what a hostile server declares: the version the faulty servers are judged at, too
META = {"spec_version": TARGET, "compatible_range": {"min": OLDEST, "max": TARGET},
        "implementation": {"name": "Hostile", "version": "0.0.1"}, "usage_visibility_seconds": 0}
EMPTY_PAGE = {"data": [], "has_more": False, "next_cursor": None}


@dataclass
class Seen:
    """One request as it reached a hostile server."""

    method: str
    target: str  # path and query
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float = field(default_factory=time.monotonic)
    status: int | None = None  # what the server answered (Recording only)

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


# raw TCP ---------------------------------------------------------------------------------------

Handler = Callable[["RawServer", socket.socket, Seen], bool]  # True: keep the connection open


class RawServer:
    """Accepts on 127.0.0.1; each request on each connection goes to `handler`."""

    def __init__(self, handler: Handler, *, lure: bool = False) -> None:
        self.handler = handler
        self.lure = lure
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        self.bytes_sent = 0
        self.hung_up = 0  # answers the client stopped reading (sends_100_mb)
        self.completed = 0
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> RawServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            _close(conn)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(None)
            buffer = b""
            while not self.stopping.is_set():
                request, buffer = _read_request(conn, buffer)
                if request is None:
                    return
                with self._lock:
                    self.seen.append(request)
                if self.lure and _is_start_up(request):
                    self.send(conn, http_response(200, json.dumps(
                        META if request.path == "/v1/meta" else EMPTY_PAGE).encode()))
                    continue
                if not self.handler(self, conn, request):
                    return
        except OSError:
            return
        finally:
            _close(conn)

    def kill(self) -> None:
        """Die like a killed process: no more connections, every open one reset."""
        self.stopping.set()
        self._listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            conn.close()

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        with self._lock:
            self.bytes_sent += len(data)

    def wait(self, seconds: float) -> bool:
        """Sleep, unless the server is stopping; True when it is."""
        return self.stopping.wait(seconds)

    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self.seen)


def _is_start_up(request: Seen) -> bool:
    """The harness's discovery (GET /v1/meta) and key probe (GET /v1/customers?limit=1)."""
    return request.method == "GET" and request.target in ("/v1/meta", "/v1/customers?limit=1")


def _read_request(conn: socket.socket, buffer: bytes) -> tuple[Seen | None, bytes]:
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk or len(buffer) > 1 << 20:
            return None, b""
        buffer += chunk
    head, buffer = buffer.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, target = (lines[0].split(" ") + ["", ""])[:2]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(buffer) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buffer += chunk
    return Seen(method, target, headers, buffer[:length]), buffer[length:]


def _close(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()


def http_response(status: int, body: bytes, content_type: str = "application/json",
                  extra: dict[str, str] | None = None, length: int | None = None) -> bytes:
    headers = {"Content-Type": content_type,
               "Content-Length": str(len(body) if length is None else length), **(extra or {})}
    head = f"HTTP/1.1 {status} Hostile\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


# raw handlers: each answers (or not) one request -----------------------------------------------

def never_answers(server: RawServer, conn: socket.socket, request: Seen) -> bool:
    server.stopping.wait()
    return False


def one_byte_per_second(server: RawServer, conn: socket.socket, request: Seen) -> bool:
    for byte in http_response(200, json.dumps(EMPTY_PAGE).encode()):
        server.send(conn, bytes([byte]))
        if server.wait(1.0):
            return False
    return True


def resets(server: RawServer, conn: socket.socket, request: Seen) -> bool:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
    conn.close()
    return False


def closes_mid_body(server: RawServer, conn: socket.socket, request: Seen) -> bool:
    server.send(conn, http_response(200, b'{"data": [{"id": "cus_', length=4096))
    return False


def sends_garbage(server: RawServer, conn: socket.socket, request: Seen) -> bool:
    noise = random.Random(len(server.seen)).randbytes(700)
    server.send(conn, b"\x00\xff\xfe" + noise + b"\r\n\r\n")
    return False


def closes_when_reused() -> Handler:
    """Answers the first request on each connection; closes it, unanswered, when the next comes.

    What a keep-alive race looks like to a client: the server closed the idle connection as the
    request reached it. Legal for a server (RFC 9112 §9.3); a client resends what it may.
    """
    answered: set[socket.socket] = set()  # each connection's thread touches only its own entry

    def handler(server: RawServer, conn: socket.socket, request: Seen) -> bool:
        if conn in answered:
            return False
        answered.add(conn)
        server.send(conn, http_response(200, json.dumps(EMPTY_PAGE).encode()))
        return True

    return handler


HUGE = 100 * 2**20


def sends_100_mb(server: RawServer, conn: socket.socket, request: Seen) -> bool:
    """100 MB announced and streamed in 64 KiB pieces; never more than one piece in memory.

    Counts in `server.hung_up` the answers the client stopped reading before their end.
    """
    server.send(conn, http_response(200, b"", length=HUGE))
    piece = b'{"data": [' + b" " * (65536 - 10)
    sent = 0
    try:
        while sent < HUGE:
            size = min(len(piece), HUGE - sent)
            server.send(conn, piece[:size])
            sent += size
            piece = b" " * 65536
    except OSError:
        server.hung_up += 1
        return False
    server.completed += 1
    return True


def goes_down_after(upstream: str, after: int) -> Handler:
    """A proxy to `upstream` for `after` requests; then the whole server dies."""
    host, port = upstream.removeprefix("http://").split(":")

    def handler(server: RawServer, conn: socket.socket, request: Seen) -> bool:
        if len(server.requests()) > after:
            server.kill()
            return False
        upstream_conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
            upstream_conn.request(request.method, request.target, body=request.body or None,
                                  headers=headers)
            answer = upstream_conn.getresponse()
            body = answer.read()
            extra = {k: v for k, v in answer.getheaders()
                     if k.lower() not in HOP_BY_HOP | {"content-length", "content-type"}}
            server.send(conn, http_response(answer.status, body,
                                            answer.getheader("content-type", ""), extra))
        finally:
            upstream_conn.close()
        return True

    return handler


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host"}


# ASGI apps and middlewares ---------------------------------------------------------------------

async def _respond(send: Send, status: int, body: bytes, content_type: str = "application/json",
                   headers: list[tuple[bytes, bytes]] | None = None) -> None:
    raw_headers = [(b"content-type", content_type.encode()),
                   (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if message["type"] != "http.request" or not message.get("more_body"):
            return body


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _target(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return scope["path"] + (f"?{query}" if query else "")


class Recording:
    """Records every request (method, target, headers, body) before passing it on."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.seen: list[Seen] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _drain(receive)
        seen = Seen(scope["method"], _target(scope), _headers(scope), body)
        with self._lock:
            self.seen.append(seen)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
            await send(message)

        await self.app(scope, replay, answer)

    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self.seen)


def constant(status: int | None, body: bytes | Callable[[int], bytes],
             content_type: str = "application/json",
             headers: list[tuple[bytes, bytes]] | None = None) -> App:
    """Every request gets the same answer (`body` may depend on the request's number).

    `status` None: the status a correct server would use (201 for POST, 204 for DELETE, else 200),
    so the harness gets past status checks and has to read the body.
    """
    count = 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal count
        if scope["type"] != "http":
            return
        await _drain(receive)
        count += 1
        content = body(count) if callable(body) else body
        code = status or {"POST": 201, "DELETE": 204}.get(scope["method"], 200)
        await _respond(send, code, content, content_type, headers)

    return app


def invalid_json_or_utf8(count: int) -> bytes:
    """Alternately JSON cut short and JSON whose strings are not UTF-8."""
    return b'{"data": [{"id": "cus_1", "name": ' if count % 2 else b'{"id": "\xff\xfe\xc3\x28", "x": 1}'


def deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def redirect_forever() -> App:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await _drain(receive)
        hop = int(dict(parse_qsl(scope.get("query_string", b"").decode())).get("hop", "0")) + 1
        location = f"{scope['path']}?{urlencode({'hop': hop})}"
        await _respond(send, 302, b"", headers=[(b"location", location.encode())])

    return app


def redirect_to(origin: str) -> App:
    """307 to the same path on another origin (methods and bodies would follow a 307)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await _drain(receive)
        await _respond(send, 307, b"", headers=[(b"location", (origin + _target(scope)).encode())])

    return app


def server_errors() -> App:
    problem = {"type": "about:blank", "title": "Oops", "status": 500, "code": "internal_error"}
    return constant(500, json.dumps(problem).encode(), "application/problem+json")


def too_many_requests(retry_after: str) -> App:
    problem = {"type": "about:blank", "title": "Slow down", "status": 429, "code": "rate_limited"}
    return constant(429, json.dumps(problem).encode(), "application/problem+json",
                    [(b"retry-after", retry_after.encode())])


class Intercept:
    """Wraps an app; `rewrite(scope, status, headers, body)` may change a buffered response."""

    def __init__(self, app: App) -> None:
        self.app = app

    def request(self, scope: Scope) -> Scope:
        return scope

    def rewrite(self, scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes
                ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return status, headers, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = self.request(scope)
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    status, headers, body = self.rewrite(scope, start["status"],
                                                         list(start.get("headers", [])),
                                                         b"".join(chunks))
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(body)).encode()))
                    await send({"type": "http.response.start", "status": status,
                                "headers": headers})
                    await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


class EndlessCursor(Intercept):
    """Every list page says there is more; following the cursor gives the first page again."""

    def request(self, scope: Scope) -> Scope:
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not (k == "cursor" and v.startswith("endless"))]
        return dict(scope) | {"query_string": urlencode(kept).encode("latin-1")}

    def rewrite(self, scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes
                ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if scope["method"] == "GET" and status == 200:
            try:
                page = json.loads(body)
            except ValueError:
                return status, headers, body
            if isinstance(page, dict) and "has_more" in page:
                page["has_more"] = True
                page["next_cursor"] = f"endless{random.randrange(10**9)}"
                body = json.dumps(page).encode()
        return status, headers, body


class NoDiscovery(Intercept):
    def rewrite(self, scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes
                ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if scope["path"] == "/v1/meta":
            problem = {"type": "about:blank", "title": "Not found", "status": 404, "code": "not_found"}
            return 404, [(b"content-type", b"application/problem+json")], json.dumps(problem).encode()
        return status, headers, body


class EchoAuthorization(Intercept):
    """Sends the caller's Authorization back in a header and, on errors, in the body too.

    Errors get it in every field a harness might print: detail, code, title; one in three error
    answers is not even JSON, so the raw body (with the key) is all there is to show.
    """

    count = 0

    def rewrite(self, scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes
                ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        auth = _headers(scope).get("authorization", "")
        headers = [*headers, (b"x-echo-authorization", auth.encode("latin-1")),
                   (b"www-authenticate", f'Bearer realm="{auth}"'.encode("latin-1"))]
        if scope["path"] == "/v1/meta":
            meta = json.loads(body) | {"caller": auth}
            return status, headers, json.dumps(meta).encode()
        if status >= 400:
            self.count += 1
            if self.count % 3 == 0:
                return status, [(b"content-type", b"application/json")], (
                    f"you sent {auth} <html>".encode("latin-1"))
            problem = json.loads(body) | {"detail": f"you sent Authorization: {auth}",
                                          "code": auth, "title": auth, "echo": auth}
            return status, headers, json.dumps(problem).encode()
        return status, headers, body


# uvicorn in a thread ---------------------------------------------------------------------------

class AsgiServer:
    """uvicorn serving `app` on 127.0.0.1 from a daemon thread, optionally over TLS."""

    def __init__(self, app: App, *, certfile: Path | None = None, keyfile: Path | None = None) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        scheme = "https" if certfile else "http"
        self.url = f"{scheme}://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1,
                                ssl_certfile=str(certfile) if certfile else None,
                                ssl_keyfile=str(keyfile) if keyfile else None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> AsgiServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the hostile server failed to start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True  # uvicorn closes the listener within its 0.1 s tick
        self.thread.join(timeout=10)
        self.sock.close()


def reference_app(**options: Any) -> App:
    from valora_spec.reference import create_app

    return create_app(keys=KEY_TRIPLES, **options)


# TLS -------------------------------------------------------------------------------------------

def self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile.localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# what every hostile run must get right ---------------------------------------------------------

def assert_survived(result: SuiteResult, wall: float, *, affected: set[str] | None = None,
                    limit: float = DEADLINE + STARTUP_SLACK) -> dict[str, Any]:
    """Ended in time, non-zero, no traceback, complete report; `affected` are fail/error, or
    skipped as not evaluated (a run stopped by its deadline).

    Returns the report.
    """
    output = result.stdout + result.stderr
    assert wall < limit, f"the run took {wall:.1f} s (limit {limit:.0f} s)\n{output[-3000:]}"
    assert result.exit_code != 0, output[-3000:]
    assert "Traceback" not in output, output[-6000:]
    assert "INTERNALERROR" not in output, output[-6000:]
    path = result.report_dir / "report.json"
    assert path.is_file(), f"no report.json\n{output[-3000:]}"
    for name in ("junit.xml", "summary.md", "report.html", "manifest.json"):
        assert (result.report_dir / name).is_file(), f"{name} missing"
    report = result.report
    assert report["verdict"] in ("fail", "incomplete"), report["verdict"]
    by_id = {r["id"]: r for r in report["requirements"]}
    assert len(by_id) == report["counts"]["total"] > 0
    for requirement in affected or set():
        entry = by_id[requirement]
        assert entry["status"] in ("fail", "error") or (
            entry["status"] == "skip" and "not evaluated" in entry["reason"]), (
            requirement, entry["status"], entry["reason"])
    for entry in by_id.values():
        if entry["status"] in ("fail", "error"):
            reason = entry["reason"]
            assert isinstance(reason, str) and reason.strip(), (entry["id"], reason)
            assert "\n" not in reason and len(reason) <= 600, (entry["id"], reason)
    return report


def reasons(report: dict[str, Any]) -> str:
    """Every requirement reason and run error, for `in` assertions."""
    parts = [str(r["reason"]) for r in report["requirements"]] + list(report["errors"])
    return "\n".join(parts)


@dataclass
class Timer:
    started: float = field(default_factory=time.monotonic)

    @property
    def wall(self) -> float:
        return time.monotonic() - self.started
