"""OpenAI-compatible chat completions, the one call zhub-intent makes to
its AI classifier (tests/peers/llm_peer.py), from OpenAI's API reference:
https://platform.openai.com/docs/api-reference/chat/create. Every call:
Authorization: Bearer <API key>.
"""
from contract import Operation

DOCS = "https://platform.openai.com/docs/api-reference/chat/create"

MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
        "content": {"type": "string"},
        "name": {"type": "string"},
    },
}

CHAT_COMPLETION = {
    "type": "object",
    "required": ["model", "messages"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "messages": {"type": "array", "minItems": 1, "items": MESSAGE},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "response_format": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"type": "string",
                                    "enum": ["text", "json_object", "json_schema"]}},
        },
        "max_completion_tokens": {"type": "integer", "minimum": 1},
    },
}


def operations():
    return [Operation("llm", "POST /v1/chat/completions", "POST", "/v1/chat/completions", DOCS,
                      body=("json", CHAT_COMPLETION, True))]
