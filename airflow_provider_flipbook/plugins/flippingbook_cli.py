r"""``flipbook-webhooks``: set up FlippingBook trigger calls into Airflow's webhook receiver.

    flipbook-webhooks token                      # a fresh token for the connection extra webhook_token
    flipbook-webhooks register --conn-id flippingbook_default --api-url https://airflow.example.com \\
        --event created --event convertationFailed [--publication-id <id>]
    flipbook-webhooks remove --conn-id flippingbook_default --trigger-id <id>

The connection is read as Airflow reads it (environment variables, secrets backends). The receiver
URL is never printed: it holds the token.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flipbook-webhooks", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("token", help="print a fresh random token for the extra webhook_token")
    register = commands.add_parser("register", help="register a trigger pointing at the receiver")
    register.add_argument("--conn-id", default="flippingbook_default")
    register.add_argument(
        "--api-url", required=True, help="the API server's base URL as FlippingBook reaches it"
    )
    register.add_argument("--event", action="append", required=True, help="a vendor event name (repeatable)")
    register.add_argument("--publication-id", help="limit to one publication (default: account-wide)")
    remove = commands.add_parser("remove", help="delete a registered trigger")
    remove.add_argument("--conn-id", default="flippingbook_default")
    remove.add_argument("--trigger-id", required=True)
    args = parser.parse_args(argv)
    if args.command == "token":
        print(secrets.token_urlsafe(32))
        return 0
    from airflow_provider_flipbook.hooks import hook_for

    hook = cast("FlippingBookHook", hook_for(args.conn_id, vendors=("flippingbook",)))
    if args.command == "register":
        trigger_id = hook.register_webhook(args.api_url, args.event, publication_id=args.publication_id)
        print(trigger_id)
        return 0
    removed = hook.remove_webhook(args.trigger_id)
    print("removed" if removed else "already gone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
