"""report.html in a real headless Chromium: it renders, reads well, and the verdict is in the DOM."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from valora_spec.conformance._profiles import load_profiles
from valora_spec.report import build as build_report
from valora_spec.report import write as write_artifacts

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH (apt-get install chromium)"
)

# Flags that keep a headless run offline, quiet and independent of any profile on the machine.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    catalogue = yaml.safe_load((FIXTURES / "catalogue.yaml").read_text(encoding="utf-8"))
    run = json.loads((FIXTURES / "run.json").read_text(encoding="utf-8"))
    report = build_report(
        run,
        catalogue=catalogue,
        profiles=load_profiles(FIXTURES / "profiles"),
        now=datetime(2025, 11, 20, 3, 0, tzinfo=UTC),
    )
    out = tmp_path_factory.mktemp("html")
    write_artifacts(report, out)
    return out / "report.html"


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, timeout=120, check=False)


def test_screenshot_is_non_trivial(tmp_path, page):
    png = tmp_path / "report.png"
    result = chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,2000", page.as_uri())
    assert png.is_file(), result.stderr.decode(errors="replace")[-2000:]
    assert png.stat().st_size > 20_000
    width, height, colours = decode_png(png.read_bytes(), rows=600)
    assert (width, height) == (1280, 2000)
    # The red verdict band, white page, text and status pills: far more than one colour.
    assert len(colours) > 20
    assert (0xCF, 0x22, 0x2E) in colours  # the fail colour of the verdict header


def test_verdict_is_in_the_dom(tmp_path, page):
    result = chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = result.stdout.decode("utf-8", errors="replace")
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    assert '<span id="verdict-text">FAIL</span>' in dom
    assert '<strong id="range-label">1.0.0 – 1.1.x</strong>' in dom
    assert "VAL-INV-003" in dom


def decode_png(data: bytes, rows: int) -> tuple[int, int, set[tuple[int, int, int]]]:
    """Width, height and the set of RGB colours in the first `rows` rows (8-bit RGB/RGBA only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", None
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    assert header is not None
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    channels = 3 if colour_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    previous = bytearray(stride)
    colours: set[tuple[int, int, int]] = set()
    for y in range(min(rows, height)):
        start = y * (stride + 1)
        line = unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels)
        colours.update(zip(line[0::channels], line[1::channels], line[2::channels], strict=True))
        previous = line
    return width, height, colours


def unfilter(kind: int, line: bytearray, prior: bytearray, bpp: int) -> bytearray:
    if kind == 0:
        return line
    if kind == 2:  # Up
        return bytearray((a + b) & 0xFF for a, b in zip(line, prior, strict=True))
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prior[i]
        if kind == 1:  # Sub
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:  # Average
            line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            corner = prior[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + predictor) & 0xFF
        else:
            raise AssertionError(f"unknown PNG filter {kind}")
    return line


def test_filters_hide_rows_in_the_browser(tmp_path, page):
    result = chromium(tmp_path, "--dump-dom", page.as_uri() + "#status=fail&area=INV")
    dom = result.stdout.decode("utf-8", errors="replace")
    rows = [line for line in dom.splitlines() if 'id="req-VAL-' in line]
    shown = [line for line in rows if "hidden" not in line]
    assert len(rows) == 8
    assert len(shown) == 1 and 'id="req-VAL-INV-003"' in shown[0]
    assert '<span id="shown">1</span>' in dom
