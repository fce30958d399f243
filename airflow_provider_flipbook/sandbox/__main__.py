"""``flipbook-sandbox`` / ``python -m airflow_provider_flipbook.sandbox``: serve the four emulated APIs.

Prints one ``AIRFLOW_CONN_<TYPE>_DEFAULT='<json>'`` line per vendor (``eval`` them, or copy them)
and runs until SIGINT or SIGTERM. ``--replay FILE`` plays the variants a recording of a real account
shows (``flipbook-doctor --record FILE``); ``--option`` switches still apply on top.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

import uvicorn

from airflow_provider_flipbook.sandbox.core.replay import load, replay
from airflow_provider_flipbook.sandbox.core.state import Credentials, SandboxState
from airflow_provider_flipbook.sandbox.emulators import EMULATORS
from airflow_provider_flipbook.sandbox.server import create_app, env_lines, free_port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flipbook-sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="divide every time constant (conversion, rate-limit windows, URL expiry)",
    )
    parser.add_argument(
        "--rate-limit-mode",
        choices=("delay", "reject"),
        default="delay",
        help="FlippingBook over its limit: delay the request up to ~1 s, then 429 (the vendor's "
        "README), or always answer 429",
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="VENDOR.NAME=VALUE",
        help="a vendor switch, as POST /_sandbox/options takes it (VALUE is JSON, else a string), "
        "e.g. --option ipaper.job_guid=true; repeatable; /_sandbox/reset restores the defaults",
    )
    parser.add_argument(
        "--replay",
        metavar="FILE",
        help="play the variants a recording of a real account shows (flipbook-doctor --record FILE)",
    )
    generated = Credentials.generate(EMULATORS)
    for field in generated.names():  # --flippingbook-key, --papyrs-token...
        parser.add_argument(f"--{field.replace('_', '-')}", help="default: generated afresh at each start")
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    for field in generated.names():
        if getattr(args, field):
            setattr(generated, field, getattr(args, field))
    port = args.port or free_port(args.host)
    state = SandboxState(
        speed=args.speed,
        credentials=generated,
        base_url=f"http://{args.host}:{port}",
        rate_limit_mode=args.rate_limit_mode,
    )
    app = create_app(state)
    try:
        notes = replay(state, load(args.replay)) if args.replay else []
        apply_options(state, args.option)
    except ValueError as error:
        parser.error(str(error))
    for note in notes:
        print(f"# replay: {note}")
    for line in env_lines(state):
        print(line)
    print(f"# flipbook sandbox on {state.base_url} (speed {args.speed:g}); Ctrl-C to stop", flush=True)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal: end with exit code 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        asyncio.run(uvicorn.Server(config).serve())
    except KeyboardInterrupt:
        pass
    finally:
        state.close()
    return 0


def apply_options(state: SandboxState, options: list[str]) -> None:
    """``vendor.name=value`` switches, checked against the emulator's own option names."""
    for item in options:
        target, sep, raw = item.partition("=")
        vendor, dot, name = target.partition(".")
        known = getattr(state.vendors.get(vendor), "options", None)
        if not (sep and dot) or known is None or name not in known:
            choices = {v: sorted(getattr(e, "options", {})) for v, e in state.vendors.items()}
            raise ValueError(f"--option {item!r}: expected VENDOR.NAME=VALUE with one of {choices}")
        value: Any
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        known[name] = value


if __name__ == "__main__":
    sys.exit(main())
