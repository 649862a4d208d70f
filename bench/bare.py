"""The baseline for the RSVP benchmark: a bare FastAPI endpoint under the same server."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()

PAGE = "<!doctype html><title>bare</title><p>" + "Roundtable " * 50 + "</p>"


@app.get("/bare")
def bare() -> HTMLResponse:
    return HTMLResponse(PAGE)
