"""The chat-completions stand-in behaves as OpenAI's API reference says
(https://platform.openai.com/docs/api-reference/chat/create)."""
import json
import os
import socket
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calendar_peer_client import Peer  # noqa: E402

PATH = "/v1/chat/completions"
BODY = {"model": "gpt-4o-mini", "temperature": 0, "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": "Answer in JSON."},
                     {"role": "user", "content": "hola"}]}


@pytest.fixture
def llm():
    peer = Peer("llm_peer.py", "--api-key", "sk-test")
    yield peer
    peer.close()


def test_a_completion_answers_the_configured_content_as_openai_does(llm):
    status, _, _ = llm.call("POST", "/__peer/config", {"content": '{"intent":"human"}'})
    assert status == 200
    status, body, _ = llm.call("POST", PATH, BODY, token="sk-test")
    assert status == 200
    assert body["object"] == "chat.completion" and body["model"] == "gpt-4o-mini"
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"] == {"role": "assistant", "content": '{"intent":"human"}',
                                 "refusal": None}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_a_wrong_key_is_refused_with_openais_error(llm):
    status, body, _ = llm.call("POST", PATH, BODY, token="sk-other")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    status, body, _ = llm.call("POST", PATH, BODY)
    assert status == 401


@pytest.mark.parametrize("change,param", [
    ({"model": None}, "model"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
    ({"temperature": 3}, "temperature"),
    ({"response_format": {"type": "xml"}}, "response_format.type"),
    ({"messages": [{"role": "user", "content": "hola"}]}, "messages"),  # json mode, no "json"
])
def test_a_body_openai_refuses_gets_400_naming_the_parameter(llm, change, param):
    body = dict(BODY)
    body.update(change)
    if body["model"] is None:
        del body["model"]
    status, answer, _ = llm.call("POST", PATH, body, token="sk-test")
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error" and answer["error"]["param"] == param


def test_faults_fail_answer_slowly_or_hang(llm):
    llm.call("POST", "/__peer/faults", {"status": 503, "path_prefix": PATH})
    status, body, _ = llm.call("POST", PATH, BODY, token="sk-test")
    assert status == 503 and body["error"]["type"] == "server_error"
    llm.call("POST", "/__peer/faults", {"status": 429, "retry_after": 2, "path_prefix": PATH})
    status, body, headers = llm.call("POST", PATH, BODY, token="sk-test")
    assert status == 429 and body["error"]["code"] == "rate_limit_exceeded"
    assert headers["Retry-After"] == "2"
    # slow: the normal answer, later
    llm.call("POST", "/__peer/faults", {"delay_ms": 300, "path_prefix": PATH})
    start = time.monotonic()
    status, _, _ = llm.call("POST", PATH, BODY, token="sk-test")
    assert status == 200 and time.monotonic() - start >= 0.3
    # hang: no answer within the client's wait
    llm.call("POST", "/__peer/faults", {"delay_ms": 5000, "path_prefix": PATH})
    host, port = llm.url[len("http://"):].split(":")
    payload = json.dumps(BODY).encode()
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                  % (PATH.encode(), len(payload), payload))
        s.settimeout(0.5)
        with pytest.raises(socket.timeout):
            s.recv(1)
