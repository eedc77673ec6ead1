"""
fake_anthropic.py - a stand-in for the Anthropic Messages API, on loopback

The end-to-end tests point clubos-intelligence's Claude client at this
server instead of https://api.anthropic.com.  It checks each request the
way the real API would (POST /v1/messages, x-api-key, anthropic-version,
a JSON body with model, max_tokens and messages) and answers mistakes with
the API's error shape; a good request gets the next scripted response, or,
when the script is empty, a valid reply that revises the SOP it was asked
about.  Every request is recorded in .requests.

    fake = FakeAnthropic().start()        # binds 127.0.0.1 on a free port
    fake.url                              # "http://127.0.0.1:PORT" (the base URL)
    fake.script([
        {"status": 429, "headers": {"retry-after": "1"},
         "json": api_error("rate_limit_error", "slow down")},
        {"status": 200, "json": FakeAnthropic.reply_text(
            valid_proposal("booking", "# Booking\\n...", "why"))},
        {"status": 200, "raw": "not json"},
        {"delay": 5.0, "status": 200, "json": ...},   # sleeps first (timeouts)
        {"drop": True},                               # closes without answering
    ])
    fake.requests[0]["path"], ["headers"]["x-api-key"], ["json"]["model"]
    fake.stop()

Standard library only; also usable as `with FakeAnthropic() as fake:`.
"""

import json
import re
import uuid

from fake_api import ScriptedAPI

API_VERSION = "2023-06-01"
DEFAULT_MODEL = "claude-fake"

# What claude.c puts in the user message (tags carry a random hex suffix).
_SOP_RE = re.compile(r"<sop_([0-9a-f]+)>\nslug: ([^\n]*)\n")
_CONTENT_RE = r"<content_{n}>\n(.*)\n</content_{n}>"


def valid_proposal(slug, content, rationale="Clarified the SOP from staff feedback."):
    """valid_proposal - the JSON text the model is asked to reply with."""
    return json.dumps({"sop_slug": slug, "content": content, "rationale": rationale})


def api_error(etype, message):
    """api_error - the API's error body: {"type": "error", "error": {type, message}}."""
    return {
        "type": "error",
        "error": {"type": etype, "message": message},
        "request_id": "req_fake_" + uuid.uuid4().hex[:20],
    }


def sop_of(request):
    """sop_of - (slug, content) quoted in a recorded request's user message, or None."""
    try:
        user = request["json"]["messages"][0]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(user, str):
        return None
    m = _SOP_RE.search(user)
    if m is None:
        return None
    c = re.search(_CONTENT_RE.format(n=m.group(1)), user, re.S)
    if c is None:
        return None
    return m.group(2), c.group(1)


class FakeAnthropic(ScriptedAPI):
    """FakeAnthropic - a scripted Messages API on 127.0.0.1."""

    request_id_header = "request-id"
    request_id_prefix = "req_fake_"

    def __init__(self, api_key=None, model=DEFAULT_MODEL):
        """api_key: when set, any other x-api-key gets 401 (else any non-empty key passes)."""
        super().__init__(api_key, model)

    def check(self, request):
        return _check(request, self.api_key)

    # ------------------------------------------------------------ replies

    @staticmethod
    def reply_text(text, stop_reason="end_turn", model=DEFAULT_MODEL, input_tokens=100):
        """reply_text - a Messages API response whose one text block is text."""
        return {
            "id": "msg_fake_" + uuid.uuid4().hex[:20],
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": max(1, len(text) // 4)},
        }

    def default_reply(self, request):
        """default_reply - what an empty script answers: a revision of the SOP asked about."""
        sop = sop_of(request)
        if sop is None:
            text = "I cannot tell which SOP to revise."
        else:
            slug, content = sop
            text = valid_proposal(
                slug,
                content.rstrip("\n") + "\n\n- Staff confirmed this answer (fake revision).\n",
                "Added what staff confirmed in the feedback.")
        return {"status": 200, "json": self.reply_text(text, model=self.model,
                                                       input_tokens=len(request["raw"]) // 4)}


def _check(req, api_key):
    """_check - (status, error body) for a request the real API would refuse, or None."""
    h = req["headers"]
    if req["method"] != "POST" or req["path"].split("?")[0] != "/v1/messages":
        return 404, api_error("not_found_error", "Not found")
    key = h.get("x-api-key")
    if not key:
        return 401, api_error("authentication_error", "x-api-key header is required")
    if api_key is not None and key != api_key:
        return 401, api_error("authentication_error", "invalid x-api-key")
    if not h.get("anthropic-version"):
        return 400, api_error("invalid_request_error", "anthropic-version: header is required")
    if h.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return 400, api_error("invalid_request_error", "content-type must be application/json")
    body = req["json"]
    if not isinstance(body, dict):
        return 400, api_error("invalid_request_error", "There was an error parsing the body")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return 400, api_error("invalid_request_error", "model: Field required")
    mt = body.get("max_tokens")
    if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
        return 400, api_error("invalid_request_error", "max_tokens: Field required")
    if "system" in body and not isinstance(body["system"], (str, list)):
        return 400, api_error("invalid_request_error", "system: Input should be a valid string")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return 400, api_error("invalid_request_error", "messages: Field required")
    for i, m in enumerate(msgs):
        if (not isinstance(m, dict) or m.get("role") not in ("user", "assistant")
                or not isinstance(m.get("content"), (str, list))):
            return 400, api_error("invalid_request_error",
                                  "messages.%d: role and content are required" % i)
        if isinstance(m["content"], str) and not m["content"]:
            return 400, api_error("invalid_request_error",
                                  "messages.%d: text content blocks must be non-empty" % i)
    if msgs[0]["role"] != "user":
        return 400, api_error("invalid_request_error", "messages: first message must use the user role")
    return None
