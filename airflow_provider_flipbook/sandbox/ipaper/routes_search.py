"""iPaper's CustomField, Search, Statistics and Link services."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lxml import etree

from airflow_provider_flipbook.sandbox.core.emulator import RouteGroup
from airflow_provider_flipbook.sandbox.core.routing import route
from airflow_provider_flipbook.sandbox.ipaper.answers import Answer, ResultCode, element, in_data, success
from airflow_provider_flipbook.sandbox.ipaper.state import DATATYPES, IPaperState
from airflow_provider_flipbook.sandbox.ipaper.wire import FormParams

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date


class SearchRoutes(RouteGroup[IPaperState]):
    """``CustomField.asmx``, ``Search.asmx``, ``Statistics.asmx`` and ``Link.asmx``."""

    @route("POST", "CustomField/AddCustomField")
    def CustomField_AddCustomField(self, p: FormParams) -> Answer:
        name, kind = p.required("name"), p.required("dataType")
        if not re.fullmatch(r"[a-zA-Z0-9_]{1,128}", name):
            raise ResultCode("CUSTOMFIELD_INVALID_FIELD_NAME", "Invalid field name.")
        if kind not in DATATYPES:
            raise ResultCode("CUSTOMFIELD_INVALID_DATATYPE", "Invalid datatype.")
        if name in self.state.custom_fields:
            raise ResultCode("CUSTOMFIELD_FIELD_NAME_IS_NOT_UNIQUE", "A field with that name exists.")
        self.state.custom_fields[name] = kind
        return success()

    @route("POST", "CustomField/DeleteCustomField")
    def CustomField_DeleteCustomField(self, p: FormParams) -> Answer:
        if self.state.custom_fields.pop(p.required("name"), None) is None:
            raise ResultCode("CUSTOMFIELD_FIELD_DOES_NOT_EXIST", "No such field.")
        return success()

    @route("POST", "CustomField/GetCustomFieldDefinitions")
    def CustomField_GetCustomFieldDefinitions(self, p: FormParams) -> Answer:
        fields = element("fields")
        for name, kind in self.state.custom_fields.items():
            fields.append(element("field", name=name, datatype=kind))
        return success("", in_data(fields))

    @route("POST", "CustomField/GetCustomFieldValue")
    def CustomField_GetCustomFieldValue(self, p: FormParams) -> Answer:
        node, name = self.state.paper(p, category=False), p.required("fieldName")
        if name not in self.state.custom_fields:
            raise ResultCode("CUSTOMFIELD_FIELD_DOES_NOT_EXIST", "No such field.")
        value, shape = node["fields"].get(name, ""), self.state.options["custom_field_value"]
        if shape == "attribute":
            answer = element("field", name=name, value=value)
        elif shape == "fields":
            answer = element("fields")
            answer.append(element("field", value, name=name))
        elif shape == "value":
            answer = element("value", value)
        elif shape == "definitions":  # the page's sample, literally: the definitions, no value
            answer = element("fields")
            for field, kind in self.state.custom_fields.items():
                answer.append(element("field", name=field, datatype=kind))
        else:  # "element"
            answer = element("field", value, name=name)
        return success("", in_data(answer))

    @route("POST", "CustomField/SetCustomFieldValue")
    def CustomField_SetCustomFieldValue(self, p: FormParams) -> Answer:
        self.state.set_value(
            self.state.paper(p, category=False), p.required("fieldName"), p.required("value")
        )
        return success()

    @route("POST", "CustomField/SetMultipleCustomFieldValues")
    def CustomField_SetMultipleCustomFieldValues(self, p: FormParams) -> Answer:
        node = self.state.paper(p, category=False)
        try:
            fields = etree.fromstring(
                p.required("fieldsXml").encode(), etree.XMLParser(resolve_entities=False, no_network=True)
            )
        except etree.XMLSyntaxError:
            raise ResultCode("ERROR", "fieldsXml is not valid XML.") from None
        for field in fields.findall("field"):  # not atomic: stops at the first failure
            self.state.set_value(node, field.get("name", ""), (field.text or "").strip())
        return success()

    @route("POST", "Search/SearchPapersByContent")
    def Search_SearchPapersByContent(self, p: FormParams) -> Answer:
        query = p.required("query")[:128].lower()
        results = element("results")
        for node in self.state.below(p.int("categoryOrPaperID")):
            if not node["category"] and query in node["name"].lower():
                results.append(
                    element(
                        "result",
                        paperID=node["id"],
                        pageNumber=1,
                        paperName=node["name"],
                        paperUrl=node["url"],
                    )
                )
        return success("Search results returned.", in_data(results))

    @route("POST", "Search/SearchPapersWithHiearchyByName")
    @route("POST", "Search/SearchPapersWithHiearchyByContent")
    def _hierarchy(self, p: FormParams) -> Answer:
        query = p.required("query").lower()
        papers = element("papers")
        for node in self.state.below(p.int("categoryID")):
            if query in node["name"].lower():
                papers.append(
                    element(
                        "paper",
                        paperID=node["id"],
                        name=node["name"],
                        url=node["url"],
                        parentID=node["parent"],
                        category=str(node["category"]),
                    )
                )
        return success("Search results returned.", in_data(papers))

    @route("POST", "Search/SearchPapersByCustomFields")
    def Search_SearchPapersByCustomFields(self, p: FormParams) -> Answer:
        options = etree.fromstring(
            p.required("xmlOptions").encode(), etree.XMLParser(resolve_entities=False, no_network=True)
        )
        criteria = options.findall("customfieldcriterias/field")
        if not criteria:
            raise ResultCode("SEARCH_NO_CUSTOM_FIELD_CRITERIAS", "At least one criterion is required.")
        for c in criteria:
            if (
                c.get("usewildcards") is not None
                and self.state.custom_fields.get(c.get("name", "")) != "string"
            ):
                # "Must only be specified for string type custom fields" (even as "false")
                raise ResultCode(
                    "SEARCH_CUSTOMFIELD_DATATYPE_DOES_NOT_SUPPORT_WILDCARDS", "Wildcards need strings."
                )
        self.state.advance_jobs()
        papers = element("papers")
        for node in self.state.below(p.int("categoryID")):
            if node["category"]:
                continue
            ok = True
            for c in criteria:
                name, wanted = c.get("name", ""), c.get("value", "")
                if c.get("usewildcards") == "true":
                    pattern = "^" + ".*".join(re.escape(part) for part in wanted.split("%")) + "$"
                    ok &= re.match(pattern, node["fields"].get(name, ""), re.I) is not None
                else:
                    ok &= node["fields"].get(name) == wanted
            if ok:
                paper = element(
                    "paper",
                    id=node["id"],
                    name=node["name"],
                    url=node["url"],
                    lastprocessed=node["lastprocessed"],
                    pdffilesize=node["pdffilesize"],
                )
                fields = etree.SubElement(paper, "customfields")
                for name, kind in self.state.custom_fields.items():
                    value = node["fields"].get(name)
                    fields.append(
                        element("field", value or "", name=name, type=kind, null=str(value is None))
                    )
                papers.append(paper)
        return success("Search results returned.", in_data(papers))

    @route("POST", "Statistics/GetNumberOfPageviewsPerDay")
    def Statistics_GetNumberOfPageviewsPerDay(self, p: FormParams) -> Answer:
        return success("", in_data(self.per_day(p, "pageviews", "views", self.state.pageviews)))

    @route("POST", "Statistics/GetNumberOfVisitorsPerDay")
    def Statistics_GetNumberOfVisitorsPerDay(self, p: FormParams) -> Answer:
        return success("", in_data(self.per_day(p, "visitors", "visitors", self.state.visitors)))

    @route("POST", "Statistics/GetNumberOfVisitors")
    def Statistics_GetNumberOfVisitors(self, p: FormParams) -> Answer:
        node, days = self.state.days(p)
        return success(
            "", in_data(element("visitors", count=sum(self.state.visitors(node["id"], d) for d in days)))
        )

    def per_day(
        self, p: FormParams, tag: str, attribute: str, count: Callable[[int, date], int]
    ) -> etree._Element:
        """``<tag><day date=... attribute=.../>...</tag>`` for each day the request asks for."""
        node, days = self.state.days(p)
        counted = element(tag)
        for day in days:
            etree.SubElement(counted, "day", date=day.isoformat()).set(attribute, str(count(node["id"], day)))
        return counted

    @route("POST", "Link/GetLinks")
    def Link_GetLinks(self, p: FormParams) -> Answer:
        self.state.paper(p, category=False)
        return success("", in_data(element("root")))
