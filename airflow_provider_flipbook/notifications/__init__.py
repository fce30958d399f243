"""Notifiers that report to a vendor, one module per vendor (``notifications/<conn type>.py``)."""
