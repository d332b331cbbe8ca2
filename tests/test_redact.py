"""valora_spec._redact: keys become placeholders, other credentials [REDACTED]."""

from __future__ import annotations

from valora_spec import _redact

KEYS = {"api_key": "vk_a_0123456789", "api_key_b": "vk_a_0123456789_b", "read_only_key": None}


def test_known_keys_become_their_placeholders_longest_first():
    secrets = _redact.key_secrets(KEYS)
    assert secrets == {"vk_a_0123456789": "$VALORA_API_KEY", "vk_a_0123456789_b": "$VALORA_API_KEY_B"}
    data = {"a": ["Bearer vk_a_0123456789_b", ("tuple stays",)], "n": 3}
    assert _redact.scrub(data, secrets) == {"a": ["Bearer $VALORA_API_KEY_B", ("tuple stays",)], "n": 3}


def test_sent_headers_keep_placeholders_and_redact_other_credentials():
    secrets = _redact.key_secrets(KEYS)
    headers = {"Authorization": "Bearer vk_a_0123456789", "Cookie": "s=1", "X-Note": "vk_a_0123456789"}
    assert _redact.safe_headers(headers, secrets) == {
        "Authorization": "Bearer $VALORA_API_KEY", "Cookie": "[REDACTED]", "X-Note": "$VALORA_API_KEY"}
    assert _redact.safe_headers({"Authorization": "Bearer sk_other"}, secrets) == {
        "Authorization": "Bearer [REDACTED]"}


def test_a_report_loses_unknown_secrets_but_never_a_placeholder():
    curl = "curl -H 'Authorization: Bearer $VALORA_API_KEY'"
    headers = {"Authorization": "Bearer sk_live_abcdefgh", "X-Api-Key": "$VALORA_READ_ONLY_KEY"}
    report = {"failures": [{"request": {"headers": headers}, "message": f"echoed sk_live_abcdefgh; {curl}"}]}
    failure = _redact.redact_report(report)["failures"][0]
    assert failure["request"]["headers"] == {"Authorization": "[REDACTED]",
                                             "X-Api-Key": "$VALORA_READ_ONLY_KEY"}
    assert failure["message"] == f"echoed [REDACTED]; {curl}"
    assert report["failures"][0]["request"]["headers"]["Authorization"].startswith("Bearer sk_")  # a copy
