"""Flipsnack emulator: ``/flipsnack/v1/`` and ``/flipsnack-upload/v1/``.

``/flipsnack/v1/`` takes GET with a signed query, ``/flipsnack-upload/v1/`` a multipart POST for
``collection.create``.

Every answer is HTTP 200 with ``{"code", "status"[, "data"]}`` (the vendor documents no HTTP
error statuses). Checks, in order: mandatory parameters (30), API key (41), signature (44),
rate limits per key (31: 5/s, 32: 60/min), action (42), HTTP method (40).

Items convert in ``conversion_seconds`` (option, default 2 s) + 0.1 s per page (vendor clock,
scaled by ``--speed``) and end ``complete`` or ``failed`` (not a PDF, encrypted, over 1000 pages
or 500 MB). While an item converts, ``collection.update``, ``collection.getEmbed`` and
``collection.downloadHTML`` answer code 38 "Collection is in processing state" (api-status-codes).
Publishing a collection (``collectionStatus`` public/unlisted) replaces its temporary hash with a
final one; the old hash then answers 46. ``collection.downloadHTML`` answers PROCESSING for 3 s +
0.05 s per page, then COMPLETE with a ``resourceUrl`` serving a real ZIP (index.html, one HTML page
per PDF page, the PDF) that expires after 60 s.

The signature is checked with this package's own code, written from the vendor's "How to sign a
request" page (not with the hook's). Where the documents are silent, ``options`` (``POST
/_sandbox/options``) pick the shape: ``items_key`` names the collection's item list in
getCollection answers (``items``, the default, or ``flipbooks``; the page is cut off before it);
``extra_pages`` (default 0) makes the vendor count that many pages beyond the PDF's (a cover, an
end page, as a vendor may), so its page count differs from the uploader's own; ``list_query`` says
what ``collection.getList``'s ``query`` searches (``text``, the default: title and description;
``description`` only; ``ignored``), ``list_cap`` (default none) is the most collections one
getList answers, whatever range was asked (a silent cap), and ``list_count`` what getList's
``collectionCount`` (known from peer code only) counts: ``total`` (the default: every match,
whatever the range), ``range`` (this answer's collections) or ``absent`` (left out); with
``list_items`` false (default true), getList's entries leave out the item list getCollection gives.

Modules: :mod:`.state` (collections, items, packages), :mod:`.answers` (codes, envelope, signature,
views), :mod:`.routes` (the emulator: the checks and one handler per action) and :mod:`.replay` (its
variants from a recording).
"""
