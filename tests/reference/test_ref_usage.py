"""Event ingestion and usage aggregation (VAL-EVENT-*, VAL-METER-*, VAL-TIME-002, VAL-META-002)."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from ref_helpers import (
    assert_problem,
    bad_param_names,
    create,
    event,
    hour_start,
    iso,
    make_meter,
    send_events,
    unique,
    usage,
    utcnow,
)

from valora_spec.reference import create_app, serve_in_thread


@pytest.fixture
def window() -> tuple:
    """[start, end): the last two whole hours, so that hour windows are exact."""
    end = hour_start(utcnow())
    return end - timedelta(hours=2), end


def test_single_event_is_accepted_then_duplicate(api: httpx.Client, window: tuple) -> None:
    meter = make_meter(api)
    start, end = window
    first = event(meter, "c1", start, n=3)
    response = api.post("/events", json=first)
    assert response.status_code == 202 and response.json() == {"id": first["id"],
                                                                "status": "accepted"}
    # Same id, other body: a duplicate, first write wins (VAL-EVENT-002).
    changed = {**first, "data": {"n": 100}}
    assert api.post("/events", json=changed).json() == {"id": first["id"], "status": "duplicate"}
    receipt = send_events(api, [changed, event(meter, "c1", start, n=1)])
    assert receipt["accepted"] == 1 and receipt["duplicates"] == 1
    assert [r["status"] for r in receipt["results"]] == ["duplicate", "accepted"]
    assert usage(api, meter, "c1", start, end)["value"] == "4"


def test_backdating_window(api: httpx.Client) -> None:
    meter = make_meter(api, aggregation="COUNT")
    now = utcnow()
    for when in (now - timedelta(days=35, minutes=1), now + timedelta(minutes=6)):
        response = api.post("/events", json=event(meter, "c", when))
        problem = assert_problem(response, 400, "event_outside_window")
        assert problem["invalid_params"][0]["name"] == "time"
    for when in (now - timedelta(days=34, hours=23), now + timedelta(minutes=4)):
        assert api.post("/events", json=event(meter, "c", when)).status_code == 202


def test_batch_is_all_or_nothing(api: httpx.Client, window: tuple) -> None:
    meter = make_meter(api, aggregation="COUNT")
    start, end = window
    good = [event(meter, "c", start) for _ in range(3)]
    late = event(meter, "c", utcnow() - timedelta(days=40))
    problem = assert_problem(api.post("/events/batch", json={"events": [*good, late]}), 400,
                             "event_outside_window")
    assert problem["invalid_params"][0]["name"] == "events[3].time"
    invalid = [*good, {**good[0], "id": unique(), "type": ""}]
    assert bad_param_names(api.post("/events/batch", json={"events": invalid})) == {
        "events[3].type"}
    assert usage(api, meter, "c", start, end)["value"] == "0"
    assert send_events(api, good)["accepted"] == 3


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [("SUM", "111.75"), ("COUNT", "8"), ("MAX", "99"), ("MIN", "-2"), ("LATEST", "2.5"),
     ("UNIQUE_COUNT", "7"), ("AVG", "22.35")],
)
def test_aggregations(api: httpx.Client, window: tuple, aggregation: str, expected: str) -> None:
    meter = make_meter(api, aggregation=aggregation)
    start, end = window
    t = start + timedelta(minutes=10)
    send_events(api, [
        event(meter, "c", t, n=10),
        event(meter, "c", t + timedelta(minutes=1), n="2.25"),
        event(meter, "c", t + timedelta(minutes=2), n=-2),
        event(meter, "c", t + timedelta(minutes=3), n="not a number"),  # counted, not summed
        event(meter, "c", t + timedelta(minutes=4)),  # no value: counted only
        event(meter, "c", t + timedelta(minutes=5), n=True),  # not numeric
        event(meter, "c", t + timedelta(minutes=6), n=2.5),
    ])
    # Ingested last but earliest in time: LATEST still answers 2.5.
    send_events(api, [event(meter, "c", t - timedelta(minutes=1), n=99)])
    # UNIQUE_COUNT counts string forms: 10, 2.25, -2, "not a number", true, 2.5, 99.
    result = usage(api, meter, "c", start, end)
    assert result["value"] == expected
    assert result["rows"] == [] and result["window"] is None


def test_latest_ties_go_to_the_last_ingested(api: httpx.Client, window: tuple) -> None:
    meter = make_meter(api, aggregation="LATEST")
    start, end = window
    t = start + timedelta(minutes=5)
    send_events(api, [event(meter, "c", t, n=1), event(meter, "c", t, n=2)])
    send_events(api, [event(meter, "c", t, n=3)])
    assert usage(api, meter, "c", start, end)["value"] == "3"


def test_avg_is_exact_and_rounded_half_even(api: httpx.Client, window: tuple) -> None:
    meter = make_meter(api, aggregation="AVG")
    start, end = window
    send_events(api, [event(meter, "c", start, n=1), event(meter, "c", start, n=1),
                      event(meter, "c", start, n=0)])
    assert usage(api, meter, "c", start, end)["value"] == "0.666666666667"


def test_decimal_values_are_normalized(api: httpx.Client, window: tuple) -> None:
    meter = make_meter(api, aggregation="SUM")
    start, end = window
    send_events(api, [event(meter, "c", start, n="0.1"), event(meter, "c", start, n=0.2),
                      event(meter, "c", start, n="1499.70"), event(meter, "c", start, n=1e-20)])
    assert usage(api, meter, "c", start, end)["value"] == "1500"


def test_no_events_is_zero_for_every_aggregation(api: httpx.Client, window: tuple) -> None:
    for aggregation in ("SUM", "COUNT", "MAX", "UNIQUE_COUNT", "LATEST", "AVG", "MIN"):
        assert usage(api, make_meter(api, aggregation=aggregation), "c", *window)["value"] == "0"


def test_only_matching_events_in_half_open_window(api: httpx.Client, window: tuple) -> None:
    meter = make_meter(api, aggregation="SUM")
    start, end = window
    send_events(api, [
        event(meter, "c", start, n=1),  # at from: counted
        event(meter, "c", end - timedelta(microseconds=1), n=2),
        event(meter, "c", end, n=4),  # at to: not counted
        event(meter, "c", start - timedelta(microseconds=1), n=8),
        event(meter, "other", start, n=16),
        {**event(meter, "c", start, n=32), "type": "another.type"},
    ])
    assert usage(api, meter, "c", start, end)["value"] == "3"


def test_windows_are_aligned_clipped_and_add_up(api: httpx.Client) -> None:
    meter = make_meter(api, aggregation="SUM")
    base = hour_start(utcnow()) - timedelta(hours=5)
    start, end = base + timedelta(minutes=30), base + timedelta(hours=3, minutes=15)
    send_events(api, [event(meter, "c", base + timedelta(minutes=m), n=m)
                      for m in (10, 30, 59, 60, 150, 194, 195, 200)])
    result = usage(api, meter, "c", start, end, window="HOUR")
    assert [(r["from"], r["to"]) for r in result["rows"]] == [
        (iso(start), iso(base + timedelta(hours=1))),
        (iso(base + timedelta(hours=1)), iso(base + timedelta(hours=2))),
        (iso(base + timedelta(hours=2)), iso(base + timedelta(hours=3))),
        (iso(base + timedelta(hours=3)), iso(end)),
    ]
    assert [r["value"] for r in result["rows"]] == ["89", "60", "150", "194"]
    assert result["value"] == "493" and result["window"] == "HOUR"
    day = usage(api, meter, "c", start, end, window="DAY")
    assert sum(int(r["value"]) for r in day["rows"]) == 493
    assert day["rows"][0]["from"] == iso(start) and day["rows"][-1]["to"] == iso(end)


def test_empty_or_reversed_window_is_400(api: httpx.Client, window: tuple) -> None:
    meter = make_meter(api)
    start, end = window
    for a, b in ((start, start), (end, start)):
        response = api.get(f"/meters/{meter['id']}/usage",
                           params={"customer": "c", "from": iso(a), "to": iso(b)})
        assert bad_param_names(response) == {"to"}
    response = api.get(f"/meters/{meter['id']}/usage", params={"customer": "c", "from": "yesterday",
                                                               "to": iso(end)})
    assert bad_param_names(response) == {"from"}


def test_group_by(api: httpx.Client, window: tuple) -> None:
    meter = make_meter(api, aggregation="SUM")
    start, end = window
    send_events(api, [event(meter, "c", start, n=1, region="eu"),
                      event(meter, "c", start, n=2, region="us"),
                      event(meter, "c", start, n=4, region="eu"),
                      event(meter, "c", start, n=8)])
    result = usage(api, meter, "c", start, end, group_by="region")
    assert result["groups"] == [{"key": "eu", "value": "5"}, {"key": "us", "value": "2"},
                                {"key": None, "value": "8"}]
    assert result["value"] == "15"


def test_value_property_required_unless_count(api: httpx.Client) -> None:
    body = {"key": unique("k"), "name": "m", "event_type": "t", "aggregation": "MAX"}
    assert bad_param_names(api.post("/meters", json=body)) == {"value_property"}
    assert create(api, "/meters", {**body, "aggregation": "COUNT"})["value_property"] is None


def test_declared_visibility_delay_is_honoured() -> None:
    app = create_app(keys=[("o", "admin", "k")], usage_delay=1)
    with serve_in_thread(app) as url, httpx.Client(
        base_url=url + "/v1", headers={"Authorization": "Bearer k"}
    ) as api:
        assert api.get("/meta").json()["usage_visibility_seconds"] == 1
        meter = make_meter(api)
        now = utcnow()
        send_events(api, [event(meter, "c", now - timedelta(seconds=1), n=5)])
        span = (now - timedelta(minutes=1), now + timedelta(minutes=1))
        assert usage(api, meter, "c", *span)["value"] == "0"
        time.sleep(1.1)
        assert usage(api, meter, "c", *span)["value"] == "5"
    app.close()
