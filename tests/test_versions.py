"""valora_spec._versions: the one parser and comparator of spec versions."""

from __future__ import annotations

import pytest

from valora_spec import _versions

KNOWN = ["1.0.0", "1.0.1", "1.1.0", "1.1.1", "1.2.0", "1.2.1"]


def test_versions_order_by_number_not_by_text():
    assert _versions.sort_versions(["1.10.0", "1.9.0", "1.2.0", "1.9.0"]) == ["1.2.0", "1.9.0", "1.10.0"]
    assert _versions.newest(["1.2.0", "1.10.0", "1.9.3"]) == "1.10.0"
    assert _versions.minor_line("1.2.7") == (1, 2)
    assert _versions.major("2.0.1") == 2


@pytest.mark.parametrize("text", ["1.2", "v1.2.0", "1.2.0rc1", "1.2.0+local", "1!1.2.0", " 1.2.0",
                                  "1.2.0\n", "1.2.x", "", None, 120, "١.٢.٠"])
def test_anything_but_major_minor_patch_is_a_clear_error(text):
    assert not _versions.is_version(text)
    with pytest.raises(ValueError, match=r"not a version X\.Y\.Z"):
        _versions.parse(text)


def test_leading_zeros_are_a_version_but_not_a_release_name():
    # the spec's own pattern for spec_version allows them; a spec/ folder is named canonically
    assert _versions.parse("01.2.0") == _versions.parse("1.2.0")
    assert _versions.is_release_name("1.2.0") and not _versions.is_release_name("01.2.0")


def test_a_requirement_applies_from_since_until_retired():
    req = {"since": "1.1.0", "retired": "1.2.0"}
    assert [v for v in KNOWN if _versions.applies(req, v)] == ["1.1.0", "1.1.1"]
    assert _versions.applies({"since": "1.0.0", "retired": None}, "1.2.1")
    assert _versions.at_least("1.2.0", None) and not _versions.at_least("1.1.9", "1.2.0")


@pytest.mark.parametrize(("declared", "judged"), [
    ("1.2.0", "1.2.0"), ("1.1.7", "1.1.1"), ("01.1.7", "1.1.1"), ("1.9.0", "1.2.1"),
    (None, "1.2.1"), ("garbage", "1.2.1"), (12, "1.2.1"),
])
def test_judged_version(declared, judged):
    assert _versions.judged_version(declared, KNOWN) == judged


def test_range_labels():
    assert _versions.range_label("1.0.0", "1.0.1") == "1.0.x"
    assert _versions.range_label("1.0.0", "1.2.1") == "1.0.0 – 1.2.x"
    assert _versions.range_label(None, None) == "none"
