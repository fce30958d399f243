"""Shared parts of the four emulators, each written once.

The sandbox state (clock, credentials, ids, request log, storage), fault injection, the referee's rate
counters, the vendor error base, PDF inspection, route declarations and the
:class:`~.emulator.VendorEmulator` base.
"""
