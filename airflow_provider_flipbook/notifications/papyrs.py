"""PapyrsNotifier: tell an intranet page that a pipeline failed or is late.

As a failure callback::

    on_failure_callback=PapyrsNotifier(conn_id="papyrs_default", page="Data status",
                                       message="{{ dag.dag_id }} failed: {{ ti.task_id }}")

As a deadline alert (run by the triggerer)::

    deadline=DeadlineAlert(reference=DeadlineReference.DAGRUN_LOGICAL_DATE, interval=timedelta(hours=4),
                           callback=AsyncCallback(PapyrsNotifier, kwargs={"page": "Data status"}))

Once per DAG run: a storm (40 mapped tasks failing) posts one message. The first caller claims the
run (:func:`~airflow_provider_flipbook.utils.once.once_store`) and the others see the claim and stay
silent. The claim has the scope of the connection's pacing (``pacing_scope``): ``host`` (default) is
a file every process of one host shares, ``redis`` a key on the deployment's Redis server
(``pacing_redis_conn_id``) that every host shares: workers on several hosts need it, as their pacing
does. (Airflow runs a DAG-level ``on_failure_callback`` once per DAG run by itself.) The key is the Papyrs site, page, DAG run and the message
*template*, so a failure notifier and a deadline notifier of the same run each post once. The post
is paced with every other Papyrs call of the credential (6 per 60 s). The notifier never raises:
a Papyrs outage is logged and the task keeps the state it had; the claim is given up so that a
later failure of the same run may try again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_flipbook._compat import BaseNotifier, aget_connection

if TYPE_CHECKING:
    from airflow_provider_flipbook.hooks.papyrs import PapyrsHook

TARGETS = ("discussion", "page")
CLAIM_TTL = 600.0  # a claim not finished in 10 minutes (a killed process) is taken over
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def notify_pool() -> ThreadPoolExecutor:
    """Return this provider's own threads for notifications in the triggerer.

    A paced post may wait there for its turn, and must not hold a thread of asyncio's default pool,
    which every trigger shares.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="flipbook-notify")
        return _pool


class PapyrsNotifier(BaseNotifier):
    """Post a message to a Papyrs page's discussion (or append it to the page), once per DAG run.

    :param page: the page's id, or its exact title (looked up: one more request) (templated)
    :param message: the text (templated); default: what failed or which deadline was missed, and when
    :param conn_id: the Papyrs connection (templated)
    :param subsite: the subsite of the page (default: the connection's)
    :param target: ``discussion`` (a post in the page's Discussion widget, which the page must have)
        or ``page`` (a paragraph appended to the page: a status page)
    :param once_per_run: post at most once per DAG run (per page and message template); False posts
        on every call
    """

    template_fields = ("message", "page", "conn_id")

    def __init__(
        self,
        *,
        page: str | int,
        message: str | None = None,
        conn_id: str = "papyrs_default",
        subsite: str | None = None,
        target: Literal["discussion", "page"] = "discussion",
        once_per_run: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)  # ``context``: how a deadline alert hands it over (3.1+)
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
        if not str(page).strip():
            raise ValueError("page is empty: give a Papyrs page id or title")
        self.page, self.message, self.conn_id = page, message, conn_id
        self.subsite, self.target, self.once_per_run = subsite, target, once_per_run
        self._message_template = message  # rendering replaces ``message``; the run's key uses this

    # -- Airflow's entry points -------------------------------------------------------------------

    def notify(self, context: Any) -> None:
        """Post the message (sync: task callbacks). Never raises.

        :param context: the task's (or the deadline's) context
        """
        self._post(context, connection=None)

    async def async_notify(self, context: Any) -> None:
        """Post the message (async: deadline alerts in the triggerer), in this provider's own threads.

        Never raises.

        :param context: the deadline's simplified context (``dag_run``, ``deadline``)
        """
        try:
            connection, _ = await aget_connection(str(self.conn_id))
        except Exception as error:
            self.log.error("PapyrsNotifier: connection %r: %s", self.conn_id, error)
            return
        await asyncio.get_running_loop().run_in_executor(notify_pool(), self._post, context, connection)

    # -- the work -----------------------------------------------------------------------------------

    def _post(self, context: Any, connection: Any) -> None:
        from airflow_provider_flipbook.hooks.papyrs import PapyrsHook

        key, claims = None, None
        try:
            hook = PapyrsHook(str(self.conn_id), subsite=self.subsite, connection=connection)
            run = run_identity(context)
            if self.once_per_run and run is not None:
                from airflow_provider_flipbook.utils.once import once_store

                claims = once_store(
                    "papyrs-notifications",
                    str(hook.setting("pacing_scope")),
                    str(hook.setting("pacing_redis_conn_id")),
                )
                key = self._key(hook, run)
                if not claims.claim(key, CLAIM_TTL):
                    self.log.info("PapyrsNotifier: %s/%s was already reported on %s", *run, self.page)
                    return
            page_id = self._page_id(hook)
            text = str(self.message or default_message(context))
            if self.target == "discussion":
                hook.post_to_discussion(page_id, text)
            else:
                hook.create_widget(page_id, "paragraph", text, format="text")
            if claims is not None and key is not None:
                claims.done(key)
            self.log.info("PapyrsNotifier: posted to Papyrs page %s", page_id)
        except Exception as error:  # never into the task: its state stays what it was
            if claims is not None and key is not None:
                claims.release(key)
            self.log.error(
                "PapyrsNotifier: could not post to Papyrs page %r (%s: %s); nothing else changes",
                self.page,
                type(error).__name__,
                error,
            )

    def _key(self, hook: PapyrsHook, run: tuple[str, str]) -> str:
        parts = [hook.base_url, hook.subsite, str(self.page), *run, self.target, self._message_template]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def _page_id(self, hook: PapyrsHook) -> str:
        page = str(self.page).strip()
        if page.isdigit():
            return page
        found = [p["id"] for p in hook.list_pages() if p.get("title") == page]
        if len(found) != 1:
            raise LookupError(
                f"{len(found) or 'no'} Papyrs pages titled {page!r} in @{hook.subsite}: give the page id"
            )
        return str(found[0])


def run_identity(context: Any) -> tuple[str, str] | None:
    """``(dag_id, run_id)`` of a task callback's context (a DagRun) or a deadline's (a JSON dict).

    :param context: the callback's context
    """
    dag_run = context.get("dag_run") if isinstance(context, Mapping) else None
    if isinstance(dag_run, Mapping):  # a deadline alert: the DAG run's REST payload
        dag_id, run_id = dag_run.get("dag_id"), dag_run.get("dag_run_id") or dag_run.get("run_id")
    else:
        dag_id, run_id = getattr(dag_run, "dag_id", None), getattr(dag_run, "run_id", None)
    return (str(dag_id), str(run_id)) if dag_id and run_id else None


def default_message(context: Any) -> str:
    """Describe what happened, from the context: a task's failure or a missed deadline.

    :param context: the callback's context
    """
    run = run_identity(context) or ("?", "?")
    deadline = context.get("deadline") if isinstance(context, Mapping) else None
    if isinstance(deadline, Mapping):
        return f"Airflow: DAG {run[0]}, run {run[1]}, missed its deadline ({deadline.get('deadline_time')})."
    ti = context.get("ti") if isinstance(context, Mapping) else None
    task = getattr(ti, "task_id", None)
    what = f"task {task} failed" if task else "needs attention"
    return f"Airflow: DAG {run[0]}, run {run[1]}: {what}."


send_papyrs_notification = PapyrsNotifier
