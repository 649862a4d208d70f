"""Property tests of the API against its own OpenAPI document (schemathesis).

Every operation gets generated requests with a valid organizer's token, on a
database holding a realistic event the organizer manages; no answer may be a
server error, and every answer must match the documented status codes, content
type and schema.
"""

from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine

from roundtable.web.app import create_app
from tests.staff.staff_support import add_member, seed_mix, token_for

ORGANIZER = "org@un.example.org"
SLUG = "inter-ethnic-city"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_api_keeps_to_its_schema(sqlite_engine: Engine) -> None:
    seeded = seed_mix(SLUG, count=12)
    add_member(ORGANIZER, "organizer", events=(seeded.event_id,))
    token = {"Authorization": f"Bearer {token_for(ORGANIZER)}"}
    started = time.monotonic()
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) == 24

    for operation in operations:

        @given(case=operation.as_strategy(), on_the_real_event=st.booleans())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_to_the_schema(case: schemathesis.Case, on_the_real_event: bool) -> None:
            # Random slugs mostly miss; half the cases aim at the event that exists.
            if on_the_real_event and case.path_parameters and "slug" in case.path_parameters:
                case.path_parameters["slug"] = SLUG
            case.call_and_validate(headers=token, checks=CHECKS)

        keeps_to_the_schema()
    assert time.monotonic() - started < 60, "kept short enough to run in every make test"


def test_every_model_and_operation_is_documented(sqlite_engine: Engine) -> None:
    document = create_app().openapi()
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert {(path, method) for path, method, _ in operations} == {
        ("/api/v1/events", "get"),
        ("/api/v1/events", "post"),
        ("/api/v1/events/{slug}", "get"),
        ("/api/v1/events/{slug}", "put"),
        ("/api/v1/events/{slug}/invitees", "get"),
        ("/api/v1/events/{slug}/invitees", "post"),
        ("/api/v1/events/{slug}/invitees/{email}", "patch"),
        ("/api/v1/events/{slug}/invitees/{email}", "delete"),
        ("/api/v1/events/{slug}/invitees/{email}/replies", "get"),
        ("/api/v1/events/{slug}/invitations/send", "post"),
        ("/api/v1/events/{slug}/replies", "post"),
        ("/api/v1/events/{slug}/report", "get"),
        ("/api/v1/events/{slug}/messages", "get"),
        ("/api/v1/events/{slug}/messages", "post"),
        ("/api/v1/events/{slug}/nudge", "post"),
        ("/api/v1/events/{slug}/cancel", "post"),
        ("/api/v1/events/{slug}/recommendations", "post"),
        ("/api/v1/events/{slug}/invitees.csv", "get"),
        ("/api/v1/events/{slug}/invitees.xlsx", "get"),
        ("/api/v1/messages/{message_id}/resend", "post"),
        ("/api/v1/events/{slug}/invitees/{email}/checkin", "post"),
        ("/api/v1/events/{slug}/invitees/{email}/checkin", "delete"),
        ("/api/v1/events/{slug}/badges.pdf", "get"),
        ("/api/v1/events/{slug}/place-cards.pdf", "get"),
    }
    for path, method, operation in operations:
        assert operation.get("summary") and operation.get("description"), (path, method)
        assert {"401", "403", "404", "422"} <= set(operation["responses"]), (path, method)
        assert operation["security"] == [{"HTTPBearer": []}], (path, method)
    for name, model in document["components"]["schemas"].items():
        assert model.get("description"), name
    assert document["components"]["schemas"]["EventDocument"]["examples"]
