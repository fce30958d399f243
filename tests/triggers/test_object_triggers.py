"""The one-object waits (an iPaper paper free, a Flipsnack download package) share the base's
constructor: their target keyword is required when the trigger is built, and a serialized trigger
builds the same trigger again (the triggerer rebuilds it from the serialized form)."""

from __future__ import annotations

import importlib

import pytest

from airflow_provider_flipbook.triggers.flipsnack import FlipsnackDownloadPackageTrigger
from airflow_provider_flipbook.triggers.ipaper import IPaperPaperFreeTrigger


@pytest.mark.parametrize(
    ("cls", "field"),
    [(IPaperPaperFreeTrigger, "paper_id"), (FlipsnackDownloadPackageTrigger, "collection_hash")],
)
def test_the_target_keyword_is_required_and_survives_serialization(cls, field):
    with pytest.raises(TypeError, match=f"{cls.__name__} needs {field}"):
        cls(conn_id="c", poll_interval=5, deadline=1e10)
    with pytest.raises(TypeError, match=f"needs {field}"):
        cls(conn_id="c", poll_interval=5, deadline=1e10, **{field: ""})

    trigger = cls(conn_id="c", poll_interval=5, deadline=1e10, wait_first=False, **{field: "42"})
    path, kwargs = trigger.serialize()
    module, _, name = path.rpartition(".")
    again = getattr(importlib.import_module(module), name)(**kwargs)
    assert type(again) is cls
    assert again.serialize() == (path, kwargs)
    assert again.target == {field: "42"}
    assert (again.conn_id, again.poll_interval, again.deadline, again.wait_first) == ("c", 5.0, 1e10, False)
