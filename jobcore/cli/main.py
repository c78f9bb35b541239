"""python -m jobcore ...: the command line for the same operations as the app, one module
per capability (admin, classify, jobs, dedup, activations, trees), each adding its parsers
and commands here.

Exit codes: 0 done, 1 the operation failed (database down, job failed or busy),
2 a usage error (bad arguments, unknown job, invalid config).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import sqlalchemy as sa

from jobcore import access
from jobcore.cli import activations, admin, classify, dedup, jobs, trees
from jobcore.cli.common import EXIT_FAILED, EXIT_USAGE, Parser
from jobcore.db import is_connection_error, unavailable
from jobcore.errors import JobcoreError, UsageError

_MODULES = (admin, classify, jobs, dedup, activations, trees)
_COMMANDS = {name: command for module in _MODULES for name, command in module.COMMANDS.items()}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    parser = Parser(prog="python -m jobcore", description="AudienceGPT admin jobs")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in _MODULES:
        module.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        with access.acting_as(access.local_admin("cli")):
            return _COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except JobcoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except sa.exc.DBAPIError as exc:
        if not is_connection_error(exc):
            raise
        print(f"error: {unavailable(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\ninterrupted: the current chunk either committed whole or not at all; "
              "resume with 'python -m jobcore jobs process JOB_ID --all'", file=sys.stderr)
        return EXIT_FAILED
