"""Command line: python -m core migrate | seed-demo | check | export | send-mail | remind-requalification ...

Errors print one line naming what to fix and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys

from core.errors import CoreError


def _migrate(args) -> str:
    from core.db import get_engine, migrate

    engine = get_engine(args.database_url)
    migrate(engine)
    return "Database is up to date."


def _seed_demo(args) -> str:
    from core.db import get_engine, is_empty, migrate
    from core.demo import seed_demo

    engine = get_engine(args.database_url)
    migrate(engine)
    if args.if_empty and not is_empty(engine):
        return "Database already has sessions; demo data not added."
    made = seed_demo(engine, seed=args.seed)
    return f"Added {made} demo sessions with bookings."


def _check(args) -> str:
    from core.db import check_connection, describe, get_engine

    engine = get_engine(args.database_url)
    check_connection(engine)
    return f"Database reachable: {describe(engine)}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Availability calendar tools.")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: the DATABASE_URL setting)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the schema").set_defaults(run=_migrate)
    seed = sub.add_parser("seed-demo", help="add a realistic demo schedule with bookings")
    seed.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    seed.add_argument("--if-empty", action="store_true", help="only when there are no sessions yet")
    seed.set_defaults(run=_seed_demo)
    sub.add_parser("check", help="check the database can be reached").set_defaults(run=_check)
    from core.exports.command import add_export_parser
    from core.importer import add_import_parser
    from core.mail.sender import add_send_mail_parser
    from core.passwords import add_hash_password_parser
    from core.requalification import add_reminders_parser

    add_export_parser(sub)
    add_import_parser(sub)
    add_hash_password_parser(sub)
    add_send_mail_parser(sub)
    add_reminders_parser(sub)
    return parser


def _hint(args, exc: CoreError) -> str:
    """What to do instead, for an export that found the DuckDB file held by the running app."""
    if getattr(args, "command", None) == "export" and "lock" in str(exc).lower():
        return (". The running app holds this DuckDB file: while it runs, ask it for the file instead, "
                "GET /api/export?format=...&from=...&to=... with the feed token (see the Exports page).")
    return ""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        message = args.run(args)
    except CoreError as exc:
        print(f"error: {exc}{_hint(args, exc)}", file=sys.stderr)
        return 2
    if message:
        print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
