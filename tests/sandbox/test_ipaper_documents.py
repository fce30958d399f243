"""The iPaper sandbox against iPaper's own documents (vendor-docs/ipaper, per-method pages and return
codes), over raw HTTP: the sample answers below are copied from those pages, and the sandbox must
answer in the same shape, with the documented codes, and refuse what the documents place elsewhere.
Nothing here imports the hooks."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from lxml import etree

SAMPLES = {  # verbatim from the documents (one typo mended: ProcessPDF's "</ code>")
    "Paper.GetAllPapers": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code><![CDATA[SUCCESS]]></code>
  <message><![CDATA[List of papers retrieved.]]></message>
  <data>
    <category id="182" name="Partner" url="/">
      <category id="173" name="Demos" url="/demos/">
        <category id="1240" name="hep23" url="/demos/hep23/" />
        <paper id="1106" name="21" url="/demos/21/" />
        <paper id="1120" name="Dot_Matrix_Range" url="/demos/Dot_Matrix_range/" publicationperiod-from="2014-05-14 01:25:00" publicationperiod-to="2014-05-29 01:35:00" />
      </category>
    </category>
  </data>
</result>""",
    "Paper.CreatePaper": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code><![CDATA[SUCCESS]]></code>
  <message><![CDATA[Paper created.]]></message>
  <data>
    <paper id="1242" />
  </data>
</result>""",
    "Paper.GetPaperIDFromUrl found": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code><![CDATA[SUCCESS]]></code>
  <message><![CDATA[Paper found.]]></message>
  <data>
    <paper id="1106" />
  </data>
</result>""",
    "Paper.GetPaperIDFromUrl not found": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code><![CDATA[SUCCESS]]></code>
  <message><![CDATA[Paper not found.]]></message>
</result>""",
    "Paper.GetPaperUrlFromID not found": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code><![CDATA[PAPER_DOES_NOT_EXIST]]></code>
  <message><![CDATA[Paper not found.]]></message>
</result>""",
    "Paper.GetPaperStructure": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code><![CDATA[SUCCESS]]></code>
  <message><![CDATA[Paper structure retrieved.]]></message>
  <data>
    <paper id="1120" name="Dot_Matrix_Range" url="/demos/Dot_Matrix_range/">
      <pages>
        <page id="58367" number="1" part-of-index="False">
          <images>
            <image file-size="300" type="Zoom" url="http://flex.frontend.dk/demos/Dot_Matrix_range/Image.ashx?PageID=58367&amp;ImageType=Zoom" />
            <image file-size="90" type="Normal" url="http://flex.frontend.dk/demos/Dot_Matrix_range/Image.ashx?PageID=58367&amp;ImageType=Normal" />
            <image file-size="6" type="Thumb" url="http://flex.frontend.dk/demos/Dot_Matrix_range/Image.ashx?PageID=58367&amp;ImageType=Thumb" />
          </images>
        </page>
        ...
      </pages>
    </paper>
  </data>
</result>""",
    "Ripper.ProcessPDF": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code><![CDATA[SUCCESS]]></code>
  <message><![CDATA[Process queued successfully.]]></message>
</result>""",
    "Ripper.GetProcessingPapers": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code><![CDATA[SUCCESS]]></code>
  <message><![CDATA[List retrieved successfully.]]></message>
  <data>
    <processes>
      <process created="2009-03-16 18:00:07" paper-id="1120" progress="0" />
    </processes>
  </data>
</result>""",
    "Search.SearchPapersByCustomFields": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code><![CDATA[SUCCESS]]></code>
  <message><![CDATA[Search results returned.]]></message>
  <data>
    <papers>
      <paper id="1120" name="Dot_Matrix_Range" url="/demos/DotMatrixRange/" lastprocessed="2009-03-15 15:27:00" pdffilesize="1357">
        <customfields>
          <field name="TestField" type="int" null="True"><![CDATA[]]></field>
          <field name="date" type="datetime" null="False"><![CDATA[2009-07-25]]></field>
        </customfields>
      </paper>
    </papers>
  </data>
</result>""",
    "Media.UploadFile": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code>
    <![CDATA[ SUCCESS ]]>
  </code>
  <message></message>
  <data>
    <fileid>1583</fileid>
  </data>
</result>""",
    "CustomField.GetCustomFieldDefinitions": """<?xml version="1.0" encoding="utf-8"?>
<result>
  <code><![CDATA[SUCCESS]]></code>
  <message><![CDATA[Custom fields retrieved.]]></message>
  <data>
    <fields>
      <field name="date" datatype="datetime" />
      <field name="FieldName" datatype="string" />
      <field name="TestField" datatype="int" />
    </fields>
  </data>
</result>""",
}


def shape(document: str | bytes) -> tuple[str, set[tuple[str, str, frozenset[str]]]]:
    """The code and every (element, parent, attribute names) of an answer: what a client reads."""
    root = etree.fromstring(document.encode() if isinstance(document, str) else document)
    assert root.tag == "result"
    return root.findtext("code").strip(), {
        (e.tag, e.getparent().tag, frozenset(e.keys()))
        for e in root.iter()
        if e.getparent() is not None and e.getparent().tag != "result" or e.tag == "data"
    }


def ip(sandbox, method, **form):
    creds = sandbox.state_store.credentials
    service, _, name = method.partition(".")
    return requests.post(
        f"{sandbox.url}/ipaper/V2/{service}.asmx/{name}",
        data={"plUsername": "APIKey", "plPassword": creds.ipaper_api_key, **form},
        timeout=30,
    )


def attr(answer: requests.Response, path: str) -> str:
    return etree.fromstring(answer.content).xpath(f"string({path})")


def processed_paper(sandbox, samples, url_name: str) -> str:
    paper = attr(
        ip(sandbox, "Paper.CreatePaper", parentID="182", name=url_name, urlName=url_name), "data/paper/@id"
    )
    pdf = base64.b64encode(samples["small"].read_bytes()).decode()
    assert (
        "SUCCESS"
        in ip(sandbox, "Ripper.ProcessPDF", paperID=paper, xmlOptions="<options/>", base64Pdf=pdf).text
    )
    deadline = time.monotonic() + 10
    while "<process " in ip(sandbox, "Ripper.GetProcessingPapers").text and time.monotonic() < deadline:
        time.sleep(0.1)
    return paper


def test_the_ipaper_sandbox_imports_nothing_from_the_hooks_operators_sensors_or_triggers():
    code = (
        "import sys, airflow_provider_flipbook.sandbox.ipaper.routes, airflow_provider_flipbook.sandbox.ipaper.wire; "
        "print([m for m in sys.modules if m.split('.')[1:2] in (['hooks'], ['operators'], ['sensors'], "
        "['triggers']) and m.startswith('airflow_provider_flipbook.')])"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "[]"
    )


def test_ipaper_paper_answers_have_the_documented_shapes(sandbox):
    tree = ip(sandbox, "Paper.GetAllPapers", paperID="182")
    assert shape(tree.content) == (
        "SUCCESS",
        {("data", "result", frozenset()), ("category", "data", frozenset({"id", "name", "url"}))},
    )
    assert attr(tree, "data/category/@url") == "/" and attr(tree, "data/category/@id") == "182"
    demos = ip(sandbox, "Paper.CreateCategory", paperID="182", name="Demos", urlName="demos")
    assert shape(demos.content) == shape(SAMPLES["Paper.CreatePaper"])
    demos_id = attr(demos, "data/paper/@id")
    ip(sandbox, "Paper.CreateCategory", paperID=demos_id, name="hep23", urlName="hep23")
    created = ip(sandbox, "Paper.CreatePaper", parentID=demos_id, name="21", urlName="21")
    assert shape(created.content) == shape(SAMPLES["Paper.CreatePaper"])
    dated = attr(
        ip(sandbox, "Paper.CreatePaper", parentID=demos_id, name="Dot", urlName="dot"), "data/paper/@id"
    )
    ip(
        sandbox,
        "Paper.SetPublicationPeriod",
        paperID=dated,
        **{"from": "2014-05-14 01:25:00", "to": "2014-05-29 01:35:00"},
    )
    assert shape(ip(sandbox, "Paper.GetAllPapers", paperID="182").content) == shape(
        SAMPLES["Paper.GetAllPapers"]
    )
    found = ip(sandbox, "Paper.GetPaperIDFromUrl", url="/demos/21/")
    assert shape(found.content) == shape(SAMPLES["Paper.GetPaperIDFromUrl found"])
    missing = ip(sandbox, "Paper.GetPaperIDFromUrl", url="/nowhere/")
    assert shape(missing.content) == shape(SAMPLES["Paper.GetPaperIDFromUrl not found"])
    gone = ip(sandbox, "Paper.GetPaperUrlFromID", paperID="424242")
    assert shape(gone.content) == shape(SAMPLES["Paper.GetPaperUrlFromID not found"])


def test_ipaper_ripper_answers_have_the_documented_shapes(sandbox, samples):
    paper = attr(
        ip(sandbox, "Paper.CreatePaper", parentID="182", name="Job", urlName="job"), "data/paper/@id"
    )
    pdf = base64.b64encode(samples["small"].read_bytes()).decode()
    queued = ip(sandbox, "Ripper.ProcessPDF", paperID=paper, xmlOptions="<options/>", base64Pdf=pdf)
    assert shape(queued.content) == shape(SAMPLES["Ripper.ProcessPDF"])  # no job GUID
    listed = ip(sandbox, "Ripper.GetProcessingPapers")
    assert shape(listed.content) == shape(SAMPLES["Ripper.GetProcessingPapers"])
    assert attr(listed, "data/processes/process/@paper-id") == paper
    deadline = time.monotonic() + 10
    while "<process " in ip(sandbox, "Ripper.GetProcessingPapers").text and time.monotonic() < deadline:
        time.sleep(0.1)
    structure = ip(sandbox, "Paper.GetPaperStructure", paperID=paper, includeIndexedText="false")
    assert shape(structure.content) == shape(SAMPLES["Paper.GetPaperStructure"])


def test_ipaper_search_media_and_field_answers_have_the_documented_shapes(sandbox, samples):
    paper = processed_paper(sandbox, samples, "dotmatrix")
    for name, kind in (("date", "datetime"), ("FieldName", "string"), ("TestField", "int")):
        assert "SUCCESS" in ip(sandbox, "CustomField.AddCustomField", name=name, dataType=kind).text
    assert shape(ip(sandbox, "CustomField.GetCustomFieldDefinitions").content) == shape(
        SAMPLES["CustomField.GetCustomFieldDefinitions"]
    )
    ip(sandbox, "CustomField.SetCustomFieldValue", paperID=paper, fieldName="date", value="2009-07-25")
    options = (
        '<options><customfieldcriterias><field name="date" value="2009-07-25" /></customfieldcriterias>'
        '<includedcustomfields><field name="TestField" /></includedcustomfields></options>'
    )
    found = ip(sandbox, "Search.SearchPapersByCustomFields", categoryID="182", xmlOptions=options)
    documented = shape(SAMPLES["Search.SearchPapersByCustomFields"])
    code, seen = shape(found.content)
    assert code == "SUCCESS" and seen >= documented[1]
    upload = ip(
        sandbox,
        "Media.UploadFile",
        parentID="0",
        name="a.pdf",  # 0: the documented media root
        base64File=base64.b64encode(b"%PDF-1.4 tiny").decode(),
    )
    assert shape(upload.content) == shape(SAMPLES["Media.UploadFile"])


def test_ipaper_refuses_what_the_documents_refuse(sandbox):
    assert attr(ip(sandbox, "Paper.GetAllPapers", paperID="0"), "code").strip() == "PAPER_DOES_NOT_EXIST"
    ip(sandbox, "CustomField.AddCustomField", name="Year", dataType="int")
    for wildcard in ("true", "false"):  # "Must only be specified for string type custom fields"
        options = (
            f'<options><customfieldcriterias><field name="Year" usewildcards="{wildcard}" value="2026" />'
            "</customfieldcriterias></options>"
        )
        refused = ip(sandbox, "Search.SearchPapersByCustomFields", categoryID="182", xmlOptions=options)
        assert attr(refused, "code").strip() == "SEARCH_CUSTOMFIELD_DATATYPE_DOES_NOT_SUPPORT_WILDCARDS"
    empty = ip(sandbox, "Search.SearchPapersByCustomFields", categoryID="182", xmlOptions="<options />")
    assert attr(empty, "code").strip() == "SEARCH_NO_CUSTOM_FIELD_CRITERIAS"


def test_ipaper_readonly_blocks_writes_only_and_the_license_blocks_processing(sandbox, samples):
    sandbox.state_store.vendors["ipaper"].options.update(readonly=True)
    assert (
        attr(ip(sandbox, "Paper.CreatePaper", parentID="182", name="x", urlName="x"), "code").strip()
        == "READONLY"
    )
    assert attr(ip(sandbox, "Paper.GetAllPapers", paperID="182"), "code").strip() == "SUCCESS"
    sandbox.state_store.vendors["ipaper"].options.update(readonly=False, license_allows_processing=False)
    paper = attr(ip(sandbox, "Paper.CreatePaper", parentID="182", name="x", urlName="x"), "data/paper/@id")
    pdf = base64.b64encode(samples["small"].read_bytes()).decode()
    refused = ip(sandbox, "Ripper.ProcessPDF", paperID=paper, xmlOptions="<options/>", base64Pdf=pdf)
    assert attr(refused, "code").strip() == "LICENSE_DOES_NOT_ALLOW_PROCESSING"


def test_ipaper_binds_no_form_from_a_chunked_body_unless_told_to(sandbox):
    creds = sandbox.state_store.credentials
    url = f"{sandbox.url}/ipaper/V2/Paper.asmx/GetAllPapers"
    body = f"plUsername=APIKey&plPassword={creds.ipaper_api_key}&paperID=182".encode()
    chunked = requests.post(
        url,
        data=iter([body]),
        timeout=10,  # a generator: Transfer-Encoding: chunked
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 500 and "Content-Length" in chunked.text
    sandbox.state_store.vendors["ipaper"].options.update(chunked_form=True)
    assert (
        "SUCCESS"
        in requests.post(
            url, data=iter([body]), timeout=10, headers={"Content-Type": "application/x-www-form-urlencoded"}
        ).text
    )


@pytest.mark.parametrize(
    "variant, expected",
    [
        ({"job_guid": True}, "jobGuid"),
        ({"root_url_lookup": False}, "not found"),
    ],
)
def test_ipaper_variants_switch_through_the_control_api(sandbox, samples, variant, expected):
    answer = requests.post(f"{sandbox.url}/_sandbox/options", json={"ipaper": variant}, timeout=5).json()
    assert answer["ipaper"].items() >= variant.items()
    if "job_guid" in variant:
        paper = attr(
            ip(sandbox, "Paper.CreatePaper", parentID="182", name="G", urlName="g"), "data/paper/@id"
        )
        pdf = base64.b64encode(samples["small"].read_bytes()).decode()
        text = ip(sandbox, "Ripper.ProcessPDF", paperID=paper, xmlOptions="<options/>", base64Pdf=pdf).text
    else:
        text = ip(sandbox, "Paper.GetPaperIDFromUrl", url="/").text
    assert expected in text


def test_the_cli_sets_vendor_options():
    cli = Path(sys.executable).parent / "flipbook-sandbox"
    bad = subprocess.run([str(cli), "--option", "ipaper.nope=1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "job_guid" in bad.stderr
    process = subprocess.Popen(
        [str(cli), "--port", "0", "--option", "ipaper.job_guid=true", "--option", "ipaper.page_ids=kept"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline().strip() for _ in range(4)]
        host = json.loads(lines[2].split("=", 1)[1].strip("'"))["host"].rsplit("/", 1)[0]
        deadline = time.monotonic() + 20
        while True:
            try:
                options = requests.post(f"{host}/_sandbox/options", json={}, timeout=1).json()["ipaper"]
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert options["job_guid"] is True and options["page_ids"] == "kept"
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0
