"""FlippingBook Online emulator: ``/flippingbook/api/v1/...``.

Errors use the README's nested envelope ``{"success": false, "error": {"wellKnownError", "message"}}``
with HTTP 4xx/5xx (``ObjectNotFound`` as 404). Rate limit per key: a burst of 10, then 1/s. As the
vendor's README says, an excess request is delayed (by up to about one scaled second) rather than
rejected; beyond that, or always with ``rate_limit_mode="reject"``, it gets HTTP 429
``RateLimitExceeded`` (no Retry-After: the vendor documents none). Requests over 1 MB get 413
``InvalidData``.

Sources convert on the vendor's clock (scaled by ``--speed``): WaitAutoQueue 1 s, Queued 2 s,
Completed/Preview 2 s + 0.02 s per page (progress 0..1), Completed/L1 0.2 s per page (progress =
pages done), then CompletedAllStages. A file that is not a PDF, is encrypted, has more than 2000
pages or 500 MB, or has XFA forms ("does not contain XFA (forms)", the Source entity), ends in
CompletedWithErrors, and a failed first source deletes its publication.

Tracked links answer ``urlName`` and no full URL, as documented; a publication on a custom domain
(``custom_domains``) has its canonical URL on that domain. ``onNotOpenedUntil`` must be an ISO 8601
date-time string (the pages' description; their type column says boolean): anything else is 400
``InvalidData``.

Where the documents are silent, ``options`` (``POST /_sandbox/options``) pick the shape:
``created_source_errors`` says when a bad first source is reported: ``later`` (the default: the
source is accepted and ends CompletedWithErrors) or ``report`` (at once, in ``createdSource`` with
``success: false``, or as the error of ``POST .../source``); ``link_url`` (default false) adds a
full ``url`` to tracked links, as some accounts may see; ``progress_key`` names a source's progress
field: ``Progress`` (the default: so the source page writes it, against its own camelCase) or
``progress``; ``extra_pages`` (default 0) makes the vendor count that many pages beyond the PDF's (a cover, an
end page, as a vendor may), so its page count differs from the uploader's own. ``list_order``: the
publication list's order, which its page does not document: ``created`` (the default: oldest first;
a deletion moves the later ones one place forward), ``newest`` (newest first: a creation moves every
one a place back) or ``modified`` (the last modified first: a conversion's end moves its publication
to the front, so it can leave a page not yet read for one already read).

Modules: :mod:`.state` (publications, sources and their conversion, links, triggers), :mod:`.answers`
(the error envelope and the views), :mod:`.routes` (the emulator: the transport and the account,
publication, source and folder routes), :mod:`.routes_links` (tracked-link routes),
:mod:`.routes_triggers` (trigger and legacy webhook registrations), :mod:`.routes_reader` (the viewer,
tracked-link redirect, lead form and Print button),
:mod:`.webhooks` (trigger calls: see there for the ``webhook_*`` options), :mod:`.replay` (its variants
from a recording).
"""
