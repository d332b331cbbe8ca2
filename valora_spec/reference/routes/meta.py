"""GET /v1/meta: what this implementation declares (VAL-META-001)."""

from __future__ import annotations

from importlib import metadata

from valora_spec.reference._context import Ctx, Reply
from valora_spec.reference._spec import COMPATIBLE_MIN

IMPLEMENTATION_NAME = "Valora Reference"


def _implementation_version() -> str:
    try:
        return metadata.version("valora-spec")
    except metadata.PackageNotFoundError:
        return "0.0.0"


_VERSION = _implementation_version()


def get_meta(ctx: Ctx) -> Reply:
    declared = ctx.info.declared_version
    delay = ctx.info.usage_delay_seconds
    return Reply(200, {
        "spec_version": declared,
        "compatible_range": {"min": COMPATIBLE_MIN, "max": declared},
        "implementation": {"name": IMPLEMENTATION_NAME, "version": _VERSION},
        "usage_visibility_seconds": int(delay) if float(delay).is_integer() else delay,
    })
