"""Path routing for the operations of one spec version, under the base path /v1 (VAL-COMPAT-002)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from valora_spec.reference._operations import Operation

BASE_PATH = "/v1"


@dataclass
class Route:
    pattern: re.Pattern[str]
    operations: dict[str, Operation]  # METHOD -> operation

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.operations))


class Router:
    def __init__(self, operations: dict[tuple[str, str], Operation]) -> None:
        by_path: dict[str, dict[str, Operation]] = {}
        for (method, path), operation in operations.items():
            by_path.setdefault(path, {})[method] = operation
        self.routes = [Route(_compile(path), methods) for path, methods in by_path.items()]

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        if not path.startswith(BASE_PATH + "/"):
            return None
        rest = path[len(BASE_PATH) :]
        for route in self.routes:
            found = route.pattern.fullmatch(rest)
            if found:
                return route, found.groupdict()
        return None


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = ""
    for index, part in enumerate(parts):
        regex += f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
    return re.compile(regex)
