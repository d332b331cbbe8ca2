"""The harness's only way to talk to a target: bounded, rate-limited, recorded, redacted."""

from __future__ import annotations

import contextlib
import email.utils
import itertools
import json
import math
import os
import shlex
import ssl
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: workers take a fixed share of --concurrency instead
    fcntl = None  # type: ignore[assignment]

import httpx

from valora_spec._redact import KEY_PLACEHOLDERS, SENSITIVE_HEADERS, replace_secrets, safe_headers

MAX_BODY = 8 * 1024 * 1024  # a response larger than this is a failure, not something to buffer
MAX_RETRIES_429 = 3
MAX_RETRY_AFTER = 5.0
MAX_CONSECUTIVE_ERRORS = 6
JUDGE_INLINE_BELOW = 64 * 1024  # smaller bodies are judged on the caller's thread
MAX_KEEPALIVE = 10  # idle connections kept for reuse
# Servers close idle connections after a few seconds (uvicorn and Node 5 s, gunicorn 2 s); a
# request sent as one closes is lost, so the harness drops idle connections before that.
KEEPALIVE_EXPIRY = 1.0


class TargetError(Exception):
    """The target did not answer with a usable HTTP response (timeout, reset, garbage)."""


class DeadlineExceeded(TargetError):
    """The run's --deadline has passed; no further requests are sent."""


class ReadOnlyViolation(RuntimeError):
    """A check tried an unsafe method in --read-only mode: a harness bug, and nothing was sent."""


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENT_METHODS = SAFE_METHODS | {"PUT", "DELETE", "TRACE"}


@dataclass
class Exchange:
    """One request and what came back, with every credential replaced by a placeholder."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    error: str | None = None

    def curl(self) -> str:
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if any(p in value for p in KEY_PLACEHOLDERS):  # keep the env var expandable by the shell
                parts += ["-H", f'"{name}: {value}"']
            else:
                parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body is None:
            return " ".join(parts)
        if "\0" not in self.request_body:
            return " ".join([*parts, "--data-raw", shlex.quote(self.request_body)])
        # A shell argument cannot hold a NUL byte: printf writes the body, curl reads it as is.
        escaped = self.request_body.replace("\\", "\\\\").replace("%", "%%").replace("\0", "\\000")
        return f"printf {shlex.quote(escaped)} | " + " ".join([*parts, "--data-binary", "@-"])

    def as_request(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": self.request_headers,
                "body": self.request_body}

    def as_response(self) -> dict[str, Any] | None:
        if self.status is None:
            return None
        return {"status": self.status, "headers": self.response_headers, "body": self.response_body}


@dataclass
class Scope:
    """Whom a request speaks for: the check charged with what its response shows.

    Carried by each client and handed to every observer with the reply, so what is judged and
    who is blamed never depends on shared state, whatever runs at the same time.
    """

    check: str
    schema_checked: bool = False  # schemathesis validates these responses itself
    last: Exchange | None = None  # the scope's last exchange: evidence for its next finding


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    content: bytes
    exchange: Exchange
    elapsed: float

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is the target's fault, not the harness's."""
        try:
            return json.loads(self.content)
        except (ValueError, RecursionError) as exc:
            snippet = (self.exchange.response_body or "")[:80]  # redacted: the body may echo a key
            raise TargetError(f"{self.exchange.method} {self.exchange.url} answered {self.status} "
                              f"with a body that is not JSON ({type(exc).__name__}): "
                              f"{snippet!r}") from None


class RateLimiter:
    def __init__(self, max_rps: float) -> None:
        self.interval = 1.0 / max_rps if max_rps > 0 else 0.0
        self.next_slot = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


CAN_SHARE_SLOTS = fcntl is not None


class Slots:
    """At most `count` requests in flight across the processes of one run (xdist workers): a
    lock file per slot, locked (flock) for the length of one exchange. A worker short of work
    lends its share to one that has many independent requests, and a process that ends, however
    it ends, frees its slots."""

    def __init__(self, directory: str, count: int) -> None:
        self.paths = [os.path.join(directory, f"slot-{index}") for index in range(count)]
        self._turn = itertools.count()

    def take(self) -> Slot:
        first = next(self._turn)
        order = [self.paths[(first + i) % len(self.paths)] for i in range(len(self.paths))]
        for path in order:
            slot = Slot(path)
            if slot.lock(wait=False):
                return slot
        slot = Slot(order[0])  # every slot busy: wait for one, asleep rather than polling
        slot.lock(wait=True)
        return slot


class Slot:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def lock(self, *, wait: bool) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(self.fd)
            return False
        return True

    def close(self) -> None:
        os.close(self.fd)  # closing the file releases its lock


@dataclass
class Transport:
    """Shared by every client of a run: connection pool, limits, counters, observers."""

    base_url: str
    request_timeout: float
    deadline_at: float  # time.monotonic() value
    rate: RateLimiter
    verify: bool | str = True
    secrets: dict[str, str] = field(default_factory=dict)  # key -> placeholder
    observers: list[Callable[[Reply, Scope], None]] = field(default_factory=list)
    requests_sent: int = 0
    throttled: int = 0
    consecutive_errors: int = 0
    down: str | None = None  # set once the target stops answering altogether
    harness_errors: list[str] = field(default_factory=list)  # observers that broke, for the report
    read_only: bool = False  # --read-only: refuse every unsafe method before it leaves the harness
    stopped: bool = False  # set by a stop signal: nothing more is sent
    unjudgeable_size: float = math.inf  # bodies this large took observers too long (see _judge)
    slots: Slots | None = None  # shared with other processes of the run (xdist workers)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self._paused_until: dict[str | None, float] = {}  # key -> when a 429's Retry-After ends
        # A CA bundle becomes an SSL context once: httpx deprecates verify=<path>.
        self._verify = (ssl.create_default_context(cafile=self.verify)
                        if isinstance(self.verify, str) else self.verify)
        self.http = self._new_client()

    def _new_client(self) -> httpx.Client:
        return httpx.Client(timeout=httpx.Timeout(self.request_timeout), follow_redirects=False,
                            verify=self._verify, trust_env=False,
                            limits=httpx.Limits(max_connections=20,
                                                max_keepalive_connections=MAX_KEEPALIVE,
                                                keepalive_expiry=KEEPALIVE_EXPIRY))

    def close(self) -> None:
        self.http.close()

    def redact(self, text: str) -> str:
        return replace_secrets(text, self.secrets)

    def send(self, method: str, path: str, *, key: str | None, scope: Scope,
             params: dict | None = None,
             json_body: Any = None, content: bytes | None = None,
             headers: dict[str, str] | None = None) -> Reply:
        attempt = 0
        while True:
            self._wait_while_paused(key)
            reply = self._send_once(method, path, key=key, params=params, json_body=json_body,
                                    content=content, headers=headers)
            scope.last = reply.exchange
            self._judge(reply, scope)
            if reply.status != 429 or attempt >= MAX_RETRIES_429:
                return reply
            # Being a good guest: honour Retry-After, bounded so a hostile value cannot stall us,
            # for every request with this key, not only this one (others may be in flight).
            attempt += 1
            delay = retry_after(reply.headers.get("retry-after"))
            with self.lock:
                self.throttled += 1
                until = time.monotonic() + delay
                if until >= self.deadline_at:
                    return reply
                self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)

    def _wait_while_paused(self, key: str | None) -> None:
        with self.lock:
            remaining = self._paused_until.get(key, 0.0) - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    def _judge(self, reply: Reply, scope: Scope) -> None:
        """Pass the reply to every observer, within the per-request time bound.

        Schema validation is pure-Python work proportional to the body: a hostile 8 MiB array
        of a million items takes minutes, which would break --deadline. So a large body is judged
        in a worker thread given --request-timeout; one that takes longer is left unjudged (the
        worker finishes in the background), and no body as large is judged again.
        """
        if not self.observers:
            return
        size = len(reply.content)
        if size >= self.unjudgeable_size:
            self._harness_error(f"{reply.exchange.method} {reply.exchange.url} ({reply.status}) "
                                f"not judged: its {size // 1024} KiB body is as large as one "
                                "that could not be judged in time")
            return
        if size < JUDGE_INLINE_BELOW:
            for observe in list(self.observers):
                self._observe(observe, reply, scope)
            return

        cancelled = threading.Event()

        def judge() -> None:
            sys.settrace(_stop_when(cancelled))
            try:
                with contextlib.suppress(_Stopped):
                    for observe in list(self.observers):
                        self._observe(observe, reply, scope)
            finally:
                sys.settrace(None)

        worker = threading.Thread(target=judge, daemon=True)
        worker.start()
        budget = min(self.request_timeout, max(self.deadline_at - time.monotonic(), 0.1))
        worker.join(budget)
        if worker.is_alive():
            cancelled.set()  # left running, it would hold the GIL for minutes and slow the run
            self.unjudgeable_size = min(self.unjudgeable_size, size)
            self._harness_error(f"{reply.exchange.method} {reply.exchange.url} ({reply.status}) "
                                f"not judged: checking its {size // 1024} KiB body against the "
                                f"spec took longer than {budget:g} s")

    def _observe(self, observe: Callable[[Reply, Scope], None], reply: Reply,
                 scope: Scope) -> None:
        """Observers judge every reply; one that breaks on a hostile reply must not end the run."""
        try:
            observe(reply, scope)
        except Exception as exc:  # noqa: BLE001 - reported as a harness error instead
            self._harness_error(f"harness error while judging {reply.exchange.method} "
                                f"{reply.exchange.url} ({reply.status}): "
                                f"{type(exc).__name__}: {_reason(exc)}")

    def _harness_error(self, message: str) -> None:
        message = self.redact(message)[:300]
        with self.lock:
            if message not in self.harness_errors and len(self.harness_errors) < 20:
                self.harness_errors.append(message)

    def _send_once(self, method: str, path: str, *, key: str | None, params: dict | None,
                   json_body: Any, content: bytes | None, headers: dict[str, str] | None) -> Reply:
        if self.read_only and method.upper() not in SAFE_METHODS:
            raise ReadOnlyViolation(f"--read-only: refused to send {method} {path}; "
                                    "a check that writes must be marked `writes`")
        if self.stopped:
            raise DeadlineExceeded("the run was stopped before this request")
        if time.monotonic() >= self.deadline_at:
            raise DeadlineExceeded("the run's --deadline passed before this request")
        if self.down:  # fail fast rather than wait a timeout per remaining request
            raise TargetError(f"target not answering ({self.down})")
        self.rate.wait()
        all_headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate"}
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        if key is not None:
            all_headers["Authorization"] = f"Bearer {key}"
        request = self.http.build_request(method, self.base_url + path, params=params,
                                          content=content, headers=all_headers)
        exchange = Exchange(method, self.redact(str(request.url)), self._safe_headers(all_headers),
                            self.redact(content.decode("utf-8", "replace")) if content else None)
        with self.lock:
            self.requests_sent += 1
        outcome: dict[str, Any] = {}
        # A worker thread bounds the whole exchange: httpx's timeouts are per socket read, so a
        # server dripping one byte a second would otherwise hold us forever.
        worker = threading.Thread(target=self._perform, args=(request, outcome), daemon=True)
        slot = self.slots.take() if self.slots is not None else None
        try:
            started = time.monotonic()
            worker.start()
            worker.join(min(self.request_timeout, max(self.deadline_at - started, 0.01)) + 0.5)
        finally:
            if slot is not None:
                slot.close()  # the exchange is over, or given up on
        if worker.is_alive():
            self._replace_client()
            outcome["error"] = f"no complete response within {self.request_timeout:g} s"
        if "error" in outcome:
            exchange.error = outcome["error"]
            self._transport_error(exchange.error)
            raise TargetError(f"{method} {exchange.url}: {exchange.error}")
        self.consecutive_errors = 0
        response: httpx.Response = outcome["response"]
        body: bytes = outcome["body"]
        exchange.status = response.status_code
        exchange.response_headers = {k: self.redact(v) for k, v in response.headers.items()
                                     if k.lower() not in SENSITIVE_HEADERS}
        exchange.response_body = _excerpt(self.redact(body[:4000].decode("utf-8", "replace")))
        return Reply(response.status_code, response.headers, body, exchange,
                     time.monotonic() - started)

    def _perform(self, request: httpx.Request, outcome: dict[str, Any]) -> None:
        started = time.monotonic()
        for attempt in range(MAX_KEEPALIVE + 1):  # each stale connection tried, the pool drops
            events: set[str] = set()
            request.extensions["trace"] = lambda name, info, seen=events: seen.add(name)
            try:
                self._receive(request, outcome, started)
                return
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                stale = not events & {"connection.connect_tcp.started",
                                      "http11.receive_response_headers.complete"}
                if stale and _replayable(request) and attempt < MAX_KEEPALIVE:
                    continue  # the server closed an idle connection as the request reached it
                outcome["error"] = _broken(exc, request.method,
                                           unreplayed=stale and not _replayable(request))
                return
            except httpx.TimeoutException:
                outcome["error"] = f"timed out after {self.request_timeout:g} s"
            except httpx.ConnectError as exc:
                outcome["error"] = _connect_error(exc)
            except httpx.HTTPError as exc:
                outcome["error"] = f"{type(exc).__name__}: {_reason(exc)}"
            except Exception as exc:  # noqa: BLE001 - a hostile server must not crash the harness
                outcome["error"] = f"{type(exc).__name__}: {_reason(exc)}"
            return

    def _receive(self, request: httpx.Request, outcome: dict[str, Any], started: float) -> None:
        response = self.http.send(request, stream=True)
        try:
            chunks, size = [], 0
            for chunk in response.iter_raw():
                size += len(chunk)
                if size > MAX_BODY:
                    outcome["error"] = f"response body larger than {MAX_BODY // 2**20} MiB"
                    return
                if time.monotonic() - started > self.request_timeout:
                    outcome["error"] = f"body still arriving after {self.request_timeout:g} s"
                    return
                chunks.append(chunk)
            raw = b"".join(chunks)
            body = _decode(raw, response.headers.get("content-encoding"))
            if body is None:
                outcome["error"] = (f"compressed response body larger than "
                                    f"{MAX_BODY // 2**20} MiB once decompressed")
                return
            outcome["body"] = body
            outcome["response"] = response
        finally:
            response.close()

    def _transport_error(self, reason: str) -> None:
        self.consecutive_errors += 1
        if self.consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
            self.down = f"{self.consecutive_errors} requests in a row failed; last: {reason}"

    def _replace_client(self) -> None:
        old, self.http = self.http, self._new_client()
        threading.Thread(target=old.close, daemon=True).start()

    def _safe_headers(self, headers: dict[str, str]) -> dict[str, str]:
        return safe_headers(headers, self.secrets)


def _replayable(request: httpx.Request) -> bool:
    """Whether a request may be sent again after a connection broke before any answer: an
    idempotent method (RFC 9110 §9.2.2 allows repeating those automatically) or one carrying an
    Idempotency-Key (as Go's net/http also resends), so a keyless POST that a server may have
    applied before closing is never applied twice."""
    return request.method in IDEMPOTENT_METHODS or "idempotency-key" in request.headers


def _broken(exc: httpx.HTTPError, method: str, *, unreplayed: bool) -> str:
    what = ("broken HTTP response" if isinstance(exc, httpx.RemoteProtocolError)
            else "connection broken")
    if unreplayed:  # the cause may be a keep-alive race, not a broken server: say so
        return (f"{what} ({_reason(exc)}) on a reused keep-alive connection; "
                f"not resent: {method} without an Idempotency-Key is not replayable")
    return f"{what} ({_reason(exc)})"


def _decode(raw: bytes, encoding: str | None) -> bytes | None:
    """The body without its content encoding; None when it would exceed MAX_BODY."""
    if not encoding:
        return raw

    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding.strip().lower())
    if wbits is None:
        return raw
    try:  # bounded, so a compression bomb cannot exhaust memory
        inflater = zlib.decompressobj(wbits)
        body = inflater.decompress(raw, MAX_BODY)
    except zlib.error:
        return raw
    return None if inflater.unconsumed_tail else body


def retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (seconds or HTTP date), within bounds."""
    delay = 1.0
    if value:
        try:
            delay = float(value.strip())
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                delay = (when - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError, IndexError, OverflowError):
                delay = 1.0
    if not math.isfinite(delay):  # "nan" or "inf": a hostile value, not a wait
        delay = MAX_RETRY_AFTER if delay == math.inf else 1.0
    return min(max(delay, 0.1), MAX_RETRY_AFTER)


def _connect_error(exc: httpx.ConnectError) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0].strip()
        return (f"TLS certificate not trusted ({detail or 'verification failed'}); "
                "to trust it, pass its CA with --ca-bundle")
    if "SSL" in text or "TLS" in text:
        return f"TLS handshake failed ({_reason(exc)})"
    return f"cannot connect ({_reason(exc)})"


MAX_EXCERPT_DEPTH = 64


def _excerpt(text: str) -> str:
    """The body excerpt kept in reports, cut where JSON nests deeper than any reader recurses."""
    depth = 0
    for index, char in enumerate(text):
        if char in "[{":
            depth += 1
            if depth > MAX_EXCERPT_DEPTH:
                return text[:index] + f" [excerpt cut: nested deeper than {MAX_EXCERPT_DEPTH}]"
        elif char in "]}":
            depth -= 1
    return text


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


@dataclass
class Client:
    """A caller with one API key (or none), speaking for one scope."""

    transport: Transport
    key: str | None
    scope: Scope = field(default_factory=lambda: Scope("harness"))

    def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        return self.transport.send(method, path, key=self.key, scope=self.scope, **kwargs)

    def schema_checked(self) -> Client:
        """The same caller, for requests whose responses schemathesis validates itself."""
        return replace(self, scope=replace(self.scope, schema_checked=True))

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, json_body=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("PATCH", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)

    def send_all(self, requests: Sequence[dict[str, Any]], concurrency: int) -> Iterator[Reply]:
        """Independent requests (`request()` arguments) of this caller: see `send_all`."""
        return send_all([(self, request) for request in requests], concurrency)


def send_all(calls: Sequence[tuple[Client, dict[str, Any]]], concurrency: int) -> Iterator[Reply]:
    """Independent requests, each `(client, request() arguments)`, at most `concurrency` in flight
    at once; the replies come back in call order, so judging them is the same at every concurrency."""
    with InFlight(concurrency) as in_flight:
        for client, request in calls:
            in_flight.send(client, request)
        yield from in_flight.replies()


class InFlight:
    """Independent requests sent as they are made, while the caller goes on (generating the
    next, say), at most `concurrency` at once; `replies()` in the order made. With 1 nothing is
    sent before `replies()` asks, one after another, as a plain loop would. Leaving the block
    sends nothing more."""

    def __init__(self, concurrency: int) -> None:
        self._pool = (ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="valora-send")
                      if concurrency > 1 else None)
        self._made: list[Future[Reply] | tuple[Client, dict[str, Any]]] = []

    def send(self, client: Client, request: dict[str, Any]) -> None:
        if self._pool is None:
            self._made.append((client, request))
        else:
            self._made.append(self._pool.submit(lambda: client.request(**request)))

    def replies(self) -> Iterator[Reply]:
        for made in self._made:
            if isinstance(made, Future):
                yield made.result()
            else:
                client, request = made
                yield client.request(**request)

    def __enter__(self) -> InFlight:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:  # stopped early (a failure, the deadline, Ctrl-C): cancel the rest
            self._pool.shutdown(wait=True, cancel_futures=True)


class _Stopped(BaseException):
    """Ends a judging thread that ran out of time (not an Exception: nothing catches it)."""


def _stop_when(cancelled: threading.Event) -> Callable[..., None]:
    """A trace function that ends its thread at its next Python call once `cancelled` is set.

    The thread stops itself, at a call boundary, unwinding its `with` blocks as any exception
    does; nothing outside it is interrupted. Tracing only calls (no per-line tracing) keeps the
    cost low, and it is paid only for the rare body too large to judge inline.
    """

    def trace(frame: Any, event: str, arg: Any) -> None:
        if cancelled.is_set():
            raise _Stopped
        return None  # no per-line tracing of the frame

    return trace
