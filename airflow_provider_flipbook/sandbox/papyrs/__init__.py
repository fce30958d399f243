"""Papyrs emulator: ``/papyrs/api/v1/...`` (site-wide) and ``/papyrs/@<subsite>/api/v1/...``.

Auth: ``X-Auth-Token`` (or the legacy ``?auth_token=``); missing or wrong answers 403. Errors use
the documented ``{"error": ..., "status": ...}`` body. Rate limit: 6 requests per 60 s per token
(HTTP 429 with ``Retry-After``; the vendor documents the 429 and its error field, the header is
our choice). Subsite-scoped calls made on the site-wide URL act on ``@home``.

Paragraph/heading widgets take the documented body ``{"widget": {"val": ...}}``; their options
``format``, ``styleclass`` and ``heading`` are read from the request URL only, as the document
places them; in the body, or with a value the document does not list, they answer 400 (the
document's "wrong or missing parameter"). Markdown (``page/<id>/markdown/create/``) takes the same body (the only documented body
shape) and is rendered with markdown-it (tables on): every heading becomes a Heading widget (``#``
= h1 ... ``####``+ = h4), the blocks between them one Paragraph widget; any other body answers 400.
A widget update gets a new id and ``version_of_id``, and loses its ``styleclass`` unless it is
sent again.

Where the document is silent, ``options`` (``POST /_sandbox/options``) pick the shape:
``failure_status`` is the HTTP status of a people call's documented ``{"success": false, "error"}``
answer (400 by default, or 200); ``page_folder_field`` is the ``pages/create`` field that puts a page in
a folder (``category``, the folder path, as peers send it, by default; ``folder_id``, the name
``pages/copy`` documents; ``none``: no field is honoured and every page lands in the main folder);
``known_widgets`` (a list of classnames, default any) drops other widget kinds from a new page's
``json``, as a vendor would that does not know the spec (the Discussion widget's is undocumented).
``feed/post`` needs a Discussion widget on the page, as the vendor says.

Modules: :mod:`.state` (subsites, pages, widgets, files, people, folders), :mod:`.answers` (the error
answer), :mod:`.routes` (the emulator: the transport, search, people, folders, feed, subsites),
:mod:`.routes_pages` (page, widget and attachment routes), :mod:`.markdown` (the markdown-to-widgets
renderer) and :mod:`.replay` (its variants from a recording).
"""
