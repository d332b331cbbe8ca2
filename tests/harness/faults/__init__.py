"""Deliberately faulty Valora servers: the reference implementation behind one small ASGI middleware.

Each middleware breaks one rule of the contract the way a real implementation might (a lookup
that forgets the organization, a rounding mode, a lenient validator, ...); everything else is
the reference's correct behaviour. `CATALOGUE` (faults/catalogue.py) says, per fault, which
requirement the harness must fail (`requirement`), which others the fault honestly breaks too
(`also`), and the `-k` selection of the conformance checks that concern it. Where the harness is
known to get a fault wrong, the entry says how (`noise`: blames requirements the fault does not
break; `errors`: reports `error`; `miss`: does not fail `requirement`; `no_repro`: fails it
without a reproduction) and why (`issues`, keys of HARNESS_ISSUES); the tests xfail on exactly
that and fail once the harness is fixed, so the entry is kept true.
tests/harness/test_faulty_servers.py and tests/harness/detection_rate.py are driven by this table.

The middlewares live in one module per area (auth, http_errors, validation, representation,
natural_keys, discovery, pagination, idempotency, usage, billing, lifecycle) on top of _base; this
package exports every name the single faults.py module had, so `from faults import ...` is
unchanged.
"""

from __future__ import annotations

from ._base import (
    ADMIN_KEY,
    LISTING,
    ORG_OF,
    PROBLEM,
    RESOURCE,
    ROLE_OF,
    UTC_TIME,
    WRITES,
    App,
    Message,
    Middleware,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    iso,
    now_iso,
    parse_time,
    problem,
    resources,
)
from .auth import AnySchemeAccepted, AuthBypass, CrossTenantRead, NoWwwAuthenticate, ReadOnlyCanWrite
from .billing import (
    AmountsThroughFloat,
    DiscountRoundedHalfUp,
    FinalizedInvoiceRecomputed,
    FinalizedInvoiceUpdateFaked,
    FloatArithmetic,
    ForbiddenInvoiceTransitionAccepted,
    GraduatedWithoutFlatAmounts,
    InvoiceArithmetic,
    InvoiceWithoutCoupon,
    RoundsHalfUp,
    SubtotalNotSumOfLines,
    TrialEndExclusive,
    UnreachedTierFlatFee,
    VolumeUpToExclusive,
    exact_amount,
)
from .catalogue import BY_NAME, CATALOGUE, HARNESS_ISSUES, Fault, serve
from .discovery import HidesUsageDelay, RangeExcludesDeclaredVersion
from .http_errors import CharsetRefused, ErrorsAsPlainText, ProblemStatusAlways400, ServerErrorOnNonAscii
from .idempotency import ConcurrentKeyActsTwice, IdempotencyKeyIgnored, ReusedKeyActsAgain
from .lifecycle import (
    CustomerInUseDeleted,
    CustomerUpdateNotStored,
    ForbiddenSubscriptionTransitionAccepted,
    VoidInvoiceDeletable,
)
from .natural_keys import DuplicateNaturalKeysAccepted, NaturalKeysUniqueAcrossOrganizations
from .pagination import (
    ActiveFilterIncludesTrialing,
    CouponListOldestFirst,
    CursorUnreadableOnSomeLists,
    HasMoreOnLastPage,
    InvoiceStatusFilterIgnored,
    PageDropsItem,
    PageRepeatsItem,
    TamperedCursorAccepted,
)
from .representation import CustomerWithoutMetadata, IdChangesAfterUpdate, LocalTimes
from .usage import (
    BackdatingEdgeOffByOneSecond,
    BackdatingNotEnforced,
    DuplicateEventsCounted,
    EventTimesRoundedToSecond,
    ExclusiveWindowStart,
    InclusiveWindowEnd,
    LatestTieFirstIngested,
    MaxComputedAsMin,
    UsageWindowOffsetDropped,
)
from .validation import (
    SPECIAL_NAMES,
    AggregationCaseInsensitive,
    HeaderFirstNameOffByOne,
    InvalidCustomerAccepted,
    LowercaseCurrencyAccepted,
    NameLimitOffByOne,
    SpecialAggregationServerError,
    SpecialModelAccepted,
)

__all__ = [
    "ADMIN_KEY",
    "ActiveFilterIncludesTrialing",
    "AggregationCaseInsensitive",
    "AmountsThroughFloat",
    "AnySchemeAccepted",
    "App",
    "AuthBypass",
    "BY_NAME",
    "BackdatingEdgeOffByOneSecond",
    "BackdatingNotEnforced",
    "CATALOGUE",
    "CharsetRefused",
    "ConcurrentKeyActsTwice",
    "CouponListOldestFirst",
    "CrossTenantRead",
    "CursorUnreadableOnSomeLists",
    "CustomerInUseDeleted",
    "CustomerUpdateNotStored",
    "CustomerWithoutMetadata",
    "DiscountRoundedHalfUp",
    "DuplicateEventsCounted",
    "DuplicateNaturalKeysAccepted",
    "ErrorsAsPlainText",
    "EventTimesRoundedToSecond",
    "ExclusiveWindowStart",
    "Fault",
    "FinalizedInvoiceRecomputed",
    "FinalizedInvoiceUpdateFaked",
    "FloatArithmetic",
    "ForbiddenInvoiceTransitionAccepted",
    "ForbiddenSubscriptionTransitionAccepted",
    "GraduatedWithoutFlatAmounts",
    "HARNESS_ISSUES",
    "HasMoreOnLastPage",
    "HeaderFirstNameOffByOne",
    "HidesUsageDelay",
    "IdChangesAfterUpdate",
    "IdempotencyKeyIgnored",
    "InclusiveWindowEnd",
    "InvalidCustomerAccepted",
    "InvoiceArithmetic",
    "InvoiceStatusFilterIgnored",
    "InvoiceWithoutCoupon",
    "LISTING",
    "LatestTieFirstIngested",
    "LocalTimes",
    "LowercaseCurrencyAccepted",
    "MaxComputedAsMin",
    "Message",
    "Middleware",
    "NameLimitOffByOne",
    "NaturalKeysUniqueAcrossOrganizations",
    "NoWwwAuthenticate",
    "ORG_OF",
    "PROBLEM",
    "PageDropsItem",
    "PageRepeatsItem",
    "ProblemStatusAlways400",
    "RESOURCE",
    "ROLE_OF",
    "RangeExcludesDeclaredVersion",
    "ReadOnlyCanWrite",
    "Receive",
    "Request",
    "Response",
    "ReusedKeyActsAgain",
    "RoundsHalfUp",
    "SPECIAL_NAMES",
    "Scope",
    "Send",
    "ServerErrorOnNonAscii",
    "SpecialAggregationServerError",
    "SpecialModelAccepted",
    "SubtotalNotSumOfLines",
    "TamperedCursorAccepted",
    "TrialEndExclusive",
    "UTC_TIME",
    "UnreachedTierFlatFee",
    "UsageWindowOffsetDropped",
    "VoidInvoiceDeletable",
    "VolumeUpToExclusive",
    "WRITES",
    "exact_amount",
    "iso",
    "now_iso",
    "parse_time",
    "problem",
    "resources",
    "serve",
]
