#!/usr/bin/env python3
"""Stand-in for an OpenAI-compatible chat-completions endpoint
(POST /v1/chat/completions), the intent router's AI classifier.

What it checks and answers, after OpenAI's API reference
(https://platform.openai.com/docs/api-reference/chat/create):
  * `Authorization: Bearer <key>` (with --api-key; any non-empty key
    otherwise); else 401 with OpenAI's error body
    {"error": {"message", "type": "invalid_request_error", "param": null,
    "code": "invalid_api_key"}}
    (https://platform.openai.com/docs/guides/error-codes);
  * a JSON body with `model` (string) and `messages` (a non-empty array of
    {role: system|developer|user|assistant|tool, content}); `temperature`
    0..2; `response_format.type` text|json_object|json_schema; with
    json_object the messages must say "json" somewhere, or 400 (JSON mode:
    https://platform.openai.com/docs/guides/structured-outputs#json-mode);
    else 400 invalid_request_error naming the parameter;
  * answers a chat.completion object: {id, object: "chat.completion",
    created, model, choices: [{index: 0, message: {role: "assistant",
    content, refusal: null}, logprobs: null, finish_reason: "stop"}],
    usage: {prompt_tokens, completion_tokens, total_tokens}}.

What the model says is set by the test: POST /__peer/config
{"content": "<the assistant's content>"} (default: an "other" intent).
Failures come from the shared fault queue (tests/peers/README.md): a
status answers OpenAI's error body for it (429 rate_limit_exceeded, 5xx
server_error), `delay_ms` alone answers slowly, a `delay_ms` longer than
the client waits is a hang.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from peerlib import Response, new_uuid  # noqa: E402

DEFAULT_CONTENT = json.dumps({"intent": "other", "confidence": 0.5, "language": "es"})
ROLES = ("system", "developer", "user", "assistant", "tool")


def openai_error(status, message, type_, param=None, code=None):
    return Response(status, {"error": {"message": message, "type": type_, "param": param,
                                       "code": code}})


class LlmApp(peerlib.PeerApp):
    """Stand-in OpenAI-compatible chat completions."""

    config_keys = ("content",)

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--api-key", help="accepted key (default: any non-empty)")
        parser.add_argument("--content", default=DEFAULT_CONTENT,
                            help="the assistant's content in every answer")

    def reset_state(self):
        self.completions = 0

    def state_snapshot(self):
        return {"completions": self.completions}

    def fault_response(self, fault, req):
        if fault.status == 429:
            return Response(429, {"error": {
                "message": "Rate limit reached for requests", "type": "requests",
                "param": None, "code": "rate_limit_exceeded"}},
                peerlib.retry_after_header(fault))
        return openai_error(fault.status, fault.reason or "The server had an error while "
                            "processing your request.", "server_error")

    def handle(self, req):
        if (req.method, req.path.rstrip("/")) != ("POST", "/v1/chat/completions"):
            return openai_error(404, "Invalid URL (%s %s)" % (req.method, req.path),
                                "invalid_request_error")
        scheme, _, key = req.header("authorization", "").partition(" ")
        if scheme != "Bearer" or not key.strip() or (
                self.args.api_key and key.strip() != self.args.api_key):
            return openai_error(401, "Incorrect API key provided.", "invalid_request_error",
                                code="invalid_api_key")
        body = req.json
        if req.json_error or not isinstance(body, dict):
            return openai_error(400, "We could not parse the JSON body of your request.",
                                "invalid_request_error")
        problem = self._check(body)
        if problem:
            return openai_error(400, problem[1], "invalid_request_error", param=problem[0])
        with self.lock:
            self.completions += 1
            content = self.config.get("content") or DEFAULT_CONTENT
        prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        done = len(content.split())
        return Response(200, {
            "id": "chatcmpl-" + new_uuid().replace("-", ""), "object": "chat.completion",
            "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": done,
                      "total_tokens": prompt + done}})

    @staticmethod
    def _check(body):
        if not isinstance(body.get("model"), str) or not body["model"]:
            return "model", "you must provide a model parameter"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages", "'messages' must be a non-empty array"
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ROLES:
                return "messages[%d].role" % i, "Invalid value for 'role'"
            if "content" not in message:
                return "messages[%d].content" % i, "Missing required parameter"
        temperature = body.get("temperature", 1)
        if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) \
                or not 0 <= temperature <= 2:
            return "temperature", "temperature must be a number from 0 to 2"
        fmt = body.get("response_format")
        if fmt is not None:
            if not isinstance(fmt, dict) or fmt.get("type") not in (
                    "text", "json_object", "json_schema"):
                return "response_format.type", "Invalid value for 'response_format.type'"
            if fmt["type"] == "json_object" and not any(
                    "json" in str(m.get("content", "")).lower() for m in messages):
                return "messages", ("'messages' must contain the word 'json' in some form, to "
                                    "use 'response_format' of type 'json_object'.")
        return None


if __name__ == "__main__":
    peerlib.PeerHandler.disable_nagle_algorithm = True
    sys.exit(peerlib.run(LlmApp))
