"""Valora Reference: a small, complete implementation of the Valora billing API 1.x.

Not Valora OSS. It meets the conformance harness only over HTTP and never imports it.
"""

from valora_spec.reference._server import serve_in_thread
from valora_spec.reference.app import ReferenceApp, create_app

__all__ = ["ReferenceApp", "create_app", "serve_in_thread"]
