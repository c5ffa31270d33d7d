"""The `python -m humanic_app` command line: migrate, serve a built image, create users, manage API keys."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

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


def _cmd_campaigns_export(args: argparse.Namespace) -> int:
    """One document with --id, otherwise a list of every campaign that is not archived."""
    from humanic_app.services.campaigns import library, store

    with session_scope() as session:
        data: dict[str, Any] | list[dict[str, Any]]
        if args.id:
            data = store.get_campaign(session=session, campaign_id=args.id).definition
        else:
            data = [c.definition for c in store.list_campaigns(session=session, include_archived=False)]
    text = library.dump(data)
    if args.file == "-":
        print(text, end="")
    else:
        Path(args.file).write_text(text)
    print(f"Exported {1 if args.id else len(data)} campaign(s) to {args.file}.", file=sys.stderr)
    return 0


def _cmd_campaigns_import(args: argparse.Namespace) -> int:
    from humanic_app.services import workspace
    from humanic_app.services.campaigns import library, store

    loaded = library.load_text(sys.stdin.read() if args.file == "-" else Path(args.file).read_text())
    documents = loaded if isinstance(loaded, list) else [loaded]
    with session_scope() as session:
        named = workspace.get_workspace(session=session).name
        for document in library.in_workspace(documents, named):  # campaigns/*.yaml say {workspace}
            campaign = store.create_campaign(session=session, document=document)
            print(f"Imported '{campaign.name}' as draft campaign {campaign.id}.")
    return 0


def _describe_db() -> str:
    settings = get_settings()
    if settings.is_sqlite:
        return settings.database_url.removeprefix("sqlite:///")
    return "PostgreSQL at " + settings.database_url.split("@")[-1]


def _cmd_serve(_: argparse.Namespace) -> int:
    from humanic_app.serving import serve

    serve(port=get_settings().port)
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from humanic_app.background import run_worker

    return run_worker(attached=args.attached)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m humanic_app", description="Humanic administration.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_cmd_migrate)

    sub.add_parser(
        "serve",
        help="serve UI, API and webhooks on $PORT from a frontend built by deploy/build.sh (the image's "
        "command; builds nothing, needs neither Node nor bun)",
    ).set_defaults(func=_cmd_serve)

    worker = sub.add_parser(
        "worker",
        help="run processing, the outbox dispatcher and the periodic jobs (each web "
        "process starts its own unless HUMANIC_WORKERS=external; then run this as a service)",
    )
    mode = worker.add_mutually_exclusive_group()
    mode.add_argument(
        "--attached",
        dest="attached",
        action="store_true",
        help="a web process's child: woken through stdin, exits when stdin closes",
    )
    mode.add_argument(
        "--standalone",
        dest="attached",
        action="store_false",
        help="a service of its own: polls the database, exits on SIGTERM (the default unless stdin is a pipe)",
    )
    worker.set_defaults(func=_cmd_worker, attached=None)

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

    campaigns = sub.add_parser("campaigns", help="campaigns as YAML/JSON files").add_subparsers(
        dest="action", required=True
    )
    export = campaigns.add_parser("export", help="write campaigns (all non-archived, or --id N) to FILE (- = stdout)")
    export.add_argument("file")
    export.add_argument("--id", type=int)
    export.set_defaults(func=_cmd_campaigns_export)
    load = campaigns.add_parser("import", help="create draft campaigns from a YAML/JSON file (one or a list)")
    load.add_argument("file")
    load.set_defaults(func=_cmd_campaigns_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
