"""The spec documents this server implements, and what each version adds."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

# shared spec and version helpers only: the reference never imports the harness
from valora_spec import _spec, _versions

# Every released version, patches included: a PATCH only sharpens the text of its minor line,
# so every patch of x.y behaves alike (the clarified behaviour).
SUPPORTED_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.1.0", "1.1.1", "1.1.2", "1.1.3",
                      "1.1.4", "1.2.0", "1.2.1", "1.2.2", "1.2.3", "1.2.4")
NEWEST_VERSION = SUPPORTED_VERSIONS[-1]
COMPATIBLE_MIN = "1.0.0"


@functools.cache
def load_spec(version: str) -> dict[str, Any]:
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported spec version {version!r}; choose one of {SUPPORTED_VERSIONS}")
    return _spec.load_spec(version)


@dataclass(frozen=True)
class Features:
    """Behaviour a minor version added; everything the schemas alone do not gate."""

    version: str

    @property
    def minor(self) -> int:
        return _versions.minor_line(self.version)[1]

    @property
    def package_prices(self) -> bool:  # 1.1: `package` model, package_size/package_amount
        return self.minor >= 1

    @property
    def trials_and_coupons(self) -> bool:  # 1.2: trial_end, coupon_id, discount
        return self.minor >= 2
