"""Duplicates left behind when the vendor commits a create and its answer is lost (502, 504, a cut
connection, a client timeout): the hooks (reconciled by natural key) against the same hooks with
blind retries, as this provider's transport behaved before (every 5xx, cut or timeout resent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests

from benchmarks.common import Result, Sandbox

if TYPE_CHECKING:
    from collections.abc import Callable

LOST_AS = ("502", "504", "cut", "timeout")


def blind(hook: Any) -> Any:
    """The naive client: the same hook, but a create is resent like a read and never looked for."""
    request = hook._request
    hook._request = lambda *args, creates=False, **kwargs: request(*args, **kwargs)
    hook.create_once = lambda operation, create, **kwargs: create()
    return hook


def cases(pdf: str) -> dict[str, tuple[str, str, str, Callable[[Any], Any]]]:
    """name: (vendor, route of the creating call, object counted, the call)."""
    from functools import partial

    opener = partial(open, pdf, "rb")
    return {
        "flippingbook publication": (
            "flippingbook",
            "POST /api/v1/fbonline/publication\\?",
            "publications",
            lambda hook: hook.create_publication(name="Lost", filename="lost.pdf", data=_b64(pdf)),
        ),
        "flipsnack collection": (
            "flipsnack",
            "POST /v1/",
            "collections",
            lambda hook: hook.create_collection(open_file=opener, title="Lost"),
        ),
        "ipaper paper": (
            "ipaper",
            "CreatePaper",
            "papers",
            lambda hook: hook.create_paper(0, "Lost", "lost"),
        ),
        "papyrs page": ("papyrs", "pages/create", "pages", lambda hook: hook.create_page("Lost", [[]])),
    }


def _b64(pdf: str) -> str:
    import base64

    with open(pdf, "rb") as stream:
        return base64.b64encode(stream.read()).decode()


def lost_answer(variants: tuple[str, ...] = LOST_AS, speed: float = 50) -> list[Result]:
    import tempfile

    from airflow_provider_flipbook.hooks import hook_class
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    pdf = tempfile.NamedTemporaryFile(suffix=".pdf", delete=False).name
    make_sample_pdf(pdf, 2, "Lost answer")
    extra = {"timeout": 1.0, "retry_min_wait": 0.01, "retry_max_wait": 0.05, "max_retries": 3}
    duplicates = {"ours": 0, "naive": 0}
    with Sandbox(speed) as sandbox:
        sandbox.use(**extra)
        for vendor, route, counted, call in cases(pdf).values():
            for lost_as in variants:
                for client in duplicates:
                    requests.post(f"{sandbox.url}/_sandbox/reset", timeout=10)
                    requests.post(
                        f"{sandbox.url}/_sandbox/faults",
                        timeout=10,
                        json={"vendor": vendor, "kind": "lost_answer", "route": route, "lost_as": lost_as},
                    )
                    hook = hook_class(vendor)(f"{vendor}_default")
                    try:
                        call(blind(hook) if client == "naive" else hook)
                    except Exception as error:  # noqa: BLE001 - a failed create is not a duplicate
                        print(f"{client} {vendor} {lost_as}: {type(error).__name__}")
                    duplicates[client] += max(sandbox.state()[vendor][counted] - 1, 0)
    cases_run = len(cases(pdf)) * len(variants)
    return [
        Result(
            "lost_answer_duplicates",
            duplicates["ours"],
            duplicates["naive"],
            f"extra objects over {cases_run} lost answers",
            "== 0",
        )
    ]
