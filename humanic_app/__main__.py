"""The `python -m humanic_app` command line: migrate, create users, manage API keys."""

from __future__ import annotations

import argparse
import sys

from humanic_app import migrations
from humanic_app.db import session_scope
from humanic_app.models import UserRole
from humanic_app.services import auth
from humanic_app.services.errors import ServiceError
from humanic_app.settings import get_settings


def _cmd_migrate(_: argparse.Namespace) -> int:
    migrations.upgrade()
    print(f"Database is at the latest schema ({_describe_db()}).")
    return 0


def _cmd_create_user(args: argparse.Namespace) -> int:
    with session_scope() as session:
        role = UserRole.owner if args.owner or not auth.has_users(session=session) else UserRole.member
        user = auth.create_user(session=session, email=args.email, password=args.password, role=role)
        print(f"Created {role.value} {user.email}.")
    return 0


def _cmd_api_key_create(args: argparse.Namespace) -> int:
    with session_scope() as session:
        row, key = auth.create_api_key(session=session, name=args.name)
        print(f"Created API key '{row.name}' (id {row.id}). It is shown once; store it now:")
    print(key)
    return 0


def _cmd_api_key_list(_: argparse.Namespace) -> int:
    with session_scope() as session:
        for row in auth.list_api_keys(session=session):
            state = "revoked" if row.revoked_at else "active"
            print(f"{row.id}\t{row.name}\t{row.prefix}…\t{state}")
    return 0


def _cmd_api_key_revoke(args: argparse.Namespace) -> int:
    with session_scope() as session:
        auth.revoke_api_key(session=session, api_key_id=args.id)
    print(f"Revoked API key {args.id}.")
    return 0


def _describe_db() -> str:
    settings = get_settings()
    if settings.is_sqlite:
        return settings.database_url.removeprefix("sqlite:///")
    return "PostgreSQL at " + settings.database_url.split("@")[-1]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m humanic_app", description="Humanic administration.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_cmd_migrate)

    create_user = sub.add_parser("create-user", help="create a user (the first one becomes the owner)")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--password", required=True)
    create_user.add_argument("--owner", action="store_true", help="make this user an owner")
    create_user.set_defaults(func=_cmd_create_user)

    api_key = sub.add_parser("api-key", help="manage API keys").add_subparsers(dest="action", required=True)
    create = api_key.add_parser("create", help="create a key; prints it once, as the last line")
    create.add_argument("--name", required=True)
    create.set_defaults(func=_cmd_api_key_create)
    api_key.add_parser("list", help="list keys (never the keys themselves)").set_defaults(func=_cmd_api_key_list)
    revoke = api_key.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=_cmd_api_key_revoke)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
