"""Papyrs's answers: the documented error answer ``{"error": message, "status": status}``."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from airflow_provider_flipbook.sandbox.core.errors import SuccessRaised, VendorError


class PapyrsError(VendorError):
    """The documented error answer: ``{"error": message, "status": status}`` with that HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        if status < 400:
            raise SuccessRaised(status)
        super().__init__(message)
        self.status, self.message = status, message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message, "status": self.status}, self.status)
