"""`valora-spec conformance [options]`: the conformance suite from any directory.

Every option of `pytest conformance` works, Valora's and pytest's alike; the suite is the
installed package's, found by its module name (`pytest --pyargs valora_spec.conformance`).
"""

from __future__ import annotations

import sys

SUITE = "valora_spec.conformance"
PLUGIN = "valora_spec.conformance.plugin"


def main(args: list[str]) -> int:
    if "-h" in args or "--help" in args:
        print(usage())
        return 0
    import pytest

    # -p: the plugin even with PYTEST_DISABLE_PLUGIN_AUTOLOAD (its entry point has the same name,
    # so it is never loaded twice); -W: valora_spec was imported before pytest could rewrite it
    argv = ["-p", PLUGIN, "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "--pyargs", SUITE, *args]
    return int(pytest.main(argv))


def usage() -> str:
    from valora_spec.conformance._settings import FLAGS, OPTIONS

    lines = ["usage: valora-spec conformance [options] [pytest options]", "",
             "Run the Valora conformance suite against --base-url (default: the embedded reference",
             "implementation) and write a report. Exit: 0 pass, 1 fail, 2 usage error, 3 incomplete,",
             "6 target unreachable.", "", "Valora options (each also read from its environment variable):"]
    for name, env, _kind, default, metavar, help_text in OPTIONS:
        shown = f" (default {default})" if default not in (None, "") else ""
        lines.append(f"  {name} {metavar}".ljust(30) + f" {help_text}{shown} [env {env}]")
    for name, env, help_text in FLAGS:
        lines.append(f"  {name}".ljust(30) + f" {help_text} [env {env}=1]")
    lines += ["", "Any pytest option works too (-k, -x, -q, --junitxml ...): see `pytest --help`."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
