"""Helpers below the hooks: files and object storage, PDF inspection, rate limiting, package unpacking."""
