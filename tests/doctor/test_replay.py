"""A recording replayed by the sandbox: an account recorded in one sandbox playing non-default variants
replays, in a fresh sandbox, with the same hook results; the CLI and the control API take it too."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from airflow_provider_flipbook.hooks.flippingbook import FlippingBookHook
from airflow_provider_flipbook.sandbox.core.replay import check_recording, load, replay
from airflow_provider_flipbook.sandbox.server import SandboxServer
from airflow_provider_flipbook.utils.pdf import make_sample_pdf
from tests.doctor.helpers import CONN_IDS, results, run, seed

# Not the documents' defaults: each one changes what some hook reads.
VARIANTS = {
    "flippingbook": {"progress_key": "progress", "link_url": True},
    "flipsnack": {
        "items_key": "flipbooks",
        "list_query": "ignored",
        "list_cap": 1,
        "list_count": "absent",
        "list_items": False,
    },
    "ipaper": {"job_guid": True, "page_ids": "kept", "custom_field_value": "attribute"},
    "papyrs": {"page_folder_field": "none"},  # the write test stops at the folder: no widget observed
}
ALL = [a for c in CONN_IDS for a in ("--conn-id", c)]


def without_ids(seen: str) -> str:
    return re.sub(r"\d+", "N", seen)


@pytest.fixture(autouse=True)
def forget_replays(flipbook_sandbox):
    """The session sandbox plays the documents again after each test, whatever it replayed."""
    yield
    flipbook_sandbox.forget_replay()


@pytest.fixture
def served(monkeypatch, tmp_path, pdf_server, samples):
    """``served(name)``: a fresh sandbox, seeded, its connections the default ones; stopped afterwards."""
    servers: list[SandboxServer] = []

    def start(name: str) -> SandboxServer:
        server = SandboxServer(speed=50).start()
        servers.append(server)
        for vendor, conn in server.connections().items():
            monkeypatch.setenv(f"AIRFLOW_CONN_{vendor.upper()}_DEFAULT", json.dumps(conn))
        (tmp_path / name).mkdir()
        seed(server.state_store, tmp_path / name, pdf_server, samples["long"])
        return server

    yield start
    for server in servers:
        server.stop()


def test_a_recording_replays_with_the_same_results(served, capsys, tmp_path):
    recorded = served("recorded")
    for vendor, options in VARIANTS.items():
        recorded.state_store.set_options(vendor, options)
    path = tmp_path / "account.json"
    code, output = run(capsys, *ALL, "--json", "--write-test", "--record", str(path))
    there = results(output)
    assert code == 2, output  # a job GUID, kept page ids and an ignored folder differ from the documents

    served("fresh")  # the documents' defaults answer otherwise: the replay is what makes them alike
    code, output = run(capsys, *ALL, "--json", "--write-test")
    assert {k: v["status"] for k, v in results(output).items()} != {k: v["status"] for k, v in there.items()}

    replayed = served("replayed")
    defaults = replayed.state_store.options()
    assert all(defaults[v][k] != value for v, options in VARIANTS.items() for k, value in options.items())
    assert replay(replayed.state_store, load(path)) == []
    for vendor, options in VARIANTS.items():
        assert {k: replayed.state_store.options()[vendor][k] for k in options} == options, vendor
    code, output = run(capsys, *ALL, "--json", "--write-test")
    here = results(output)
    assert code == 2, output
    assert {k: (v["status"], without_ids(v["seen"])) for k, v in here.items()} == {
        k: (v["status"], without_ids(v["seen"])) for k, v in there.items()
    }
    replayed.state_store.reset()  # a replayed account stays the variant played
    assert replayed.state_store.options()["ipaper"]["job_guid"] is True


def test_a_recording_of_the_documented_defaults_replays_them(sandbox, capsys, tmp_path):
    path = tmp_path / "defaults.json"
    sandbox.state_store.set_options("flipsnack", {"items_key": "flipbooks"})
    run(capsys, "--conn-id", "ipaper_default", "--record", str(path))
    sandbox.replay(path)  # only iPaper was recorded: Flipsnack keeps its option until the next reset
    assert sandbox.state_store.options()["ipaper"]["root_url_lookup"] is True
    assert sandbox.state_store.replayed == {"ipaper": {"root_url_lookup": True}}
    sandbox.forget_replay()
    assert (
        sandbox.state_store.replayed == {}
        and sandbox.state_store.options()["flipsnack"]["items_key"] == "items"
    )


def test_the_control_api_replays_and_refuses_what_is_not_a_recording(sandbox, capsys, tmp_path):
    path = tmp_path / "account.json"
    sandbox.state_store.set_options("flippingbook", {"progress_key": "progress"})
    publication = FlippingBookHook().create_publication(name="one")
    make_sample_pdf(tmp_path / "a.pdf", 1, "a")  # a good PDF: a failed first source deletes its publication
    FlippingBookHook().add_source(publication["id"], filename="a.pdf", data=(tmp_path / "a.pdf").read_bytes())
    run(capsys, "--conn-id", "flippingbook_default", "--record", str(path))
    sandbox.state_store.reset()
    answer = requests.post(f"{sandbox.url}/_sandbox/replay", json=json.loads(path.read_text()), timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["options"]["flippingbook"]["progress_key"] == "progress"
    refused = requests.post(f"{sandbox.url}/_sandbox/replay", json={"format": "har"}, timeout=10)
    assert refused.status_code == 400 and "not a flipbook-doctor recording" in refused.text


def test_unknown_vendors_and_versions_are_named():
    with pytest.raises(ValueError, match="version 2"):
        check_recording({"format": "flipbook-doctor-recording", "version": 2, "vendors": {}})
    server = SandboxServer(speed=50)  # not started: its emulators are mounted
    notes = replay(
        server.state_store, {"format": "flipbook-doctor-recording", "version": 1, "vendors": {"issuu": {}}}
    )
    assert notes == ["issuu: not a vendor this sandbox emulates; ignored"]
    server.state_store.close()


def test_flipbook_sandbox_replay_on_the_command_line(sandbox, capsys, tmp_path):
    path = tmp_path / "account.json"
    sandbox.state_store.set_options("ipaper", {"root_url_lookup": False})
    run(capsys, "--conn-id", "ipaper_default", "--record", str(path))
    script = Path(sys.executable).with_name("flipbook-sandbox")
    process = subprocess.Popen(
        [str(script), "--port", "0", "--replay", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert process.stdout is not None
        lines = []
        while not lines or "sandbox on" not in lines[-1]:
            lines.append(process.stdout.readline())
            assert lines[-1], lines  # it printed its address before anything else could end it
        base = re.search(r"sandbox on (http://\S+)", lines[-1])
        assert base, lines
        for _ in range(300):  # the address is printed before the server listens
            try:
                requests.get(f"{base.group(1)}/_sandbox/health", timeout=10)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        played = requests.post(f"{base.group(1)}/_sandbox/options", json={}, timeout=10).json()
        assert played["ipaper"]["root_url_lookup"] is False
    finally:
        process.terminate()
        process.wait(timeout=20)
    bad = subprocess.run(
        [str(script), "--port", "0", "--replay", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "cannot replay" in bad.stderr


def test_the_pytest_fixture_replays_a_recording_for_the_session(sandbox, capsys, tmp_path):
    path = tmp_path / "account.json"
    sandbox.state_store.set_options("ipaper", {"root_url_lookup": False})
    run(capsys, "--conn-id", "ipaper_default", "--record", str(path))
    (tmp_path / "test_mine.py").write_text(
        "def test_my_dag_sees_my_account(flipbook_sandbox):\n"
        "    flipbook_sandbox.reset()\n"
        "    assert flipbook_sandbox.state_store.options()['ipaper']['root_url_lookup'] is False\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--flipbook-sandbox-replay",
            str(path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_reads_lose_what_the_account_never_sent_and_writes_are_untouched(sandbox, capsys, tmp_path):
    hook = FlippingBookHook()
    first = hook.create_publication(name="first")
    path = tmp_path / "account.json"
    run(capsys, "--conn-id", "flippingbook_default", "--conn-id", "ipaper_default", "--record", str(path))
    recording = json.loads(path.read_text())
    # An account whose publications carry no canonicalLink, and whose papers no url attribute.
    for answer in recording["vendors"]["flippingbook"]["answers"]:
        if answer["path"] == "/api/v1/fbonline/publication/{id}":
            del answer["shape"]["properties"]["publication"]["properties"]["canonicalLink"]
    for answer in recording["vendors"]["ipaper"]["answers"]:
        if answer["path"] == "/V2/Paper.asmx/GetAllPapers":
            del answer["shape"]["children"]["data"]["children"]["category"]["attributes"]["url"]
    path.write_text(json.dumps(recording))
    before = hook.get_publication(first["id"])
    sandbox.replay(path)

    after = hook.get_publication(first["id"])
    assert "canonicalLink" in before and set(after) == set(before) - {"canonicalLink"}
    assert hook.publication_summary(first["id"])["url"] == after.get("url")  # the fallback, exercised
    second = hook.create_publication(name="second")  # a write: as the emulator answers it
    assert {"id", "url"} <= set(second)
    code, output = run(capsys, "--conn-id", "ipaper_default", "--json")
    assert results(output)["ipaper.tree"] == {
        "id": "ipaper.tree",
        "status": "differs",
        "seen": "elements ['category']; attributes ['id', 'name']",
    }
    sandbox.forget_replay()
    assert "canonicalLink" in hook.get_publication(hook.create_publication(name="third")["id"])


def test_pruning_keeps_values_and_drops_only_unrecorded_keys():
    from lxml import etree

    from airflow_provider_flipbook.sandbox.core.replay import prune_json, prune_xml

    shape = {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "list": {"type": "array", "items": {"type": "object", "properties": {"x": {}}}},
            "empty": {"type": "array", "seen": 0},
        },
    }
    value = {"a": 1, "b": 2, "list": [{"x": 1, "y": 2}], "empty": [{"z": 1}]}
    assert prune_json(value, shape) == {"a": 1, "list": [{"x": 1}], "empty": [{"z": 1}]}
    root = etree.fromstring(b'<result><data><paper id="1" url="/a/" name="n"/></data></result>')
    prune_xml(
        root,
        {
            "tag": "result",
            "attributes": {},
            "children": {
                "data": {
                    "tag": "data",
                    "attributes": {},
                    "children": {
                        "paper": {"tag": "paper", "attributes": {"id": {}, "name": {}}, "children": {}}
                    },
                }
            },
        },
    )
    assert etree.tostring(root) == b'<result><data><paper id="1" name="n"/></data></result>'


def test_a_dropped_discussion_widget_replays(sandbox, capsys, tmp_path):
    path = tmp_path / "account.json"
    sandbox.state_store.set_options("papyrs", {"known_widgets": ["Paragraph"]})
    code, output = run(capsys, "--conn-id", "papyrs_default", "--json", "--write-test", "--record", str(path))
    assert results(output)["papyrs.discussion_widget"]["status"] == "differs"
    sandbox.state_store.reset()
    assert sandbox.state_store.options()["papyrs"]["known_widgets"] is None
    sandbox.replay(path)
    assert sandbox.state_store.options()["papyrs"]["known_widgets"] == ["Paragraph", "Heading", "Attachment"]
    code, output = run(capsys, "--conn-id", "papyrs_default", "--json", "--write-test")
    assert results(output)["papyrs.discussion_widget"]["status"] == "differs"
