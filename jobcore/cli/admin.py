"""The setup commands: db, seed-demo, serve, api-token."""

from __future__ import annotations

import argparse
import secrets

from jobcore import migrate
from jobcore.cli.common import (
    EXIT_OK,
    positive_int,
)
from jobcore.db import describe_database, get_engine
from jobcore.errors import UsageError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """This module's command parsers."""
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "status"])
    demo = sub.add_parser("seed-demo", help="load a demo catalogue into an empty database")
    demo.add_argument("--topics", type=positive_int, default=2000)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--reset", action="store_true",
                      help="wipe the catalogue and all jobs first")
    serve = sub.add_parser("serve", help="serve the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-access-log", action="store_true",
                       help="do not log each request (saves a little time per call)")
    log = sub.add_parser("audit", help="the audit log, newest first")
    log.add_argument("--actor")
    log.add_argument("--action")
    log.add_argument("--outcome", choices=["done", "refused", "failed"])
    log.add_argument("--limit", type=positive_int, default=50)
    token = sub.add_parser("api-token", help="make a new HTTP API token for API_TOKENS")
    token.add_argument("--owner", required=True, help="who the token acts as (created_by)")
    token.add_argument("--role", default="operator", choices=["viewer", "operator", "admin"],
                       help="what the token may do (default: operator; see the README's "
                            "'Access')")


def _cmd_db(args) -> int:
    engine = get_engine()  # migrates on first use
    print(f"database: {describe_database().label}")
    print(f"schema revision: {migrate.current_revision(engine)} "
          f"(latest {migrate.head_revision()})")
    return EXIT_OK


def _cmd_seed_demo(args) -> int:
    from jobcore.catalog.demo import seed_demo  # the classifier: only for this command

    summary = seed_demo(get_engine(), topics_count=args.topics, seed=args.seed, reset=args.reset)
    print(f"loaded {summary.topics:,} topics ({summary.planted_duplicates:,} planted "
          f"duplicates, {summary.near_misses:,} near-miss twins), "
          f"{summary.organizations:,} organisations, "
          f"{summary.org_links:,} org links, {summary.activations:,} activations")
    return EXIT_OK


def _cmd_serve(args) -> int:
    import uvicorn  # the HTTP API and its dependencies: only for this command

    from jobcore import api

    get_engine()  # fail fast, with a clear message, when the database is down
    uvicorn.run(api.create_app(), host=args.host, port=args.port, log_level="info",
                access_log=not args.no_access_log)
    return EXIT_OK


def _cmd_api_token(args) -> int:
    from jobcore.api import hash_token  # the HTTP API's module: only for this command

    if ":" in args.owner or "," in args.owner:
        raise UsageError("--owner may not contain ':' or ','.")
    token = secrets.token_urlsafe(32)
    print(f"token (give it to the caller; it is not stored): {token}")
    entry = f"{args.owner}:{args.role}:{hash_token(token)}"
    print(f"API_TOKENS entry (store this):                  {entry}")
    return EXIT_OK


def _cmd_audit(args) -> int:
    from jobcore import audit

    rows = audit.entries(audit.AuditFilter(actor=args.actor, action=args.action,
                                           outcome=args.outcome), limit=args.limit)
    for row in rows:
        print(f"{row.at:%Y-%m-%d %H:%M:%S} {row.actor} ({row.role}, {row.via}) {row.action}"
              f"{' ' + row.target if row.target else ''}: {row.outcome}"
              f"{' - ' + row.message if row.message else ''}")
    if not rows:
        print("no action matches")
    return EXIT_OK


COMMANDS = {
    "audit": _cmd_audit,
    "db": _cmd_db,
    "seed-demo": _cmd_seed_demo,
    "serve": _cmd_serve,
    "api-token": _cmd_api_token,
}
