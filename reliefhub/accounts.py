"""The command line's `users` and `wall-key` commands: accounts and wall-screen keys.

python -m reliefhub users add NAME --role ROLE [--countries ITA,ESP] --password-stdin | --external-id SUB
python -m reliefhub users list | set-role NAME ROLE [--countries ...] | disable NAME | enable NAME
python -m reliefhub users reset-password NAME --password-stdin
python -m reliefhub wall-key add "Ops room 1" [--base-url URL] | revoke KEY_ID | list

Whoever can open the database file acts as an admin here, recorded as the
operating-system user (auth.cli_identity). Like every command that writes, it
cannot run while the dashboard holds the database: use the Users page then.
With a shared store (RELIEFHUB_STORE) it runs on a replica of its own (--db)
while dashboards run, and each change lands in the store, which every server
follows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from reliefhub import auth, faults
from reliefhub.db import Database

DEFAULT_BASE_URL = "http://localhost:8501"


def _countries(text: str | None) -> list[str]:
    return [c for c in (text or "").split(",") if c.strip()]


def _password(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        raise auth.AuthError("give the password on standard input, with --password-stdin")
    return sys.stdin.readline().rstrip("\r\n")


def run_users(db: Database, args: argparse.Namespace) -> str:
    """Do one `users` action; returns what to print."""
    me = auth.cli_identity(args.who)
    if args.action == "add":
        password = None if args.external_id and not args.password_stdin else _password(args)
        countries = _countries(args.countries)
        auth.add_user(
            db, args.name, args.role, password, by=me, countries=countries, external_id=args.external_id
        )
        return f"Added {args.name} ({args.role})."
    if args.action == "set-role":
        auth.set_role(db, args.name, args.role, by=me, countries=_countries(args.countries))
        return f"{args.name} is now {args.role}."
    if args.action in ("disable", "enable"):
        auth.set_disabled(db, args.name, args.action == "disable", by=me)
        return f"{args.name} is {args.action}d."
    if args.action == "reset-password":
        auth.reset_password(db, args.name, _password(args), by=me)
        return f"Set a new password for {args.name}."
    listed = auth.read(db, "users_list").drop(columns=["user_id"])
    return listed.to_string(index=False) if len(listed) else "No accounts yet."


def run_wall_key(db: Database, args: argparse.Namespace) -> str:
    me = auth.cli_identity(args.who)
    if args.action == "add":
        key_id, key = auth.add_wall_key(db, args.label, by=me)
        return (
            f"Wall key {key_id} for {args.label!r}. Open this link on the screen; it is shown only now:\n"
            f"{args.base_url.rstrip('/')}/wall?key={key}"
        )
    if args.action == "revoke":
        auth.revoke_wall_key(db, args.key_id, by=me)
        return f"Revoked {args.key_id}: its screen shows no data from its next page load."
    listed = auth.read(db, "wall_keys_list")
    return listed.to_string(index=False) if len(listed) else "No wall keys yet."


def add_commands(commands, common: argparse.ArgumentParser, open_database: Callable) -> None:
    """Add `users` and `wall-key` to the command line's subcommands."""
    who = argparse.ArgumentParser(add_help=False, parents=[common])
    who.add_argument("--who", help="your name for the record (default: your operating-system user)")

    users = commands.add_parser("users", help="local accounts: add, list, set-role, disable, reset-password")
    actions = users.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", parents=[who], help="a new account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=auth.ROLES)
    add.add_argument("--countries", help="staff only for these countries: ISO3 codes, comma-separated")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--external-id", help="signs in through the identity provider: its subject or e-mail")
    actions.add_parser("list", parents=[who], help="every account (never a password)")
    role = actions.add_parser("set-role", parents=[who], help="change an account's role and countries")
    role.add_argument("name")
    role.add_argument("role", choices=auth.ROLES)
    role.add_argument("--countries", help="ISO3 codes, comma-separated; none: every country")
    for action in ("disable", "enable"):
        actions.add_parser(action, parents=[who], help=f"{action} an account").add_argument("name")
    reset = actions.add_parser("reset-password", parents=[who], help="set a new password")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    users.set_defaults(run=lambda args: _run(open_database, run_users, args))

    keys = commands.add_parser("wall-key", help="links for wall screens: add, revoke, list")
    key_actions = keys.add_subparsers(dest="action", required=True)
    new_key = key_actions.add_parser("add", parents=[who], help="a key for one screen; prints its link")
    new_key.add_argument("label", help='which screen, e.g. "Ops room 1"')
    new_key.add_argument("--base-url", default=DEFAULT_BASE_URL, help="the dashboard's address")
    key_actions.add_parser("revoke", parents=[who], help="stop a key working").add_argument("key_id")
    key_actions.add_parser("list", parents=[who], help="keys with their last use")
    keys.set_defaults(run=lambda args: _run(open_database, run_wall_key, args))


def _run(open_database: Callable, action: Callable, args: argparse.Namespace) -> int:
    """Exit 0 done, 1 refused (the reason printed), 2 the database could not be opened."""
    db = open_database(args, "Manage accounts and wall keys on the dashboard's Users page, or stop it.")
    if db is None:
        return 2
    try:
        print(action(db, args))
        return 0
    except (auth.AuthError, PermissionError, faults.DatabaseFault) as error:
        print(f"Refused: {error}", file=sys.stderr)
        return 1
    finally:
        db.close()
