"""Microsoft Graph v1.0 operations zhub uses, from the Graph reference
(github:microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0,
published at https://learn.microsoft.com/graph/api/...; stored versions read:
api/calendar-getschedule.md @0062dd88, api/subscription-post-subscriptions.md
@028e5429, api/subscription-update.md @01784a99, resources/subscription.md
@00181c0b, resources/event.md @02eb1a31 (transactionId from the current
page)) and the identity platform's client-credentials token request
(https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
"Get a token", first case). Paths are relative to https://graph.microsoft.com/v1.0.

Calls: Authorization: Bearer <token>; JSON bodies with Content-Type
application/json. event is an open type (its JSON representation says
"openType": true), so only the documented properties' types are checked;
subscription, dateTimeTimeZone and the getSchedule parameters are closed.
"""
from contract import Operation, Param

LEARN = "https://learn.microsoft.com/graph/api/"
TOKEN_DOC = ("https://learn.microsoft.com/entra/identity-platform/"
             "v2-oauth2-client-creds-grant-flow#first-case-access-token-request-with-a-shared-secret")
# "The directory tenant the application plans to operate against, in GUID
# or domain-name format": not common / organizations / consumers.
TENANT = (r"^(?!(common|organizations|consumers)$)"
          r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
          r"|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")

DATE_TIME_TZ = {"type": "object", "required": ["dateTime", "timeZone"],
                "additionalProperties": False,
                "properties": {"dateTime": {"type": "string",
                                            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"},
                               "timeZone": {"type": "string", "minLength": 1}}}
GET_SCHEDULE = {"type": "object", "additionalProperties": False,
                "required": ["schedules", "startTime", "endTime"],
                "properties": {"schedules": {"type": "array", "minItems": 1,
                                             "items": {"type": "string"}},
                               "startTime": DATE_TIME_TZ, "endTime": DATE_TIME_TZ,
                               "availabilityViewInterval": {"type": "integer", "minimum": 5,
                                                            "maximum": 1440}}}
ITEM_BODY = {"type": "object", "properties": {
    "contentType": {"type": "string", "pattern": r"(?i)^(text|html)$"},
    "content": {"type": "string"}}}
LOCATION = {"type": "object", "properties": {"displayName": {"type": "string"},
                                             "locationEmailAddress": {"type": "string"},
                                             "locationUri": {"type": "string"}}}
ATTENDEE = {"type": "object", "properties": {
    "emailAddress": {"type": "object", "properties": {"address": {"type": "string"},
                                                      "name": {"type": "string"}}},
    "type": {"type": "string", "enum": ["required", "optional", "resource"]}}}
EVENT = {"type": "object", "properties": {
    "allowNewTimeProposals": {"type": "boolean"}, "attendees": {"type": "array",
                                                                "items": ATTENDEE},
    "body": ITEM_BODY, "categories": {"type": "array", "items": {"type": "string"}},
    "end": DATE_TIME_TZ, "start": DATE_TIME_TZ,
    "importance": {"type": "string", "enum": ["low", "normal", "high"]},
    "isAllDay": {"type": "boolean"}, "isOnlineMeeting": {"type": "boolean"},
    "isReminderOn": {"type": "boolean"}, "location": LOCATION,
    "locations": {"type": "array", "items": LOCATION},
    "reminderMinutesBeforeStart": {"type": "integer", "format": "int32"},
    "responseRequested": {"type": "boolean"},
    "sensitivity": {"type": "string", "enum": ["normal", "personal", "private", "confidential"]},
    "showAs": {"type": "string", "enum": ["free", "tentative", "busy", "oof",
                                          "workingElsewhere", "unknown"]},
    "subject": {"type": "string"}, "transactionId": {"type": "string"}}}
SUBSCRIPTION_PROPERTIES = {
    "changeType": {"type": "string", "pattern": r"^(created|updated|deleted)(,(created|updated|deleted))*$"},
    "clientState": {"type": "string", "maxLength": 128},
    "encryptionCertificate": {"type": "string"}, "encryptionCertificateId": {"type": "string"},
    "expirationDateTime": {"type": "string", "format": "date-time"},
    "includeResourceData": {"type": "boolean"},
    "latestSupportedTlsVersion": {"type": "string", "enum": ["v1_0", "v1_1", "v1_2", "v1_3"]},
    "lifecycleNotificationUrl": {"type": "string"}, "notificationQueryOptions": {"type": "string"},
    "notificationUrl": {"type": "string"}, "notificationUrlAppId": {"type": "string"},
    "resource": {"type": "string"}}
SUBSCRIPTION_CREATE = {"type": "object", "additionalProperties": False,
                       "required": ["changeType", "notificationUrl", "resource",
                                    "expirationDateTime"],
                       "properties": SUBSCRIPTION_PROPERTIES}
SUBSCRIPTION_UPDATE = {"type": "object", "additionalProperties": False,
                       "required": ["expirationDateTime"],
                       "properties": {"expirationDateTime": SUBSCRIPTION_PROPERTIES[
                           "expirationDateTime"],
                                      "notificationUrl": {"type": "string"}}}


def _odata(*names):
    return {name: Param() for name in names}


def operations():
    ops = []
    for who, prefix in (("me", "/me"), ("user", "/users/{id}")):
        ops += [
            Operation("graph", "POST %s/calendar/getSchedule" % prefix, "POST",
                      prefix + "/calendar/getSchedule", LEARN + "calendar-getschedule",
                      body=("json", GET_SCHEDULE, True)),
            Operation("graph", "GET %s/events" % prefix, "GET", prefix + "/events",
                      LEARN + "user-list-events",
                      query=_odata("$select", "$filter", "$orderby", "$top", "$skip", "$expand")),
            Operation("graph", "GET %s/calendarView" % prefix, "GET", prefix + "/calendarView",
                      LEARN + "user-list-calendarview",
                      query=dict(_odata("$select", "$filter", "$orderby", "$top", "$skip"),
                                 startDateTime=Param(required=True),
                                 endDateTime=Param(required=True))),
            Operation("graph", "GET %s/events/{eventId}" % prefix, "GET",
                      prefix + "/events/{eventId}", LEARN + "event-get",
                      query=_odata("$select", "$expand")),
            Operation("graph", "PATCH %s/events/{eventId}" % prefix, "PATCH",
                      prefix + "/events/{eventId}", LEARN + "event-update",
                      body=("json", EVENT, True)),
            Operation("graph", "DELETE %s/events/{eventId}" % prefix, "DELETE",
                      prefix + "/events/{eventId}", LEARN + "event-delete"),
        ]
        for tail in ("/events", "/calendar/events"):
            ops.append(Operation("graph", "POST %s%s" % (prefix, tail), "POST", prefix + tail,
                                 LEARN + "user-post-events", body=("json", EVENT, True)))
    ops += [
        Operation("graph", "POST /subscriptions", "POST", "/subscriptions",
                  LEARN + "subscription-post-subscriptions",
                  body=("json", SUBSCRIPTION_CREATE, True)),
        # a later page is the whole @odata.nextLink, whose opaque $skiptoken
        # the client must not change (https://learn.microsoft.com/graph/paging)
        Operation("graph", "GET /subscriptions", "GET", "/subscriptions",
                  LEARN + "subscription-list", query=_odata("$skiptoken")),
        Operation("graph", "GET /subscriptions/{id}", "GET", "/subscriptions/{id}",
                  LEARN + "subscription-get"),
        Operation("graph", "PATCH /subscriptions/{id}", "PATCH", "/subscriptions/{id}",
                  LEARN + "subscription-update", body=("json", SUBSCRIPTION_UPDATE, True)),
        Operation("graph", "DELETE /subscriptions/{id}", "DELETE", "/subscriptions/{id}",
                  LEARN + "subscription-delete"),
        Operation("graph", "POST /{tenant}/oauth2/v2.0/token", "POST",
                  "/{tenant}/oauth2/v2.0/token", TOKEN_DOC, auth=None,
                  segments={"tenant": TENANT},
                  body=("form", {"client_id": {"required": True},
                                 "client_secret": {"required": True},
                                 "scope": {"required": True, "pattern": r"/\.default$"},
                                 "grant_type": {"required": True,
                                                "const": "client_credentials"}})),
    ]
    return ops
