"""Command-line output into a pipe that its reader closes early (`valora-spec compat ... | head`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def until_reader_leaves(command: Callable[[], int]) -> int:
    """Run `command`; if stdout's reader goes away, stop quietly with exit 1 as Python does on
    EPIPE, rather than print a traceback about output nobody will read."""
    try:
        code = command()
        sys.stdout.flush()  # inside the try: the last write may only fail here
        return code
    except BrokenPipeError:
        # the interpreter flushes stdout again at exit: point it at /dev/null so that is quiet too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
