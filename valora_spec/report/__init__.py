"""The conformance report: build it from a run, write its artifacts."""

from valora_spec.report._artifacts import write_artifacts
from valora_spec.report._build import build_report

__all__ = ["build_report", "write_artifacts"]
