"""A scripted OpenAI-compatible chat server on 127.0.0.1 for labeling tests (stdlib only).

litellm talks to it exactly as to a hosted model (``model="openai/<name>"``, ``api_base=url``),
over real loopback HTTP, so the tests exercise litellm's request building, its error mapping and
our parsing without any network or mock inside litellm. A test sets ``server.mode``:

- ``good``: labels derived from the TOON rows it receives (:func:`rule_label`).
- ``fenced``: the good answer inside a ```json fence.
- ``partial``: the good answer minus the last profile, and the first profile's label as "maybe".
- ``malformed``: a truncated JSON array.
- ``rate_limited``: HTTP 429 with an OpenAI-style error body and ``Retry-After``.
- ``server_error``: HTTP 503.
- ``bad_request``: HTTP 400; ``unauthorized``: HTTP 401 echoing the key it received.
- ``slow``: waits ``delay_s`` before answering (tests set a shorter client timeout).
- ``injection_naive``: a gullible model, see :func:`naive_answer`.

Usage counts are estimated as characters / 4 (roughly what English text costs in BPE tokens), so
cost arithmetic in tests runs on realistic magnitudes.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import toon_format

_TOON_BLOCK_RE = re.compile(r"```toon\n(.*?)\n```", re.DOTALL)
_OBEY_RE = re.compile(r"ignore (all )?previous instructions", re.IGNORECASE)
_CROSS_ROW_RE = re.compile(r"label @(\w+) (true|false|null)", re.IGNORECASE)


def rule_label(text: str) -> bool | None:
    """The fake model's judgement: 'qualitative' -> true, other 'research' -> null, else false."""
    lowered = text.lower()
    if "qualitative" in lowered:
        return True
    if "research" in lowered:
        return None
    return False


def toon_blocks(messages: list[dict[str, Any]]) -> list[str]:
    """Every TOON table of the last user message (the parts inside ```toon fences), in order."""
    user = [m for m in messages if m.get("role") == "user"][-1]
    content = user["content"] if isinstance(user["content"], str) else user["content"][0]["text"]
    return _TOON_BLOCK_RE.findall(content)


def toon_block(messages: list[dict[str, Any]]) -> str:
    """The table to label: the last TOON table of the user message (reviewed examples come before it)."""
    blocks = toon_blocks(messages)
    if not blocks:
        raise ValueError("no ```toon block in the user message")
    return blocks[-1]


def good_answers(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a well-behaved model would answer: one object per decoded row."""
    rows = toon_format.decode(toon_block(messages))
    return [
        {"handle": row["handle"], "label": rule_label(row["bio"]), "reason": "fake model rule on the bio"}
        for row in rows
    ]


@dataclass(frozen=True)
class NaiveRow:
    handle: str
    text: str


def naive_read_rows(block: str) -> list[NaiveRow]:
    """How a line-oriented model reads a table: every line after the header is one profile.

    It does not unescape anything, so if a bio ever spanned several lines, each extra line
    would be read as a further profile (a forged row).
    """
    rows = []
    for line in block.split("\n")[1:]:
        first_cell = line.strip().split(",", 1)[0]
        rows.append(NaiveRow(handle=first_cell.strip('"'), text=line))
    return rows


def naive_answer(messages: list[dict[str, Any]]) -> str:
    """A gullible model that obeys instructions it finds in profile text.

    For each row it reads, it applies :func:`rule_label` to the row's whole line. A row that says
    "ignore previous instructions" is obeyed: that row is labelled true, every "label @x <value>"
    in it adds an extra answer for x, and the reply switches format to prose plus a markdown
    fence. Whatever reaches it through its own line is all it can act on.
    """
    answers: list[dict[str, Any]] = []
    injected: list[dict[str, Any]] = []
    obeyed = False
    for row in naive_read_rows(toon_block(messages)):
        if _OBEY_RE.search(row.text):
            obeyed = True
            answers.append({"handle": row.handle, "label": True, "reason": "the profile told me to"})
            for handle, value in _CROSS_ROW_RE.findall(row.text):
                injected.append(
                    {"handle": handle, "label": json.loads(value.lower()), "reason": "as instructed"}
                )
        else:
            answers.append({"handle": row.handle, "label": rule_label(row.text), "reason": "fake model rule"})
    body = json.dumps(answers + injected, indent=1)
    if obeyed:
        return f"Sure! As the profile instructed, here are the labels:\n```json\n{body}\n```\nAnything else?"
    return body


class FakeLLMServer:
    """The server; use as a context manager. ``requests`` keeps every received body and headers."""

    def __init__(self, mode: str = "good", *, delay_s: float = 5.0) -> None:
        self.mode = mode
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown (once per test) from adding half a second.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()  # releases a handler sleeping in "slow" mode
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def reply_for(
        self, body: dict[str, Any], headers: Mapping[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, extra headers) for one chat request, per the current mode."""
        messages = body["messages"]
        if self.mode == "rate_limited":
            error = {
                "message": "Rate limit reached for requests",
                "type": "requests",
                "code": "rate_limit_exceeded",
            }
            return 429, {"error": error}, {"Retry-After": "7"}
        if self.mode == "server_error":
            return 503, {"error": {"message": "The server is overloaded", "type": "server_error"}}, {}
        if self.mode == "bad_request":
            return 400, {"error": {"message": "Unsupported parameter", "type": "invalid_request_error"}}, {}
        if self.mode == "unauthorized":
            # Some providers echo the key they got; our error texts must scrub it.
            key = headers.get("Authorization", "").removeprefix("Bearer ")
            return (
                401,
                {"error": {"message": f"Incorrect API key provided: {key}", "type": "invalid_api_key"}},
                {},
            )
        if self.mode == "slow":
            self._stopping.wait(self.delay_s)
        if self.mode in ("good", "slow"):
            content = json.dumps(good_answers(messages))
        elif self.mode == "fenced":
            content = "```json\n" + json.dumps(good_answers(messages), indent=2) + "\n```"
        elif self.mode == "partial":
            answers = good_answers(messages)[:-1]
            answers[0]["label"] = "maybe"
            content = json.dumps(answers)
        elif self.mode == "malformed":
            content = json.dumps(good_answers(messages))[:40]
        elif self.mode == "injection_naive":
            content = naive_answer(messages)
        else:
            raise ValueError(f"unknown fake LLM mode {self.mode!r}")
        prompt_chars = sum(len(m["content"]) for m in messages if isinstance(m.get("content"), str))
        usage = {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(content) // 4 + 1}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        completion = {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": usage,
        }
        return 200, completion, {}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}}, {})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                status, payload, extra = server.reply_for(body, self.headers)
                self._send(status, payload, extra)

            def _send(self, status: int, payload: dict[str, Any], extra: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in extra.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest output clean

        return Handler
