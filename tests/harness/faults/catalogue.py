"""The catalogue of faults: per fault, its middleware and what the harness must fail for it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from harness_suite import KEY_TRIPLES
from versions import TARGET

from valora_spec import reference

from ._base import Middleware
from .auth import (
    AnySchemeAccepted,
    AuthBypass,
    CrossTenantRead,
    ForeignCouponAccepted,
    NoWwwAuthenticate,
    ReadOnlyCanWrite,
)
from .billing import (
    AmountsThroughFloat,
    DiscountPerLine,
    DiscountRoundedHalfUp,
    DiscountWithoutCoupon,
    EmptyInvoicePeriodAccepted,
    FinalizedAtMovedByLaterTransitions,
    FinalizedInvoiceRecomputed,
    FinalizedInvoiceUpdateFaked,
    FloatArithmetic,
    ForbiddenInvoiceTransitionAccepted,
    GraduatedRoundedPerTier,
    GraduatedWithoutFlatAmounts,
    InvoiceUsageEndInclusive,
    InvoiceWithoutCoupon,
    NegativeDiscount,
    NegativeUsageBilledZero,
    RoundsHalfUp,
    SubtotalNotSumOfLines,
    TrialEndExclusive,
    TrialFreesEveryLine,
    UnreachedTierFlatFee,
    VolumeUpToExclusive,
)
from .discovery import HidesUsageDelay, RangeExcludesDeclaredVersion
from .http_errors import (
    CharsetRefused,
    ErrorsAsPlainText,
    ProblemStatusAlways400,
    QueryErrorsAre422,
    QueryErrorsWithoutInvalidParams,
    ReceiptsAsText,
    ServerErrorOnNonAscii,
)
from .idempotency import (
    ConcurrentKeyActsTwice,
    IdempotencyBodyComparedAsBytes,
    IdempotencyKeyIgnored,
    KeysForgottenTooSoon,
    ReusedKeyActsAgain,
)
from .lifecycle import (
    CancelAtPeriodEndOnCanceled,
    CanceledPeriodHoldsCanceledAt,
    CustomerInUseDeleted,
    CustomerUpdateNotStored,
    CustomerWithCanceledSubscriptionDeleted,
    ForbiddenSubscriptionTransitionAccepted,
    LateStartRefused,
    MonthsAddedToTheLastEdge,
    RevokeOnlyWhenActive,
    ScheduledCancellationIgnored,
    TrialingBeforePending,
    TrialMayEndAtStart,
    VoidInvoiceDeletable,
)
from .natural_keys import DuplicateNaturalKeysAccepted, NaturalKeysUniqueAcrossOrganizations
from .pagination import (
    ActiveFilterIncludesTrialing,
    ActiveTrueFilterIgnored,
    CouponListOldestFirst,
    CursorUnreadableOnSomeLists,
    FiltersDroppedAfterCursor,
    HasMoreOnLastPage,
    HasMoreWhenPageFull,
    InvoiceStatusFilterIgnored,
    OtherListsCursorAccepted,
    PageDropsItem,
    PageRepeatsItem,
    TamperedCursorAccepted,
)
from .representation import CustomerWithoutMetadata, IdChangesAfterUpdate, LocalTimes
from .usage import (
    BackdatingEdgeOffByOneSecond,
    BackdatingNotEnforced,
    BatchDuplicateLastWins,
    BatchFutureEventsAccepted,
    BatchOver100Accepted,
    BatchPartlyIngestedOutsideWindow,
    BatchWindowErrorNamesTime,
    CustomerMatchedCaseInsensitively,
    DuplicateEventsCounted,
    EventIdsUniquePerCustomer,
    EventTimesRoundedToSecond,
    ExclusiveWindowStart,
    InclusiveWindowEnd,
    LatestTieFirstIngested,
    MagnitudeLimitExclusive,
    MaxComputedAsMin,
    MaxStartsAtZero,
    RowsEndInclusive,
    UniqueCountByLanguageEquality,
    UsageReadsAtMost1000Events,
    UsageWindowOffsetDropped,
    WindowLimitByDuration,
)
from .validation import (
    AggregationCaseInsensitive,
    HeaderFirstNameOffByOne,
    InvalidCustomerAccepted,
    LoneSurrogateServerError,
    LowercaseCurrencyAccepted,
    NameLimitOffByOne,
    PathIdLengthNotValidated,
    PercentOffReadAsNumber,
    QueryTextCoerced,
    SpecialAggregationServerError,
    SpecialModelAccepted,
)

# Requirements the current harness fails although the fault does not break them. Each entry is a
# harness bug (see the report); a fault lists the ones it provokes in `noise`.
HARNESS_ISSUES: dict[str, str] = {
    # none open at the moment; the ones this catalogue found, all fixed in the harness since:
    # problem+json headers never validated (HTTP-005), window-boundary and dedup faults blamed on
    # the aggregations, over-claim range `none` (failures on 1.2.0-only operations charged to
    # every version), failures without reproduction, IDEM-004 passing a server that acts twice,
    # IDEM-003 coupled to NK-002, AUTH-002 failed by state another check destroyed, ERR-003
    # reported `error` when unjudged, usage judged before the declared visibility delay.
}


@dataclass(frozen=True)
class Fault:
    name: str
    middleware: type[Middleware] | None
    selection: str | None  # a `-k` expression of the conformance checks that concern the fault
    requirement: str  # what the harness must fail for this fault
    description: str
    also: tuple[str, ...] = ()  # other requirements the fault honestly breaks
    # Known harness issues (keys of HARNESS_ISSUES), and what they do to this fault's verdict:
    noise: tuple[str, ...] = ()  # failed by the current harness though the fault does not break them
    errors: tuple[str, ...] = ()  # reported `error` (the harness broke) by the current harness
    miss: bool = False  # the current harness does not fail `requirement` for this fault
    no_repro: bool = False  # ... fails it, but with no reproduction in any failure entry
    issues: tuple[str, ...] = ()
    app_options: dict[str, Any] = field(default_factory=dict)
    harness_args: tuple[str, ...] = ()  # options the run needs to show the fault

    @property
    def expected(self) -> set[str]:
        return {self.requirement, *self.also}

    def build(self) -> tuple[Any, Any]:
        """(the ASGI app to serve, the reference app inside it, to close after use)."""
        options = {"spec_version": TARGET} | self.app_options
        inner = reference.create_app(keys=KEY_TRIPLES, **options)
        return (self.middleware(inner) if self.middleware else inner), inner


def _f(name: str, middleware: type[Middleware] | None, selection: str | None, requirement: str,
       also: tuple[str, ...] = (), noise: tuple[str, ...] = (), errors: tuple[str, ...] = (),
       miss: bool = False, no_repro: bool = False, issues: tuple[str, ...] = (),
       **app_options: Any) -> Fault:
    doc = (middleware.__doc__ if middleware else "") or ""
    description = app_options.pop("description", None) or doc.strip().splitlines()[0]
    assert all(i in HARNESS_ISSUES for i in issues) and (bool(issues) or not (
        noise or errors or miss or no_repro)), name
    ids = lambda requirements: tuple(f"VAL-{r}" for r in requirements)  # noqa: E731
    harness_args = app_options.pop("harness_args", ())
    return Fault(name, middleware, selection, f"VAL-{requirement}", description, ids(also),
                 ids(noise), ids(errors), miss, no_repro, issues, app_options, harness_args)


# What the requirement texts say a problem body holds (a `code`, `invalid_params`): a text/plain
# error breaks these too.
_NAMED_CODES = ("ERR-003", "ERR-004", "AUTH-001", "AUTH-002", "NK-001", "CUST-001", "INV-006",
                "INV-007", "SUB-005", "PAGE-004", "EVENT-003", "EVENT-004", "IDEM-002",
                "COUPON-001")
# What a server whose usage lags behind its declaration gets wrong in every usage-based check.
_LATE_USAGE = ("TIME-002", "METER-001", "METER-003", "METER-004", "METER-005", "METER-006", "METER-007",
               "METER-009", "EVENT-002", "INV-003", "MONEY-004", "PRICE-001", "PRICE-002",
               "PRICE-005")

CATALOGUE: list[Fault] = [
    # AUTH
    _f("foreign_coupon_accepted", ForeignCouponAccepted,
       "test_other_organizations_ids_in_a_body_are_unknown", "AUTH-003"),
    _f("cross_tenant_read", CrossTenantRead,
       "test_other_organizations_resources_are_not_found", "AUTH-003"),
    _f("read_only_can_write", ReadOnlyCanWrite, "test_read_only_key_cannot_write", "AUTH-002"),
    _f("auth_bypass", AuthBypass, "test_every_operation_requires_a_valid_key", "AUTH-001"),
    _f("no_www_authenticate", NoWwwAuthenticate, "test_every_operation_requires_a_valid_key",
       "AUTH-001", also=("HTTP-005",)),  # the spec marks the header required on 401
    _f("required_header_missing", NoWwwAuthenticate, "test_every_operation_requires_a_valid_key",
       "HTTP-005", also=("AUTH-001",),
       description="the same fault judged as VAL-HTTP-005: a header the spec marks required "
                   "(WWW-Authenticate on 401) is missing"),
    # ERR
    _f("errors_as_plain_text", ErrorsAsPlainText, "test_natural_keys_are_unique_per_organization",
       "ERR-001", also=_NAMED_CODES),
    _f("problem_status_mismatch", ProblemStatusAlways400,
       "test_natural_keys_are_unique_per_organization", "ERR-002"),
    _f("invalid_input_accepted", InvalidCustomerAccepted,
       "test_invalid_input_is_rejected_and_creates_nothing", "ERR-004"),
    _f("name_limit_off_by_one", NameLimitOffByOne,
       "test_fuzz_operation and (createCustomer or updateCustomer) and invalid", "ERR-004"),
    _f("cursor_unreadable_on_some_lists", CursorUnreadableOnSomeLists,
       "test_every_lists_cursor_can_be_followed", "PAGE-001"),
    _f("any_auth_scheme_accepted", AnySchemeAccepted, "test_a_valid_key_outside_the_bearer_scheme",
       "AUTH-001"),
    _f("json_charset_refused", CharsetRefused, "test_json_with_a_charset_parameter", "HTTP-004"),
    _f("name_limit_behind_header_check", HeaderFirstNameOffByOne,
       "test_fuzz_operation and createCustomer and invalid", "ERR-004"),
    _f("server_error_on_non_ascii", ServerErrorOnNonAscii,
       "test_fuzz_operation and (createCustomer or createProduct)", "ERR-006",
       also=("HTTP-004",)),  # a valid request answered 500 was not accepted either
    # HTTP
    _f("query_errors_are_422", QueryErrorsAre422, "test_bad_cursor_and_limit_are_rejected",
       "HTTP-001", also=("PAGE-004",)),
    _f("receipts_as_text", ReceiptsAsText, "test_ingestion_and_deduplication", "HTTP-002"),
    _f("required_field_missing", CustomerWithoutMetadata,
       "test_created_resources_read_back_and_update", "HTTP-003",
       also=("COMPAT-001",)),  # "a server MUST still send every field its version requires"
    # META
    _f("range_excludes_declared_version", RangeExcludesDeclaredVersion,
       "test_meta_declares_version_and_range", "META-001"),
    _f("usage_delay_not_declared", HidesUsageDelay, "test_usage_visible_within_declared_delay",
       "META-002", also=_LATE_USAGE, usage_delay=2),
    _f("over_claim", None, None, "META-001",
       # judged as the 1.2.0 it claims: what 1.2.0 adds, and every check of the coupon operations
       also=("METER-009", "SUB-006", "COUPON-001", "COUPON-002", "COUPON-003", "AUTH-001",
             "AUTH-002", "AUTH-003", "AUTH-004", "HTTP-001", "HTTP-004", "HTTP-006"),
       description="declares 1.2.0 in discovery but behaves as 1.1.0 (no coupons, trials, group_by);"
                   " must be reported as an over-claim with the measured range 1.0.0 – 1.1.x",
       # fixed history, like `also`: 1.2.0 is the release that added coupons, trials and group_by
       spec_version="1.1.0", declare_version="1.2.0"),
    # ID, NK
    _f("id_changes_after_update", IdChangesAfterUpdate,
       "test_created_resources_read_back_and_update", "ID-001"),
    _f("duplicate_natural_key_accepted", DuplicateNaturalKeysAccepted,
       "test_natural_keys_are_unique_per_organization", "NK-001",
       also=("ERR-005", "ERR-003")),  # no 409, hence no `already_exists` code
    _f("natural_keys_global", NaturalKeysUniqueAcrossOrganizations,
       "test_natural_keys_may_repeat_across_organizations", "NK-002"),
    # TIME
    _f("window_start_exclusive", ExclusiveWindowStart,
       "test_windows_are_half_open or (test_aggregations_match_the_oracle and SUM)", "TIME-002",
       also=("METER-001", "METER-005")),  # misses an event of [from, to), also in its first row
    _f("window_end_inclusive", InclusiveWindowEnd,
       "test_windows_are_half_open or (test_aggregations_match_the_oracle and SUM)", "TIME-002",
       also=("METER-001", "METER-005")),  # counts an event outside [from, to), also in its last row
    _f("empty_invoice_period_accepted", EmptyInvoicePeriodAccepted,
       "test_empty_or_reversed_windows_are_rejected", "TIME-002"),
    _f("rows_end_inclusive", RowsEndInclusive, "test_windows_are_half_open", "TIME-002"),
    _f("times_not_utc", LocalTimes, "test_created_resources_read_back_and_update", "TIME-001"),
    _f("usage_window_offset_dropped", UsageWindowOffsetDropped,
       "test_times_with_an_offset_are_instants", "TIME-001"),
    # MONEY
    _f("rounding_half_up", RoundsHalfUp, "test_invoice_lines_and_totals", "MONEY-004"),
    _f("negative_usage_billed_zero", NegativeUsageBilledZero, "test_total_is_never_negative",
       "PRICE-001"),
    _f("lowercase_currency_accepted", LowercaseCurrencyAccepted,
       "test_invalid_input_is_rejected_and_creates_nothing", "MONEY-003"),
    # PAGE, LIST
    _f("page_drops_item", PageDropsItem, "test_every_item_exactly_once_in_order", "PAGE-001",
       also=("LIST-001",)),  # filtered lists lose items too
    _f("page_repeats_item", PageRepeatsItem, "test_every_item_exactly_once_in_order", "PAGE-001",
       also=("LIST-001",)),
    _f("tampered_cursor_accepted", TamperedCursorAccepted,
       "test_bad_cursor_and_limit_are_rejected", "PAGE-004", also=("ERR-003",)),
    _f("other_lists_cursor_accepted", OtherListsCursorAccepted,
       "test_foreign_cursors_are_rejected", "PAGE-004"),
    _f("list_filter_ignored", InvoiceStatusFilterIgnored, "test_list_filters", "LIST-001"),
    _f("active_filter_includes_trialing", ActiveFilterIncludesTrialing, "test_list_filters",
       "LIST-001", also=("PAGE-002",)),  # filtered after paging: the last match's page says has_more
    _f("coupon_list_oldest_first", CouponListOldestFirst, "test_every_list_is_ordered",
       "PAGE-003"),
    # IDEM
    _f("idempotency_key_ignored", IdempotencyKeyIgnored,
       "test_same_key_same_body_replays or test_same_key_different_body_is_422", "IDEM-001",
       also=("IDEM-002", "IDEM-004", "ERR-003",
             "ERR-004")),  # nor is a malformed Idempotency-Key header rejected any more
    _f("reused_key_acts_again", ReusedKeyActsAgain, "test_same_key_different_body_is_422",
       "IDEM-002", also=("ERR-003",)),
    _f("concurrent_key_acts_twice", ConcurrentKeyActsTwice,
       "test_concurrent_requests_with_one_key_act_once", "IDEM-004"),
    _f("idempotency_body_compared_as_bytes", IdempotencyBodyComparedAsBytes,
       "test_same_key_same_body_replays", "IDEM-001"),
    _f("keys_forgotten_too_soon", KeysForgottenTooSoon, "test_the_runs_first_key_still_replays_at_its_end",
       "IDEM-001", harness_args=("--replay-after", "2")),
    # METER, EVENT
    _f("max_computed_as_min", MaxComputedAsMin, "test_aggregations_match_the_oracle and MAX",
       "METER-004"),
    _f("max_starts_at_zero", MaxStartsAtZero, "test_values_all_below_zero", "METER-004"),
    _f("magnitude_limit_exclusive", MagnitudeLimitExclusive, "test_usage_values_below_10_to_the_26",
       "METER-003"),
    _f("usage_reads_at_most_1000_events", UsageReadsAtMost1000Events, "test_usage_over_many_events",
       "METER-003"),
    _f("duplicate_events_counted", DuplicateEventsCounted, "test_ingestion_and_deduplication",
       "EVENT-002"),
    _f("batch_future_events_accepted", BatchFutureEventsAccepted, "test_backdating_window",
       "EVENT-003"),
    _f("backdating_not_enforced", BackdatingNotEnforced, "test_backdating_window", "EVENT-003",
       also=("ERR-003",)),  # no 400 `event_outside_window`
    # PRICE
    _f("graduated_without_flat_amounts", GraduatedWithoutFlatAmounts,
       "test_invoice_lines_and_totals", "PRICE-002"),
    # CUST, CRUD
    _f("customer_in_use_deleted", CustomerInUseDeleted, "test_customer_deletion", "CUST-001",
       also=("ERR-005",)),  # the conflict is not answered 409
    _f("customer_update_not_stored", CustomerUpdateNotStored,
       "test_created_resources_read_back_and_update", "CRUD-001"),
    # SUB
    _f("forbidden_subscription_transition", ForbiddenSubscriptionTransitionAccepted,
       "test_subscription_states", "SUB-005", also=("ERR-003",)),
    # INV
    _f("subtotal_not_sum_of_lines", SubtotalNotSumOfLines, "test_invoice_lines_and_totals",
       "INV-004", also=("COUPON-003",)),  # the discount no longer matches the stated subtotal
    _f("finalized_invoice_recomputed", FinalizedInvoiceRecomputed,
       "test_finalized_invoices_never_change", "INV-005"),
    _f("finalized_invoice_update_faked", FinalizedInvoiceUpdateFaked,
       "test_finalized_invoices_never_change", "INV-006"),
    _f("forbidden_invoice_transition", ForbiddenInvoiceTransitionAccepted,
       "test_invoice_state_machine", "INV-007", also=("ERR-003",)),
    _f("void_invoice_deletable", VoidInvoiceDeletable, "test_invoice_state_machine", "INV-008"),
    # COUPON
    _f("invoice_without_coupon", InvoiceWithoutCoupon, "test_coupons", "COUPON-002"),
]

# Boundaries and ties (conformance/test_edges.py): each fault moves one edge or breaks one tie.
CATALOGUE += [
    _f("float_arithmetic", FloatArithmetic, "test_exact_decimal_amounts", "MONEY-002"),
    _f("amounts_through_float", AmountsThroughFloat,
       "test_exact_decimal_amounts or test_amount_range", "MONEY-002",
       also=("MONEY-001",)),  # 2**63 − 1 is served as 2**63
    _f("rounding_half_up_at_ties", RoundsHalfUp, "test_exact_decimal_amounts", "MONEY-004"),
    _f("unreached_tier_flat_fee", UnreachedTierFlatFee, "test_tier_edges", "PRICE-002"),
    _f("volume_up_to_exclusive", VolumeUpToExclusive, "test_tier_edges", "PRICE-002"),
    _f("discount_rounded_half_up", DiscountRoundedHalfUp, "test_discount_ties", "COUPON-003"),
    _f("discount_per_line", DiscountPerLine, "test_discount_ties", "COUPON-003"),
    _f("discount_without_coupon", DiscountWithoutCoupon, "test_invoice_lines_and_totals", "INV-004"),
    _f("graduated_rounded_per_tier", GraduatedRoundedPerTier, "test_tier_edges", "MONEY-004"),
    _f("finalized_at_moved_by_later_transitions", FinalizedAtMovedByLaterTransitions,
       "test_invoice_state_machine", "INV-007"),
    _f("trial_end_exclusive", TrialEndExclusive, "test_trial_edges", "SUB-006"),
    _f("trial_frees_every_line", TrialFreesEveryLine, "test_trial_edges", "SUB-006"),
    _f("trialing_before_pending", TrialingBeforePending, "test_trial_edges", "SUB-002",
       also=("LIST-001",)),
    _f("trial_may_end_at_start", TrialMayEndAtStart, "test_trial_end_after_start", "SUB-006"),
    _f("revoke_only_when_active", RevokeOnlyWhenActive, "test_current_period", "SUB-004"),
    _f("canceled_period_holds_canceled_at", CanceledPeriodHoldsCanceledAt, "test_current_period",
       "SUB-002"),
    _f("months_added_to_the_last_edge", MonthsAddedToTheLastEdge, "test_current_period", "SUB-002"),
    _f("late_start_refused", LateStartRefused, "test_subscription_states", "HTTP-004"),
    _f("scheduled_cancellation_ignored", ScheduledCancellationIgnored, "test_current_period", "SUB-002"),
    _f("invoice_usage_end_inclusive", InvoiceUsageEndInclusive,
       "test_window_edges_to_the_millisecond", "INV-003",
       also=("TIME-002",)),  # the invoice's window is not half-open: both rules, one bug
    _f("window_end_inclusive_at_the_edge", InclusiveWindowEnd, "test_window_edges_to_the_millisecond",
       "TIME-002"),
    _f("event_times_rounded_to_second", EventTimesRoundedToSecond,
       "test_window_edges_to_the_millisecond", "TIME-002"),
    _f("latest_tie_first_ingested", LatestTieFirstIngested, "test_latest_ties", "METER-004"),
    _f("unique_count_by_language_equality", UniqueCountByLanguageEquality,
       "test_unique_count_by_string_form", "METER-004"),
    _f("batch_duplicate_last_wins", BatchDuplicateLastWins, "test_ingestion_and_deduplication",
       "EVENT-002"),
    _f("customer_with_canceled_subscription_deleted", CustomerWithCanceledSubscriptionDeleted,
       "test_customer_deletion", "CUST-001"),
    _f("cancel_at_period_end_on_canceled", CancelAtPeriodEndOnCanceled, "test_subscription_states",
       "SUB-005"),
    _f("filters_dropped_after_cursor", FiltersDroppedAfterCursor, "test_list_filters", "LIST-001"),
    _f("negative_discount", NegativeDiscount, "test_discount_ties", "COUPON-003",
       also=("HTTP-003",)),  # a negative discount also breaks the schema's `minimum: 0`
    _f("window_limit_by_duration", WindowLimitByDuration, "test_at_most_1000_windows", "METER-005"),
    _f("backdating_edge_off_by_one_second", BackdatingEdgeOffByOneSecond, "test_backdating_edges",
       "EVENT-003"),
    _f("special_model_accepted", SpecialModelAccepted, "test_special_names_are_not_enum_values",
       "ERR-004"),
    _f("special_aggregation_server_error", SpecialAggregationServerError,
       "test_special_names_are_not_enum_values", "ERR-004", also=("ERR-006",)),
    _f("has_more_on_last_page", HasMoreOnLastPage, "test_last_page_ends_the_list", "PAGE-002"),
    _f("has_more_when_page_full", HasMoreWhenPageFull, "test_last_page_ends_the_list or test_list_filters",
       "PAGE-002"),
    _f("active_true_filter_ignored", ActiveTrueFilterIgnored, "test_list_filters", "LIST-001"),
    _f("lone_surrogate_server_error", LoneSurrogateServerError, "test_a_lone_surrogate_is_not_a_server_error",
       "ERR-006"),
    _f("query_text_coerced", QueryTextCoerced, "test_the_customer_is_matched_exactly", "METER-001"),
    _f("path_id_length_not_validated", PathIdLengthNotValidated,
       "test_invalid_input_is_rejected_and_creates_nothing", "ERR-004"),
    _f("aggregation_case_insensitive", AggregationCaseInsensitive,
       "test_special_names_are_not_enum_values", "ERR-004"),
    _f("batch_over_100_accepted", BatchOver100Accepted, "test_batches_are_all_or_nothing",
       "ERR-004"),
    _f("batch_partly_ingested_outside_window", BatchPartlyIngestedOutsideWindow,
       "test_batches_are_all_or_nothing", "EVENT-004"),
    _f("batch_window_error_names_time", BatchWindowErrorNamesTime, "test_batches_are_all_or_nothing",
       "EVENT-004"),
    _f("percent_off_read_as_number", PercentOffReadAsNumber, "test_decimal_digits_and_ranges",
       "ERR-004"),
    _f("customer_matched_case_insensitively", CustomerMatchedCaseInsensitively,
       "test_the_customer_is_matched_exactly", "METER-001"),
    _f("event_ids_unique_per_customer", EventIdsUniquePerCustomer,
       "test_ingestion_and_deduplication", "EVENT-002"),
    _f("query_errors_without_invalid_params", QueryErrorsWithoutInvalidParams,
       "test_fuzz_operation and listCustomers", "ERR-004"),
]

BY_NAME = {fault.name: fault for fault in CATALOGUE}


@contextlib.contextmanager
def serve(fault: Fault | None = None) -> Iterator[str]:
    """The faulty server (or, without a fault, the reference) over HTTP on loopback."""
    if fault is None:
        app = inner = reference.create_app(keys=KEY_TRIPLES, spec_version=TARGET)
    else:
        app, inner = fault.build()
    try:
        with reference.serve_in_thread(app) as url:
            yield url
    finally:
        inner.close()
