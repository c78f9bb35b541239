"""The activation commands: refresh-activations, sync-trade-desk, set-credentials,
encrypt-credentials.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from pydantic import ValidationError

from jobcore.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    drive_with_bar,
    positive_int,
    print_report,
)
from jobcore.db import get_engine
from jobcore.errors import Conflict, UsageError
from jobcore.jobs import runner
from jobcore.schema import PLATFORMS


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """This module's command parsers."""
    refresh = sub.add_parser("refresh-activations",
                             help="re-push stale segments to their platforms")
    refresh.add_argument("--org", type=positive_int, help="one organisation (default: every "
                                                           "organisation with stale segments)")
    refresh.add_argument("--dry-run", action="store_true",
                         help="list what would be pushed; push and write nothing")
    refresh.add_argument("--limit", type=positive_int)
    sync = sub.add_parser("sync-trade-desk",
                          help="bring an organisation's Trade Desk elements in line with its "
                               "topics")
    sync.add_argument("--org", type=positive_int, required=True)
    sync.add_argument("--dry-run", action="store_true",
                      help="read the elements and report; change nothing")
    store = sub.add_parser("set-credentials",
                           help="store (or replace) an organisation's platform credentials, "
                                "encrypted with CREDENTIALS_KEY")
    store.add_argument("--org", type=positive_int, required=True)
    store.add_argument("--platform", choices=PLATFORMS, required=True)
    store.add_argument("--account-id", required=True)
    store.add_argument("--secret-stdin", action="store_true",
                       help="read the secret from standard input (default: ask for it "
                            "without echoing)")
    creds = sub.add_parser("encrypt-credentials",
                           help="encrypt plaintext platform credentials; re-encrypt the rest "
                                "under the first CREDENTIALS_KEY")
    creds.add_argument("--dry-run", action="store_true", help="count only; write nothing")


def _cmd_refresh_activations(args) -> int:
    from jobcore.activations.refresh_job import RefreshResult  # cryptography: only here
    from jobcore.activations.stale import orgs_with_stale

    if args.org is not None:
        orgs = [args.org]
    else:
        with get_engine().connect() as conn:
            orgs = orgs_with_stale(conn)
        if not orgs:
            print("no stale activations")
            return EXIT_OK
    config: dict = {"dryRun": args.dry_run}
    if args.limit is not None:
        config["limit"] = args.limit
    worst = EXIT_OK
    for org_id in orgs:
        try:
            created = runner.create_job("refresh_activations", config, org_id=org_id)
        except Conflict as exc:
            if args.org is not None:
                raise
            print(f"organisation {org_id}: skipped: {exc}", file=sys.stderr)  # the others go on
            worst = max(worst, EXIT_FAILED)
            continue
        print(f"organisation {org_id}: job {created.id} for {created.total_items:,} stale "
              "activations", file=sys.stderr)
        report = drive_with_bar(created.id, created.total_items, verbose=False, unit="activation")
        worst = max(worst, print_report(
            report, changed="refreshed",
            skipped="listed, not pushed (dry run)" if args.dry_run else "skipped"))
        if args.dry_run:
            for item in RefreshResult.of(runner.get_job(created.id).result).would_refresh:
                print(f"  would push {item['platform']} activation {item['activationId']}: "
                      f"{item['from']!r} -> {item['to']!r}")
    return worst


def _cmd_sync_trade_desk(args) -> int:
    created = runner.create_job("sync_trade_desk", {"dryRun": args.dry_run}, org_id=args.org)
    print(f"organisation {args.org}: job {created.id} for {created.total_items:,} linked topics",
          file=sys.stderr)
    report = drive_with_bar(created.id, created.total_items, verbose=False)
    status = print_report(report, changed="created or updated",
                           skipped="reported only (dry run)" if args.dry_run else "unchanged")
    from jobcore.activations.sync_job import SyncResult  # cryptography: only here

    result = SyncResult.of(runner.get_job(created.id).result)
    prefix = "would be " if args.dry_run else ""
    for key in ("created", "updated", "orphaned"):
        count = getattr(result, f"{key}_count")
        shown = ", ".join(getattr(result, key)[:20])
        print(f"{prefix if key != 'orphaned' else ''}{key}: {count}"
              + (f" ({shown}{', ...' if count > 20 else ''})" if shown else ""))
    return status


def _cmd_set_credentials(args) -> int:
    from jobcore.activations import credentials  # cryptography: only here
    from jobcore.activations.credentials import PlatformCredentials
    from jobcore.catalog.overview import organization_name

    secret = (sys.stdin.readline() if args.secret_stdin
              else getpass.getpass(f"{args.platform} secret: ")).strip()
    if not secret:
        raise UsageError("The secret is empty; nothing was stored.")
    try:
        given = PlatformCredentials(account_id=args.account_id.strip(), secret=secret)
    except ValidationError as exc:
        raise UsageError(f"Invalid credentials: {exc.errors()[0]['msg']}") from None
    with get_engine().begin() as conn:
        org = organization_name(conn, args.org)  # UnknownOrganization: exit 2
        credentials.save(conn, args.org, args.platform, given)
    print(f"stored the {args.platform} credentials of {org} (encrypted)")
    return EXIT_OK


def _cmd_encrypt_credentials(args) -> int:
    from jobcore.activations.credentials import encrypt_all

    with get_engine().begin() as conn:
        report = encrypt_all(conn, dry_run=args.dry_run)
    verb = "would encrypt" if report.dry_run else "encrypted"
    print(f"{verb} {report.encrypted} plaintext rows, "
          f"{'would re-encrypt' if report.dry_run else 're-encrypted'} {report.rotated} rows "
          f"under the first key; {report.unchanged} rows already current"
          + ("; nothing was written" if report.dry_run else ""))
    return EXIT_OK


COMMANDS = {
    "refresh-activations": _cmd_refresh_activations,
    "sync-trade-desk": _cmd_sync_trade_desk,
    "set-credentials": _cmd_set_credentials,
    "encrypt-credentials": _cmd_encrypt_credentials,
}
