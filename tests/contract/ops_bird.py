"""Bird (api.bird.com) operations zhub uses, from Bird's API reference
(https://docs.bird.com/api), whose pages render Bird's OpenAPI
(global--openapi-specs…/joined-specs/openapi.yml). Every call:
Authorization: AccessKey <access key>
(https://docs.bird.com/api/api-access/api-authorization).

Contact bodies: the reference lists the fields below and renders the rest
as "Other properties: any"; a top-level field it does not list has no
documented effect (a contact's name is the attribute displayName, as the
create example's answer shows), so it is reported as body-undocumented.
Attribute values: boolean, number, string, a non-empty array of those, or
null ("A map of key-value pairs ...").
"""
from contract import Operation, Param

CONTACTS = "https://docs.bird.com/api/contacts-api/api-reference/manage-workspace-contacts/"
MESSAGING = "https://docs.bird.com/api/channels-api/api-reference/messaging"
WHATSAPP = ("https://docs.bird.com/api/channels-api/supported-channels/programmable-whatsapp/"
            "sending-whatsapp-messages")
# "workspaceId string · uuid Required" on every page below
WORKSPACE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

SCALAR = {"type": ["boolean", "number", "string"]}
ATTRIBUTES = {"type": "object", "nullable": True, "additionalProperties": {
    "nullable": True,
    "anyOf": [SCALAR, {"type": "array", "minItems": 1, "items": SCALAR}]}}
IDENTIFIER = {"type": "object", "required": ["key", "value"],
              "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 250},
                             "value": {"type": "string", "minLength": 1, "maxLength": 500},
                             "properties": {"type": "object"}}}
UUID_LIST = {"type": "array", "maxItems": 10, "items": {"type": "string", "format": "uuid"}}

CONTACT_UPDATE_FIELDS = ["allowWritingReadOnly", "strategy", "attributes", "addIdentifiers",
                         "removeIdentifiers", "addToLists", "removeFromLists", "listIds",
                         "addToAccounts", "removeFromAccounts", "accountIds", "identifiers"]
CONTACT_UPDATE = {"type": "object", "properties": {
    "allowWritingReadOnly": {"type": "boolean"},
    "strategy": {"type": "string", "enum": ["strict_alias", "first_alias", "first"]},
    "attributes": ATTRIBUTES,
    "addIdentifiers": {"type": "array", "items": IDENTIFIER},
    "removeIdentifiers": {"type": "array", "items": IDENTIFIER},
    "addToLists": UUID_LIST, "removeFromLists": UUID_LIST, "listIds": UUID_LIST,
    "addToAccounts": UUID_LIST, "removeFromAccounts": UUID_LIST,
    "accountIds": dict(UUID_LIST, minItems=1),
    "identifiers": {"type": "array", "nullable": True, "items": IDENTIFIER}}}

CONTACT_CREATE_FIELDS = ["displayName", "identifiers", "attributes", "listIds", "accountIds"]
CONTACT_CREATE = {"type": "object", "required": ["displayName"], "properties": {
    "displayName": {"type": "string", "minLength": 1, "maxLength": 150},
    "identifiers": {"type": "array", "items": IDENTIFIER},
    "attributes": ATTRIBUTES,
    "listIds": dict(UUID_LIST, minItems=1), "accountIds": dict(UUID_LIST, minItems=1)}}

RECEIVER_CONTACT = {"type": "object", "properties": {
    "id": {"type": "string"}, "identifierKey": {"type": "string"},
    "identifierValue": {"type": "string"}, "type": {"type": "string"},
    "identifiers": {"type": "array"}, "platformAddress": {"type": "string"},
    "platformAddressSelector": {"type": "string"}}}
# ChannelMessageCreateWithBody | ChannelMessageCreateWithTemplate: a
# receiver, and exactly one of `body` or `template` (outside WhatsApp's
# 24-hour window only a template may be sent).
MESSAGE = {"type": "object", "required": ["receiver"],
           "oneOf": [{"required": ["body"]}, {"required": ["template"]}],
           "properties": {
               "receiver": {"type": "object", "required": ["contacts"], "properties": {
                   "contacts": {"type": "array", "minItems": 1, "items": RECEIVER_CONTACT}}},
               "body": {"type": "object", "required": ["type"],
                        "properties": {"type": {"type": "string"}}},
               "template": {"type": "object", "properties": {
                   "name": {"type": "string"}, "projectId": {"type": "string"},
                   "version": {"type": "string"}, "locale": {"type": "string"},
                   "variables": {"type": "object",
                                 "additionalProperties": {"type": "string"}},
                   "parameters": {"type": "array", "items": {
                       "type": "object", "required": ["type", "key", "value"],
                       "properties": {"type": {"type": "string"}, "key": {"type": "string"},
                                      "value": {"type": "string"}}}}}},
               "reference": {"type": "string"},
               "sender": {"type": "object"}, "meta": {"type": "object"},
               "replyTo": {"type": "object", "required": ["id", "type"]},
               "notification": {"type": "object"}, "tags": {"type": "array"},
               "ignoreQuietHours": {"type": "boolean"}, "scheduledFor": {
                   "type": "string", "format": "date-time"}}}


def operations():
    ws = "/workspaces/{workspaceId}"
    seg = {"workspaceId": WORKSPACE}
    attr_query = {"attribute": Param(repeated=True)}
    return [
        Operation("bird", "POST " + ws + "/contacts", "POST", ws + "/contacts",
                  CONTACTS + "create-a-contact", auth="AccessKey", segments=seg,
                  body=("json", CONTACT_CREATE, True), documented_fields=CONTACT_CREATE_FIELDS),
        Operation("bird", "GET " + ws + "/contacts/{contactId}", "GET",
                  ws + "/contacts/{contactId}", CONTACTS + "get-a-contact", auth="AccessKey",
                  segments=seg, query=attr_query),
        Operation("bird", "PATCH " + ws + "/contacts/{contactId}", "PATCH",
                  ws + "/contacts/{contactId}", CONTACTS + "update-a-contact", auth="AccessKey",
                  segments=seg, query=attr_query, body=("json", CONTACT_UPDATE, True),
                  documented_fields=CONTACT_UPDATE_FIELDS),
        Operation("bird", "DELETE " + ws + "/contacts/{contactId}", "DELETE",
                  ws + "/contacts/{contactId}", CONTACTS + "delete-a-contact", auth="AccessKey",
                  segments=seg),
        Operation("bird", "PATCH " + ws + "/contacts/identifiers/{identifierKey}/{identifierValue}",
                  "PATCH", ws + "/contacts/identifiers/{identifierKey}/{identifierValue}",
                  CONTACTS + "create-or-update-a-contact-by-identifier", auth="AccessKey",
                  segments=dict(seg, identifierKey=r"^.{1,250}$", identifierValue=r"^.{1,500}$"),
                  body=("json", CONTACT_UPDATE, True), documented_fields=CONTACT_UPDATE_FIELDS),
        Operation("bird", "GET " + ws + "/contacts", "GET", ws + "/contacts",
                  CONTACTS.rstrip("/") + " (list contacts)", auth="AccessKey", segments=seg,
                  query={"identifierKey": Param(), "identifierValue": Param(),
                         "limit": Param({"type": "integer", "minimum": 1, "maximum": 100}),
                         "pageToken": Param(), "reverse": Param({"type": "boolean"}),
                         "attribute": Param(repeated=True)}),
        Operation("bird", "POST " + ws + "/channels/{channelId}/messages", "POST",
                  ws + "/channels/{channelId}/messages", MESSAGING + " ; " + WHATSAPP,
                  auth="AccessKey", segments=seg, body=("json", MESSAGE, True)),
        Operation("bird", "GET " + ws + "/channels/{channelId}/messages/{messageId}", "GET",
                  ws + "/channels/{channelId}/messages/{messageId}", MESSAGING,
                  auth="AccessKey", segments=seg),
    ]
