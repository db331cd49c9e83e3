"""``lineage token create|list|revoke``: the API's tokens, kept in the store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from lineage.access.tokens import Role, token_store_for
from lineage.store import LineageStore

__all__ = ["add_token_commands"]

EXIT_OK, EXIT_USAGE = 0, 2


def _when(moment: object) -> str:
    return "never" if moment is None else str(moment).replace("+00:00", "Z")


def add_token_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    open_store: Callable[[argparse.Namespace], LineageStore],
) -> None:
    """Add ``token`` and its subcommands to the ``lineage`` parser."""

    def run(args: argparse.Namespace) -> int:
        store = open_store(args)
        tokens = token_store_for(store)
        try:
            if args.token_command == "create":
                role = Role.parse(args.role)
                token = tokens.create(args.name, role)
                print(f"token {args.name!r} ({role.label}) created; it is shown only this once:")
                print(token)
                return EXIT_OK
            if args.token_command == "list":
                print(f"{'name':<24} {'role':<7} {'created':<32} last used")
                for info in tokens.list():
                    print(
                        f"{info.name:<24} {info.role.label:<7} {_when(info.created_at):<32} "
                        f"{_when(info.last_used_at)}"
                    )
                return EXIT_OK
            if tokens.revoke(args.name):
                print(f"token {args.name!r} revoked")
                return EXIT_OK
            print(f"lineage token revoke: no token named {args.name!r}", file=sys.stderr)
            return EXIT_USAGE
        finally:
            tokens.close()
            store.close()

    token = commands.add_parser("token", parents=[common], help="API tokens: create, list, revoke")
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", parents=[common], help="make a token (printed once, on the last line)"
    )
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=["reader", "writer", "admin"])
    actions.add_parser("list", parents=[common], help="names, roles, creation and last use")
    revoke = actions.add_parser(
        "revoke", parents=[common], help="revoke a token (refused from the next request on)"
    )
    revoke.add_argument("name")
    token.set_defaults(handler=run)
