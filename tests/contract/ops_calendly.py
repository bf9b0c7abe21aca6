"""Calendly API v2 operations zhub uses (https://api.calendly.com), from
Calendly's API reference (https://developer.calendly.com/api-docs, OpenAPI
at https://developer.calendly.com/openapi/calendly-api.yaml). Every call:
Authorization: Bearer <personal access token or OAuth token>.
"""
from contract import Operation, Param

DOCS = "https://developer.calendly.com/api-docs/calendly-api/"
UUID_SEGMENT = r"^[A-Za-z0-9-]+$"

SCHEDULING_LINK = {
    "type": "object",
    "required": ["max_event_count", "owner", "owner_type"],
    "properties": {
        "max_event_count": {"type": "integer", "enum": [1]},
        "owner": {"type": "string", "pattern": r"^https?://"},
        "owner_type": {"type": "string", "enum": ["EventType"]},
    },
}


def operations():
    return [
        Operation("calendly", "POST /scheduling_links", "POST", "/scheduling_links",
                  DOCS + "scheduling-links/create-scheduling-link",
                  body=("json", SCHEDULING_LINK, True)),
        Operation("calendly", "GET /scheduled_events/{uuid}", "GET", "/scheduled_events/{uuid}",
                  DOCS + "scheduled-events/get-scheduled-event", segments={"uuid": UUID_SEGMENT}),
        Operation("calendly", "GET /scheduled_events/{uuid}/invitees/{invitee_uuid}", "GET",
                  "/scheduled_events/{uuid}/invitees/{invitee_uuid}",
                  DOCS + "scheduled-events/get-event-invitee",
                  segments={"uuid": UUID_SEGMENT, "invitee_uuid": UUID_SEGMENT}),
        Operation("calendly", "GET /event_types/{uuid}", "GET", "/event_types/{uuid}",
                  DOCS + "event-types/get-event-type", segments={"uuid": UUID_SEGMENT}),
        Operation("calendly", "GET /users/me", "GET", "/users/me",
                  DOCS + "users/get-current-user"),
        Operation("calendly", "GET /webhook_subscriptions", "GET", "/webhook_subscriptions",
                  DOCS + "webhooks/list-webhook-subscriptions",
                  query={"organization": Param({"type": "string"}, required=True),
                         "scope": Param({"type": "string", "enum": ["user", "organization",
                                                                     "group"]}, required=True),
                         "user": Param(), "group": Param(), "count": Param(
                             {"type": "integer", "minimum": 1, "maximum": 100}),
                         "page_token": Param(), "sort": Param()}),
    ]
