"""Deferrable triggers.

They serialize only primitives, fetch the connection with ``aget_connection``, run the hooks' own
status call in a worker thread (one copy of the vendor logic), keep a wall-clock deadline, and yield
exactly one terminal event.
"""
