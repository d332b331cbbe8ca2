"""`valora-reference`: run the reference server; prints its base URL when ready."""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys

from valora_spec import _versions
from valora_spec.reference._auth import ROLES
from valora_spec.reference._server import ForegroundServer, base_url, bind
from valora_spec.reference._spec import NEWEST_VERSION, SUPPORTED_VERSIONS
from valora_spec.reference.app import create_app


def _api_key(text: str) -> tuple[str, str, str]:
    org, _, rest = text.partition(":")
    role, _, key = rest.partition(":")
    if not org or role not in ROLES or not key:
        raise argparse.ArgumentTypeError(
            f"expected ORG:ROLE:KEY with ROLE one of {', '.join(ROLES)}, got {text!r}"
        )
    return org, role, key


def _rate(text: str) -> float:
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)/s", text)
    if match is None or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected N/s with N > 0, e.g. 10/s, got {text!r}")
    return float(match.group(1))


def _semver(text: str) -> str:
    if not _versions.is_version(text):
        raise argparse.ArgumentTypeError(f"expected a version X.Y.Z, got {text!r}")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("expected seconds between 0 and 3600")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port 0-65535, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="valora-reference",
        description="Run the Valora reference server (not Valora OSS). Prints its base URL "
        "on stdout when ready; generated API keys go to stderr.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--db", metavar="PATH", help="SQLite file (default: a temporary file)")
    parser.add_argument(
        "--api-key", metavar="ORG:ROLE:KEY", type=_api_key, action="append", dest="api_keys",
        help="an API key, role admin or read_only; repeatable. Without any, org_a and org_b "
        "get random admin keys and org_a a read-only key, printed to stderr.",
    )
    parser.add_argument(
        "--spec-version", choices=SUPPORTED_VERSIONS, default=NEWEST_VERSION,
        help=f"the spec version to behave as (default {NEWEST_VERSION})",
    )
    parser.add_argument(
        "--declare-version", metavar="X.Y.Z", type=_semver,
        help="testing aid: declare this version in GET /v1/meta instead of the one behaved",
    )
    parser.add_argument("--rate-limit", metavar="N/s", type=_rate,
                        help="token bucket per API key; beyond it 429 with Retry-After")
    parser.add_argument("--usage-delay", metavar="SECONDS", type=_seconds, default=0.0,
                        help="usage visibility delay, declared in GET /v1/meta (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        app = create_app(
            keys=args.api_keys,
            db_path=args.db,
            spec_version=args.spec_version,
            declare_version=args.declare_version,
            rate_limit=args.rate_limit,
            usage_delay=args.usage_delay,
        )
        sock = bind(args.host, args.port)
    except (OSError, ValueError, sqlite3.Error) as error:
        print(f"valora-reference: error: {error}", file=sys.stderr)
        return 2
    if args.api_keys is None:
        for org, role, key in app.api_keys:
            print(f"api-key {org}:{role}:{key}", file=sys.stderr)
        sys.stderr.flush()

    def announce() -> None:
        print(base_url(sock), flush=True)

    try:
        ForegroundServer(app, on_ready=announce).run(sockets=[sock])
    finally:
        sock.close()
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
