"""Hooks, one per vendor, all on the shared transport in :mod:`.base`."""
