"""
fake_openai.py - a stand-in for an OpenAI-compatible chat completions API, on loopback

The end-to-end tests point the assistant workers' generative tier at this
server instead of https://api.openai.com/v1.  It checks each request the
way the real API would (POST {base}/chat/completions, Authorization:
Bearer, a JSON body with model and messages, response_format) and answers
mistakes with the API's error shape ({"error": {"message", "type",
"param", "code"}}); a good request gets the next scripted response, or,
when the script is empty, a valid answer built from the first SOP it was
offered.  Every request is recorded in .requests, so tests can assert what
left ClubOS (redaction, no restricted text).

    fake = FakeOpenAI(api_key="k").start()   # 127.0.0.1, a free port
    fake.url                                  # "http://127.0.0.1:PORT/v1" (the base URL)
    fake.script([
        {"status": 429, "headers": {"retry-after": "1"},
         "json": api_error("Rate limit reached", "requests", "rate_limit_exceeded")},
        {"status": 200, "json": completion(answer("Hi", "brand.pricing"))},
        {"status": 200, "json": refusal("I can't help with that.")},
        {"status": 200, "raw": "not json"},
        {"delay": 5.0, "status": 200, "json": ...},  # sleeps first (timeouts)
        {"drop": True},                              # closes without answering
        lambda req: {...},                           # built from the request
    ])
    user_data(fake.requests[0])   # the user message, parsed (ClubOS sends JSON)

Standard library only.
"""

import json
import time
import uuid

from fake_api import ScriptedAPI

DEFAULT_MODEL = "gpt-fake"


def api_error(message, etype="invalid_request_error", code=None, param=None):
    """api_error - the API's error body."""
    return {"error": {"message": message, "type": etype, "param": param, "code": code}}


def answer(reply, sop, escalate=False):
    """answer - the JSON text the model is asked to reply with."""
    return json.dumps({"reply": reply, "escalate": escalate, "sop": sop})


def completion(content, model=DEFAULT_MODEL, prompt_tokens=120, completion_tokens=40,
               finish_reason="stop"):
    """completion - a chat.completion whose one choice says content."""
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:24],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "logprobs": None,
            "finish_reason": finish_reason,
        }],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def refusal(text, model=DEFAULT_MODEL):
    """refusal - a completion where the model refused (content null, refusal set)."""
    c = completion(None, model=model, completion_tokens=8)
    c["choices"][0]["message"]["refusal"] = text
    return c


def user_data(request):
    """user_data - the user message of a recorded request, parsed as JSON (or None)."""
    try:
        msgs = request["json"]["messages"]
        user = [m for m in msgs if m.get("role") == "user"][0]["content"]
        return json.loads(user)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def first_words(text, limit=300):
    """first_words - text cut at a space before limit characters (numbers stay whole)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[:cut.rfind(" ")] if " " in cut else cut


class FakeOpenAI(ScriptedAPI):
    """FakeOpenAI - a scripted chat completions API on 127.0.0.1."""

    base_path = "/v1"

    def __init__(self, api_key=None, model=DEFAULT_MODEL):
        """api_key: when set, any other bearer token gets 401."""
        super().__init__(api_key, model)

    def check(self, request):
        return _check(request, self.api_key)

    def default_reply(self, request):
        """default_reply - a valid answer from the first option offered (or none)."""
        data = user_data(request) or {}
        opts = data.get("options") or []
        if not opts:
            content = answer("I'm not sure; a person from our team can help.", "none")
        else:
            content = answer(first_words(opts[0].get("text", "")), opts[0].get("slug", "none"))
        return {"status": 200, "json": completion(content, model=self.model)}


def _check(req, api_key):
    """_check - (status, error body) for a request the real API would refuse, or None."""
    h = req["headers"]
    if req["method"] != "POST" or req["path"].split("?")[0] != "/v1/chat/completions":
        return 404, api_error("Invalid URL (%s %s)" % (req["method"], req["path"]))
    auth = h.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:]:
        return 401, api_error("You didn't provide an API key.", "invalid_request_error")
    if api_key is not None and auth[7:] != api_key:
        return 401, api_error("Incorrect API key provided.", "invalid_request_error",
                              "invalid_api_key")
    if h.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return 400, api_error("Unsupported content type")
    body = req["json"]
    if not isinstance(body, dict):
        return 400, api_error("We could not parse the JSON body of your request.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return 400, api_error("you must provide a model parameter", param="model")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return 400, api_error("'messages' is a required property", param="messages")
    for i, m in enumerate(msgs):
        if (not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant",
                                                            "developer", "tool")
                or not isinstance(m.get("content"), str)):
            return 400, api_error("Invalid value for 'messages[%d]'" % i,
                                  param="messages[%d]" % i)
    rf = body.get("response_format")
    if rf is not None:
        if not isinstance(rf, dict) or rf.get("type") not in ("text", "json_object",
                                                              "json_schema"):
            return 400, api_error("Invalid response_format", param="response_format")
        # The real API insists the word JSON appears in the messages for json_object.
        if rf["type"] == "json_object" and not any("json" in m["content"].lower()
                                                   for m in msgs):
            return 400, api_error("'messages' must contain the word 'json' in some form, "
                                  "to use 'response_format' of type 'json_object'.",
                                  param="messages")
    return None
