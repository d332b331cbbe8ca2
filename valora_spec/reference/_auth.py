"""API keys: each belongs to one organization and has a role (VAL-AUTH-001, VAL-AUTH-002)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from valora_spec.reference._problems import ApiError

ROLES = ("admin", "read_only")


@dataclass(frozen=True)
class ApiKey:
    org: str
    role: str
    key: str

    @property
    def can_write(self) -> bool:
        return self.role == "admin"


def default_keys() -> list[tuple[str, str, str]]:
    """Two organizations with admin keys and one read-only key for the first; random."""
    return [
        ("org_a", "admin", "vk_a_admin_" + secrets.token_urlsafe(18)),
        ("org_b", "admin", "vk_b_admin_" + secrets.token_urlsafe(18)),
        ("org_a", "read_only", "vk_a_read_" + secrets.token_urlsafe(18)),
    ]


class KeyRing:
    def __init__(self, keys: list[tuple[str, str, str]]) -> None:
        self._by_secret: dict[str, ApiKey] = {}
        for org, role, key in keys:
            if role not in ROLES:
                raise ValueError(f"role must be one of {ROLES}, not {role!r}")
            if not org or not key:
                raise ValueError("organization and key must not be empty")
            known = self._by_secret.get(key)
            if known is not None and (known.org, known.role) != (org, role):
                raise ValueError("the same key cannot belong to two organizations or roles")
            self._by_secret[key] = ApiKey(org, role, key)

    def authenticate(self, authorization: str | None) -> ApiKey:
        """The key named by an `Authorization: Bearer <key>` header, else 401."""
        if authorization:
            scheme, _, secret = authorization.partition(" ")
            found = self._by_secret.get(secret.strip()) if scheme.lower() == "bearer" else None
            if found is not None:
                return found
        detail = "A valid API key is required: Authorization: Bearer <key>."
        raise ApiError(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})
