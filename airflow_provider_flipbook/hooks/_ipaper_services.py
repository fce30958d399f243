"""iPaper's Media, CustomField, Search and Statistics services.

The hook's calls beyond papers and processing (mixed into
:class:`~airflow_provider_flipbook.hooks.ipaper.IPaperHook`, which owns the transport and the Paper
and Ripper services).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, BinaryIO

from lxml import etree

from airflow_provider_flipbook.exceptions import InvalidInputError, MalformedResponseError
from airflow_provider_flipbook.hooks._ipaper_wire import form_value, period

if TYPE_CHECKING:
    from collections.abc import Callable


class IPaperServices:
    """Media, CustomField, Search and Statistics calls, on the hook's ``call``."""

    if TYPE_CHECKING:  # what these calls use of IPaperHook
        create_once: Any

        @property
        def root_paper_id(self) -> int: ...

        def call(
            self,
            method: str,
            *,
            stream_field: tuple[str, Callable[[], BinaryIO]] | None = None,
            creates: bool = False,
            **params: Any,
        ) -> etree._Element: ...

        def unrecognised(
            self, method: str, node: etree._Element, expected: str
        ) -> MalformedResponseError: ...

        def _items(self, data: etree._Element, path: str, method: str) -> list[Any]: ...

        def _int_at(self, data: etree._Element, path: str, method: str) -> int: ...

    def get_media_tree(self) -> etree._Element:
        """``Media.GetTree``: the media directories and files, as the ``<data>`` element."""
        return self.call("Media.GetTree")

    def create_media_directory(self, parent_id: int, name: str) -> int:
        """Create a directory ``name`` under ``parent_id`` (0 = the media root), once.

        Once also when the answer is lost (the directories of that name under the parent listed before
        are not ours).

        :param parent_id: the parent directory (0: the media root).
        :param name: the directory's name.
        """

        def named() -> list[int]:
            tree = self.get_media_tree()
            parent = (
                tree
                if parent_id == 0
                else next(iter(tree.xpath(f".//directory[@directoryid='{int(parent_id)}']")), None)
            )
            if parent is None:
                return []
            return [int(d.get("directoryid")) for d in parent.xpath("directory") if d.get("name") == name]

        return self.create_once(
            "Media.CreateDirectory",
            lambda: self._int_at(
                self.call("Media.CreateDirectory", parentID=parent_id, name=name, creates=True),
                "directoryid",
                "Media.CreateDirectory",
            ),
            lookup=named,
            identity=lambda directory_id: directory_id,
            adopt=lambda found: found[0],
            describe=f"media directory {name!r} in directory {parent_id}",
        )

    def delete_media_directory(self, directory_id: int) -> None:
        """``Media.DeleteDirectory``.

        :param directory_id: the directory.
        """
        self.call("Media.DeleteDirectory", directoryID=directory_id)

    def upload_media_file(self, parent_id: int, name: str, open_file: Callable[[], BinaryIO]) -> int:
        """Upserts by name (the vendor overwrites a file of the same name).

        :param parent_id: the directory.
        :param name: the file's name.
        :param open_file: opens the file (called per pass: counted, then sent).
        """
        data = self.call(
            "Media.UploadFile", parentID=parent_id, name=name, stream_field=("base64File", open_file)
        )
        return self._int_at(data, "fileid", "Media.UploadFile")

    def delete_media_file(self, file_id: int) -> None:
        """``Media.DeleteFile``.

        :param file_id: the file.
        """
        self.call("Media.DeleteFile", fileID=file_id)

    def add_custom_field(self, name: str, data_type: str) -> None:
        """``CustomField.AddCustomField``.

        :param name: the field's name.
        :param data_type: ``string``, ``int``, ``datetime``... as iPaper names them.
        """
        self.call("CustomField.AddCustomField", name=name, dataType=data_type)

    def delete_custom_field(self, name: str) -> None:
        """``CustomField.DeleteCustomField``.

        :param name: the field's name.
        """
        self.call("CustomField.DeleteCustomField", name=name)

    def get_custom_field_definitions(self) -> dict[str, str]:
        """``CustomField.GetCustomFieldDefinitions``: each field's name and data type."""
        data = self.call("CustomField.GetCustomFieldDefinitions")
        fields = self._items(data, "fields/field", "CustomField.GetCustomFieldDefinitions")
        return {f.get("name"): f.get("datatype") for f in fields}

    def get_custom_field_value(self, paper_id: int, field_name: str) -> str:
        """Return the field's value as text.

        The document's sample answer is a copy of the definitions answer, so every plausible shape is
        read: ``<field name="...">value</field>`` (alone or in ``<fields>``), the value in a ``value``
        attribute, a ``<value>`` element, or the bare text of ``<data>``; no ``<data>`` is no value.
        Anything else (a list of definitions, another field) fails at once.

        :param paper_id: the paper.
        :param field_name: the field.
        """
        method = "CustomField.GetCustomFieldValue"
        data = self.call("CustomField.GetCustomFieldValue", paperID=paper_id, fieldName=field_name)
        if data.tag != "data":
            return ""
        if not len(data):
            return (data.text or "").strip()
        fields, values = data.xpath(".//field"), data.xpath("value")
        field = fields[0] if len(fields) == 1 and fields[0].get("name") == field_name else None
        if field is not None and not len(field):
            value = field.get("value") if field.get("value") is not None else (field.text or "").strip()
            if value or field.get("datatype") is None:  # an empty field with a datatype: a definition
                return value.strip()
        if not fields and len(values) == 1 and len(data) == 1:
            return (values[0].text or "").strip()
        raise self.unrecognised(method, data, f"one field named {field_name!r} with its value")

    def set_custom_field_value(self, paper_id: int, field_name: str, value: Any) -> None:
        """``CustomField.SetCustomFieldValue``.

        :param paper_id: the paper.
        :param field_name: the field.
        :param value: its value (booleans sent as ``true``/``false``).
        """
        self.call("CustomField.SetCustomFieldValue", paperID=paper_id, fieldName=field_name, value=value)

    def set_custom_field_values(self, paper_id: int, values: dict[str, Any]) -> None:
        """Not atomic on the vendor side: applied in order, stops at the first failure.

        :param paper_id: the paper.
        :param values: field name -> value.
        """
        fields = etree.Element("fields")
        for name, value in values.items():
            etree.SubElement(fields, "field", name=name).text = form_value(value)
        self.call(
            "CustomField.SetMultipleCustomFieldValues",
            paperID=paper_id,
            fieldsXml=etree.tostring(fields, encoding="unicode"),
        )

    def search_by_content(self, query: str, category_or_paper_id: int | None = None) -> list[dict[str, str]]:
        """Default scope: the account's root.

        :param query: the text to search (at most 128 characters).
        :param category_or_paper_id: where to search, recursively.
        """
        data = self.call(
            "Search.SearchPapersByContent",
            query=query,
            xmlOptions="<options />",
            categoryOrPaperID=self.root_paper_id if category_or_paper_id is None else category_or_paper_id,
        )
        return [
            dict(node.attrib) for node in self._items(data, "results/result", "Search.SearchPapersByContent")
        ]

    def search_by_name(self, query: str, category_id: int | None = None) -> list[dict[str, str]]:
        """Default scope: the account's root.

        :param query: the text to search in names (at most 128 characters).
        :param category_id: where to search, recursively.
        """
        data = self.call(
            "Search.SearchPapersWithHiearchyByName",
            query=query,
            xmlOptions="<options />",
            categoryID=self.root_paper_id if category_id is None else category_id,
        )
        return [
            dict(node.attrib)
            for node in self._items(data, "papers/paper", "Search.SearchPapersWithHiearchyByName")
        ]

    def search_by_custom_fields(
        self, category_id: int | None, criteria: dict[str, str]
    ) -> list[dict[str, Any]]:
        """``%`` in a value is a wildcard; the documents allow ``usewildcards`` on string fields only.

        :param category_id: where to search (None: the account's root).
        :param criteria: field name -> value (``%`` a wildcard, on string fields only).
        """
        if not criteria:
            raise InvalidInputError(
                "search_by_custom_fields needs at least one criterion (iPaper requires one)"
            )
        wildcards = {name for name, value in criteria.items() if "%" in str(value)}
        if wildcards:
            types = self.get_custom_field_definitions()
            wrong = sorted(
                f"{name} ({types.get(name) or 'not defined'})"
                for name in wildcards
                if types.get(name) != "string"
            )
            if wrong:
                raise InvalidInputError(
                    f"'%' wildcards work on string custom fields only: {', '.join(wrong)}"
                )
        options = etree.Element("options")
        crit = etree.SubElement(options, "customfieldcriterias")
        for name, value in criteria.items():
            field = etree.SubElement(crit, "field", name=name)
            if name in wildcards:
                field.set("usewildcards", "true")
            field.set("value", form_value(value))
        etree.SubElement(options, "includedcustomfields", includeall="true")
        data = self.call(
            "Search.SearchPapersByCustomFields",
            categoryID=self.root_paper_id if category_id is None else category_id,
            xmlOptions=etree.tostring(options, encoding="unicode"),
        )
        return [
            {
                **dict(p.attrib),
                "customfields": {
                    f.get("name"): (f.text or "").strip() for f in p.xpath("customfields/field")
                },
            }
            for p in self._items(data, "papers/paper", "Search.SearchPapersByCustomFields")
        ]

    def get_pageviews_per_day(self, paper_id: int, start: str, end: str) -> dict[str, int]:
        """``Statistics.GetNumberOfPageviewsPerDay``: page views by day.

        :param paper_id: the paper.
        :param start: the first day, ``YYYY-MM-DD``.
        :param end: the last day, ``YYYY-MM-DD``.
        """
        data = self.call("Statistics.GetNumberOfPageviewsPerDay", paperID=paper_id, **period(start, end))
        days = self._items(data, "pageviews/day", "Statistics.GetNumberOfPageviewsPerDay")
        return {d.get("date"): int(d.get("views", 0)) for d in days}

    def get_visitors_per_day(self, paper_id: int, start: str, end: str) -> dict[str, int]:
        """``Statistics.GetNumberOfVisitorsPerDay``: visitors (sessions) by day.

        :param paper_id: the paper.
        :param start: the first day, ``YYYY-MM-DD``.
        :param end: the last day, ``YYYY-MM-DD``.
        """
        data = self.call("Statistics.GetNumberOfVisitorsPerDay", paperID=paper_id, **period(start, end))
        days = self._items(data, "visitors/day", "Statistics.GetNumberOfVisitorsPerDay")
        return {d.get("date"): int(d.get("visitors", 0)) for d in days}

    def get_visitors(self, paper_id: int, start: str, end: str) -> int:
        """``Statistics.GetNumberOfVisitors``: visitors (sessions) in the period.

        :param paper_id: the paper.
        :param start: the first day, ``YYYY-MM-DD``.
        :param end: the last day, ``YYYY-MM-DD``.
        """
        data = self.call("Statistics.GetNumberOfVisitors", paperID=paper_id, **period(start, end))
        return self._int_at(data, "visitors/@count", "Statistics.GetNumberOfVisitors")
