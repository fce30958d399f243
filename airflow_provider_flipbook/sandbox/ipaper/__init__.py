"""iPaper Backend API emulator: ``/ipaper/V2/<Service>.asmx/<Method>`` (POST form or GET query).

A referee written from iPaper's per-method pages (``vendor-docs/ipaper``), not from the hook. By
default it answers as documented: ``<result>`` XML with the code and message in (padded) CDATA,
``Ripper.ProcessPDF`` with code and message only (no job GUID), an account root that is a category
with a non-zero id and URL ``/`` (no paper 0: that is ``PAPER_DOES_NOT_EXIST``; media directory 0
*is* documented as the root), ``usewildcards`` refused on non-string custom fields, and every
documented return code. Credentials are accepted in any of the field variants peers use
(``plUsername``/``plPassword``, ``username``/``password``, ``Username``/``Password``). ASMX
behaviour: a missing parameter or an unknown method is HTTP 500 text; an unknown service is 404;
like IIS, a POST without a ``Content-Length`` (chunked) binds no form fields.

Options (``POST /_sandbox/options {"ipaper": {...}}`` or ``flipbook-sandbox --option ipaper.X=Y``):
documented codes on demand (``readonly``: mutating methods answer READONLY;
``license_allows_processing: false``: LICENSE_DOES_NOT_ALLOW_PROCESSING), and the variants where the
documents are silent: ``job_guid`` (ProcessPDF answers ``<data><jobGuid>``, the newer API),
``root_url_lookup`` (whether GetPaperIDFromUrl finds the root at ``/``), ``page_ids`` (``fresh``:
each run gives new page ids; ``kept``: a rerun keeps them), ``appear_delay`` (vendor seconds before
a queued job shows in GetProcessingPapers), ``chunked_form`` (accept chunked form bodies),
``custom_field_value`` (GetCustomFieldValue's sample is a copy of the definitions answer: ``element``
``<field name>value</field>``, ``attribute`` ``<field name value/>``, ``fields`` the element inside
``<fields>``, ``value`` a bare ``<value>``, ``definitions`` the page's sample itself: no value);
``extra_pages`` (default 0) makes the vendor count that many pages beyond the PDF's (a cover, an
end page, as a vendor may), so its page count differs from the uploader's own.
Jobs take 2 s + 0.15 s per page on the vendor clock.

Modules: :mod:`.answers` (the ``<result>`` envelope: successes returned, error codes and ASMX faults
raised), :mod:`.wire` (the streaming form reader, parameters, ``xmlOptions``), :mod:`.state`
(papers, jobs, media, custom fields), :mod:`.routes` (the ASMX transport and the Paper service),
:mod:`.routes_processing` (Ripper and Media), :mod:`.routes_search` (CustomField, Search, Statistics,
Link), :mod:`.replay` (its variants from a recording).
"""
