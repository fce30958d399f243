"""iPaper reads the audit found wrong, against the sandbox: the name search's ``paperID`` and category
rows (``find_publications``), and ``GetCustomFieldValue`` in each plausible shape (its document's sample
is a copy of the definitions answer), failing on any other."""

from __future__ import annotations

import json

import pytest
from airflow.sdk import Connection

from airflow_provider_flipbook.exceptions import MalformedResponseError
from airflow_provider_flipbook.hooks.ipaper import IPaperHook


def hook_with(sandbox, **extras) -> IPaperHook:
    conn = dict(sandbox.connections()["ipaper"])
    conn["extra"] = json.dumps({**conn["extra"], **extras})
    return IPaperHook(connection=Connection(conn_id="ipaper_reads", **conn))


def test_find_publications_reads_paper_id_and_skips_categories(sandbox):
    hook = IPaperHook()
    category = hook.create_category(hook.root_paper_id, "Spring", "spring-category")
    paper = hook.create_paper(category, "Spring", "spring")
    hook.create_paper(category, "Spring sale", "spring-sale")  # found by the search, another name

    found = hook.find_publications("Spring")

    assert [summary["publication_id"] for summary in found] == [str(paper)]
    assert found[0]["url"].endswith("/spring/")


def test_find_publications_finds_nothing_for_an_unknown_name(sandbox):
    assert IPaperHook().find_publications("No such paper") == []


@pytest.mark.parametrize("shape", ["element", "attribute", "fields", "value"])
def test_a_custom_field_value_is_read_in_every_plausible_shape(sandbox, shape):
    sandbox.state_store.vendors["ipaper"].options["custom_field_value"] = shape
    hook = IPaperHook()
    paper = hook.create_paper(hook.root_paper_id, "Autumn", "autumn")
    hook.add_custom_field("Season", "string")
    hook.set_custom_field_value(paper, "Season", "Autumn & Winter")
    assert hook.get_custom_field_value(paper, "Season") == "Autumn & Winter"


def test_a_custom_field_value_in_an_unknown_shape_fails_naming_what_was_seen(sandbox):
    hook = hook_with(sandbox, root_paper_id=182)
    paper = hook.create_paper(182, "Winter", "winter")
    hook.add_custom_field("Season", "string")
    sandbox.fault("ipaper", kind="malformed", body="shape", route="GetCustomFieldValue")
    with pytest.raises(MalformedResponseError, match=r"GetCustomFieldValue.*unrecognised.*surprise\[kind\]"):
        hook.get_custom_field_value(paper, "Season")


def test_the_documented_sample_a_list_of_definitions_is_not_read_as_a_value(sandbox):
    """The page's sample answer lists definitions: taking one of them for the value would be a guess."""
    sandbox.state_store.vendors["ipaper"].options["custom_field_value"] = "definitions"
    hook = IPaperHook()
    paper = hook.create_paper(hook.root_paper_id, "Summer", "summer")
    hook.add_custom_field("Season", "string")
    with pytest.raises(MalformedResponseError, match=r"one field named 'Season'.*field\[datatype,name\]"):
        hook.get_custom_field_value(paper, "Season")  # one definition, of this very field
    hook.add_custom_field("Year", "int")
    with pytest.raises(MalformedResponseError, match="one field named 'Season'"):
        hook.get_custom_field_value(paper, "Season")
