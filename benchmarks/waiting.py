"""Waiting for a conversion of known duration: latency after it finishes, and status requests made.

Ours: PdfConversionSensor in poke, reschedule (the scheduler's re-runs emulated) and deferrable
(trigger run in-process) modes. Baseline: a hand-written loop polling the publication every
interval. A 100-page FlippingBook PDF converts in 1 + 2 + (2 + 0.02 x 100) + 0.2 x 100 = 27 vendor
seconds; at speed 20 that is 1.35 s.
"""

from __future__ import annotations

import asyncio
import base64
import time

import requests

from benchmarks.common import WORK, Result, Sandbox

PAGES = 100


def duration(speed: float) -> float:
    return (1 + 2 + 2 + 0.02 * PAGES + 0.2 * PAGES) / speed


def _rescheduled(sensor, context: dict) -> dict:
    from airflow_provider_flipbook._compat import AirflowRescheduleException

    while True:
        try:
            return sensor.execute(context)
        except AirflowRescheduleException:
            time.sleep(sensor.poke_interval)


class _TI:
    first = None

    def get_first_reschedule_date(self, context: dict):
        from airflow.sdk import timezone

        first, self.first = self.first, self.first or timezone.utcnow()
        return first

    def xcom_push(self, key: str, value: object) -> None:
        pass


def wait(speed: float, interval: float) -> list[Result]:
    from airflow_provider_flipbook._compat import TaskDeferred
    from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
    from airflow_provider_flipbook.sensors import PdfConversionSensor
    from airflow_provider_flipbook.utils.pdf import make_sample_pdf

    WORK.mkdir(parents=True, exist_ok=True)
    pdf = WORK / f"wait-{PAGES}.pdf"
    if not pdf.exists():
        make_sample_pdf(pdf, PAGES, "Waiting")
    data = base64.b64encode(pdf.read_bytes()).decode()
    latency, counts = {}, {}
    with Sandbox(speed) as sandbox:
        sandbox.use()
        hook = FlippingBookHook()
        for mode in ("poke", "reschedule", "deferrable", "baseline"):
            created = hook.create_publication(name=f"Wait {mode}", data=data, filename="w.pdf")
            finished = time.perf_counter() + duration(speed)  # the sandbox started converting at the answer
            upload = {
                "publication_id": created["id"],
                "version_id": created["createdSource"]["id"],
                "url": created["url"],
                "pages": PAGES,
            }  # what UploadPdfOperator returns
            if mode == "baseline":
                conn = sandbox.connections["flippingbook"]
                url = f"{conn['host']}/api/v1/fbonline/publication/{created['id']}"
                while (
                    "CompletedAllStages"
                    not in requests.get(
                        url, headers={"Authorization": f"Bearer {conn['password']}"}, timeout=30
                    ).json()["publication"]["state"]
                ):
                    time.sleep(interval)
            else:
                sensor = PdfConversionSensor(
                    task_id=f"w_{mode}",
                    conn_id="flippingbook_default",
                    upload=upload,
                    poke_interval=interval,
                    timeout=600,
                    deferrable=mode == "deferrable",
                    mode="reschedule" if mode == "reschedule" else "poke",
                )
                context = {"ti": _TI()}
                if mode == "reschedule":
                    _rescheduled(sensor, context)
                elif mode == "poke":
                    sensor.execute(context)
                else:
                    try:
                        sensor.execute(context)
                    except TaskDeferred as deferred:

                        async def first_event(trigger=deferred.trigger):
                            async for event in trigger.run():
                                return event.payload
                            return None

                        sensor.execute_complete(context, event=asyncio.run(first_event()))
            latency[mode] = time.perf_counter() - finished
            counts[mode] = sum(
                1 for r in sandbox.requests() if r["method"] == "GET" and created["id"] in r["path"]
            )
    target_requests = duration(speed) / interval + 2
    results = []
    for mode in ("poke", "reschedule", "deferrable"):
        results.append(
            Result(
                f"wait_latency_s_{mode}",
                round(latency[mode], 3),
                round(latency["baseline"], 3),
                "s after the conversion finished",
                f"<= {interval} (one poll interval)",
            )
        )
        results.append(
            Result(
                f"wait_requests_{mode}",
                counts[mode],
                counts["baseline"],
                "status requests",
                f"<= {target_requests:.1f} (duration / interval + 2)",
            )
        )
    return results
