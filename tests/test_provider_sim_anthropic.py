"""The provider simulator speaks the Anthropic Messages API well enough for the real SDK.

Every test drives the official ``anthropic`` SDK over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pydantic
import pytest

from siem_consensus import testing
from siem_consensus.testing import Fault, ProviderSimulator, Reply

MODEL = "claude-sonnet-4-6"
MESSAGES: list[Any] = [{"role": "user", "content": "Is 10.0.0.5 scanning us?"}]
VERDICT_SCHEMA = {
    "type": "object",
    "properties": {"is_threat": {"type": "boolean"}, "confidence": {"type": "number"}},
    "required": ["is_threat", "confidence"],
}
TOOL: Any = {"name": "record_verdict", "description": "Record.", "input_schema": VERDICT_SCHEMA}
FORCED: Any = {"type": "tool", "name": "record_verdict"}
VERDICT = {"is_threat": True, "confidence": 0.9}


class Verdict(pydantic.BaseModel):
    is_threat: bool
    confidence: float


@pytest.fixture
def sim(provider_simulator: ProviderSimulator) -> ProviderSimulator:
    return provider_simulator


@pytest.fixture
def client(sim: ProviderSimulator) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        base_url=sim.anthropic_base_url, api_key="test-key", max_retries=0, timeout=5
    ) as sdk:
        yield sdk


def _ask_tool(client: anthropic.Anthropic) -> anthropic.types.Message:
    return client.messages.create(
        model=MODEL, max_tokens=256, messages=MESSAGES, tools=[TOOL], tool_choice=FORCED
    )


def _ask_text(client: anthropic.Anthropic, **kwargs: Any) -> Any:
    return client.messages.create(model=MODEL, max_tokens=256, messages=MESSAGES, **kwargs)


# -- happy paths ------------------------------------------------------------------------


def test_forced_tool_use_round_trip(sim: ProviderSimulator, client: anthropic.Anthropic) -> None:
    sim.anthropic.script(VERDICT)
    message = _ask_tool(client)
    block = message.content[0]
    assert isinstance(block, anthropic.types.ToolUseBlock)
    assert (block.name, block.input) == ("record_verdict", VERDICT)
    assert message.stop_reason == "tool_use"
    assert message.model == MODEL
    assert message.usage.input_tokens > 10 and message.usage.output_tokens > 0
    (request,) = sim.requests_for("anthropic")
    assert request.body is not None and request.body["tool_choice"] == FORCED
    assert request.status == 200 and request.reply == Reply(payload=VERDICT)


def test_async_client_round_trip(sim: ProviderSimulator) -> None:
    sim.anthropic.script(VERDICT, "plain words")

    async def run() -> tuple[Any, Any]:
        async with anthropic.AsyncAnthropic(
            base_url=sim.anthropic_base_url, api_key="test-key", max_retries=0
        ) as sdk:
            tool = await sdk.messages.create(
                model=MODEL, max_tokens=64, messages=MESSAGES, tools=[TOOL], tool_choice=FORCED
            )
            text = await sdk.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)
            return tool.content[0], text.content[0]

    tool_block, text_block = asyncio.run(run())
    assert tool_block.input == VERDICT
    assert text_block.text == "plain words"


def test_text_and_json_output_without_a_forced_tool(
    sim: ProviderSimulator, client: anthropic.Anthropic
) -> None:
    sim.anthropic.script("It is a port scan.", VERDICT, Reply(payload=VERDICT, tool_name="x"))
    assert _ask_text(client).content[0].text == "It is a port scan."
    json_text = _ask_text(client)
    assert json_text.stop_reason == "end_turn"
    assert json.loads(json_text.content[0].text) == VERDICT
    named = _ask_text(client).content[0]
    assert named.type == "tool_use" and named.name == "x"


def test_stream_tool_input_with_the_sdk_helper(
    sim: ProviderSimulator, client: anthropic.Anthropic
) -> None:
    payload = {**VERDICT, "rationale": "many ports, one source, " * 4}
    sim.anthropic.script(payload)
    with client.messages.stream(
        model=MODEL, max_tokens=256, messages=MESSAGES, tools=[TOOL], tool_choice=FORCED
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert final.content[0].input == payload  # type: ignore[union-attr]
    assert final.stop_reason == "tool_use" and final.usage.output_tokens > 1
    assert kinds.count("input_json") > 2


def test_stream_raw_event_sequence(sim: ProviderSimulator, client: anthropic.Anthropic) -> None:
    sim.anthropic.script("a streamed answer that spans several text deltas")
    events: list[Any] = list(_ask_text(client, stream=True))
    names = [event.type for event in events]
    assert names[:2] == ["message_start", "content_block_start"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [e.delta.text for e in events if e.type == "content_block_delta"]
    assert "".join(deltas) == "a streamed answer that spans several text deltas"
    assert len(deltas) > 1
    assert events[-2].delta.stop_reason == "end_turn" and events[-2].usage.output_tokens > 0


def test_async_stream_text(sim: ProviderSimulator) -> None:
    sim.anthropic.script("streamed asynchronously")

    async def run() -> str:
        async with (
            anthropic.AsyncAnthropic(
                base_url=sim.anthropic_base_url, api_key="test-key", max_retries=0
            ) as sdk,
            sdk.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream,
        ):
            return await stream.get_final_text()

    assert asyncio.run(run()) == "streamed asynchronously"


def test_reply_function_and_count_tokens_and_models(
    sim: ProviderSimulator, client: anthropic.Anthropic
) -> None:
    sim.anthropic.respond_with(lambda request: {"echo": request.body["max_tokens"]})  # type: ignore[index]
    assert _ask_tool(client).content[0].input == {"echo": 256}  # type: ignore[union-attr]
    counted = client.messages.count_tokens(model=MODEL, messages=MESSAGES)
    assert counted.input_tokens > 0
    sim.anthropic.models = ["claude-sim-a", "claude-sim-b"]
    assert [model.id for model in client.models.list()] == ["claude-sim-a", "claude-sim-b"]
    assert client.models.retrieve("claude-sim-b").id == "claude-sim-b"
    with pytest.raises(anthropic.NotFoundError, match="^404 model: claude-unknown "):
        client.models.retrieve("claude-unknown")


def test_latency_global_and_per_reply(sim: ProviderSimulator, client: anthropic.Anthropic) -> None:
    sim.latency = 0.1
    sim.anthropic.script(Reply(payload="slow", latency=0.1))
    started = time.monotonic()
    _ask_text(client)
    assert time.monotonic() - started >= 0.2
    duration = sim.requests[0].duration
    assert duration is not None and duration >= 0.2


# -- faults -----------------------------------------------------------------------------


def test_rate_limit_shows_retry_after(sim: ProviderSimulator, client: anthropic.Anthropic) -> None:
    sim.anthropic.script(Fault.rate_limit(retry_after=1.5))
    with pytest.raises(anthropic.RateLimitError) as caught:
        _ask_tool(client)
    assert caught.value.response.headers["retry-after"] == "1.5"
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_sdk_retries_after_rate_limit(sim: ProviderSimulator, client: anthropic.Anthropic) -> None:
    sim.anthropic.script(Fault.rate_limit(retry_after=0.05), VERDICT)
    message = client.with_options(max_retries=1).messages.create(
        model=MODEL, max_tokens=64, messages=MESSAGES, tools=[TOOL], tool_choice=FORCED
    )
    assert message.content[0].input == VERDICT  # type: ignore[union-attr]
    assert [request.status for request in sim.requests] == [429, 200]


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (500, anthropic.InternalServerError, "api_error"),
        (503, anthropic.ServiceUnavailableError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_server_errors(
    sim: ProviderSimulator,
    client: anthropic.Anthropic,
    status: int,
    error: type[anthropic.APIStatusError],
    kind: str,
) -> None:
    sim.anthropic.script(Fault.server_error(status))
    with pytest.raises(error) as caught:
        _ask_tool(client)
    assert isinstance(caught.value, anthropic.InternalServerError)
    assert caught.value.status_code == status
    assert caught.value.body == {
        "type": "error",
        "error": {"type": kind, "message": caught.value.body["error"]["message"]},  # type: ignore[index]
        "request_id": caught.value.response.headers["request-id"],
    }


def test_hang_trips_the_client_timeout(sim: ProviderSimulator, client: anthropic.Anthropic) -> None:
    sim.anthropic.script(Fault.hang(10))
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError, match="timed out"):
        client.with_options(timeout=0.3).messages.create(
            model=MODEL, max_tokens=64, messages=MESSAGES
        )
    assert time.monotonic() - started < 2


def test_hang_ends_by_dropping_the_connection(
    sim: ProviderSimulator, client: anthropic.Anthropic
) -> None:
    sim.anthropic.script(Fault.hang(0.1))
    with pytest.raises(anthropic.APIConnectionError) as caught:
        _ask_text(client)
    assert not isinstance(caught.value, anthropic.APITimeoutError)
    assert sim.requests[0].status is None


def test_a_hang_does_not_block_other_requests(sim: ProviderSimulator) -> None:
    def reply(request: testing.RecordedRequest) -> testing.ScriptItem:
        return Fault.hang(10) if request.body and request.body["max_tokens"] == 1 else "fast"

    sim.anthropic.respond_with(reply)

    async def run() -> Any:
        async with anthropic.AsyncAnthropic(
            base_url=sim.anthropic_base_url, api_key="test-key", max_retries=0, timeout=0.5
        ) as sdk:
            slow = sdk.messages.create(model=MODEL, max_tokens=1, messages=MESSAGES)
            fast = sdk.messages.create(model=MODEL, max_tokens=9, messages=MESSAGES)
            return await asyncio.gather(slow, fast, return_exceptions=True)

    slow, fast = asyncio.run(run())
    assert isinstance(slow, anthropic.APITimeoutError)
    assert isinstance(fast, anthropic.types.Message) and fast.content[0].text == "fast"  # type: ignore[union-attr]


@pytest.mark.parametrize("stream", [False, True])
def test_malformed_json_is_a_parse_failure(
    sim: ProviderSimulator, client: anthropic.Anthropic, stream: bool
) -> None:
    sim.anthropic.script(Fault.malformed_json())
    with pytest.raises(json.JSONDecodeError):
        if stream:
            with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as s:
                s.get_final_message()
        else:
            _ask_tool(client)


@pytest.mark.parametrize("stream", [False, True])
def test_refusal_is_visible(
    sim: ProviderSimulator, client: anthropic.Anthropic, stream: bool
) -> None:
    sim.anthropic.script(Fault.refusal("I won't assess this."))
    if stream:
        with client.messages.stream(
            model=MODEL, max_tokens=64, messages=MESSAGES, tools=[TOOL], tool_choice=FORCED
        ) as s:
            message: anthropic.types.Message = s.get_final_message()
    else:
        message = _ask_tool(client)
    assert message.stop_reason == "refusal"
    assert [block.type for block in message.content] == ["text"]
    assert message.stop_details is not None and message.stop_details.type == "refusal"


def test_missing_tool_call_is_visible(sim: ProviderSimulator, client: anthropic.Anthropic) -> None:
    sim.anthropic.script(Fault.missing_tool_call("Looks benign to me."))
    message = _ask_tool(client)
    assert message.stop_reason == "end_turn"
    assert [(b.type, getattr(b, "text", None)) for b in message.content] == [
        ("text", "Looks benign to me.")
    ]


def test_invalid_payload_fails_schema_validation(
    sim: ProviderSimulator, client: anthropic.Anthropic
) -> None:
    sim.anthropic.script(Fault.invalid_payload({"is_threat": "maybe"}), Fault.invalid_payload())
    for _ in range(2):
        block = _ask_tool(client).content[0]
        assert block.type == "tool_use"
        with pytest.raises(pydantic.ValidationError):
            Verdict.model_validate(block.input)


def test_no_scripted_reply_is_an_explicit_unretried_500(
    sim: ProviderSimulator, client: anthropic.Anthropic
) -> None:
    with pytest.raises(anthropic.InternalServerError, match="no scripted reply"):
        client.with_options(max_retries=2).messages.create(
            model=MODEL, max_tokens=64, messages=MESSAGES
        )
    assert len(sim.requests) == 1  # x-should-retry: false stopped the SDK's retries


# -- auth and recording -----------------------------------------------------------------


def test_recorded_requests_never_contain_the_key(sim: ProviderSimulator) -> None:
    secret = "sk-ant-very-secret-0123456789"
    sim.anthropic.script(VERDICT, Fault.server_error(), "x")
    with anthropic.Anthropic(base_url=sim.anthropic_base_url, api_key=secret, max_retries=0) as sdk:
        _ask_tool(sdk)
        with pytest.raises(anthropic.InternalServerError, match=r"^500 Internal server error"):
            _ask_tool(sdk)
        with sdk.messages.stream(model=MODEL, max_tokens=9, messages=MESSAGES) as stream:
            stream.get_final_text()
    _post_raw(sim, {"x-api-key": secret})
    dumped = json.dumps([request.model_dump(mode="json") for request in sim.requests])
    assert secret not in dumped
    assert sim.requests[0].headers["authorization"] == "***"
    assert sim.requests[-1].headers["x-api-key"] == "***"


def test_bearer_and_x_api_key_both_authenticate(
    sim: ProviderSimulator, client: anthropic.Anthropic
) -> None:
    sim.anthropic.script("via sdk", "via x-api-key", "via bearer")
    _ask_text(client)
    assert _post_raw(sim, {"x-api-key": "k"})[0] == 200
    assert _post_raw(sim, {"authorization": "Bearer k"})[0] == 200
    assert [request.auth for request in sim.requests] == ["bearer", "x-api-key", "bearer"]


def test_missing_key_is_401_authentication_error(sim: ProviderSimulator) -> None:
    with (
        anthropic.Anthropic(
            base_url=sim.anthropic_base_url, api_key="unused", max_retries=0
        ) as sdk,
        pytest.raises(anthropic.AuthenticationError) as caught,
    ):
        _ask_text(sdk, extra_headers={"Authorization": anthropic.Omit()})
    assert caught.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    status, body = _post_raw(sim, {})
    assert status == 401 and body["type"] == "error"
    assert body["error"]["type"] == "authentication_error" and "api_key" in body["error"]["message"]
    assert sim.anthropic.pending == 0 and all(r.auth is None for r in sim.requests)


def test_wrong_key_rejected_when_the_simulator_has_one() -> None:
    with ProviderSimulator(api_key="right") as sim:
        assert _post_raw(sim, {"x-api-key": "wrong"})[0] == 401
        sim.anthropic.script("ok")
        assert _post_raw(sim, {"x-api-key": "right"})[0] == 200


def test_bad_json_body_and_unknown_route(sim: ProviderSimulator) -> None:
    status, body = _post_raw(sim, {"x-api-key": "k"}, data=b"{not json")
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    status, body = _post_raw(sim, {"x-api-key": "k"}, path="/v1/complete")
    assert status == 404 and "POST /v1/messages" in body["error"]["message"]


# -- lifecycle and packaging ------------------------------------------------------------


def test_stop_cuts_hanging_and_idle_connections_quickly() -> None:
    sim = ProviderSimulator().start()
    sim.anthropic.script("idle after this", Fault.hang(60))
    sdk = anthropic.Anthropic(base_url=sim.anthropic_base_url, api_key="k", max_retries=0)
    _ask_text(sdk)  # leaves a keep-alive connection open
    errors: list[BaseException] = []
    worker = threading.Thread(target=_capture, args=(lambda: _ask_text(sdk), errors))
    worker.start()
    while len(sim.requests) < 2:
        time.sleep(0.01)
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 1
    worker.join(timeout=5)
    sdk.close()
    assert isinstance(errors[0], anthropic.APIConnectionError)
    with pytest.raises(RuntimeError, match="not running"):
        _ = sim.url


def test_environ_points_the_sdk_at_the_simulator(
    provider_simulator_env: ProviderSimulator,
) -> None:
    provider_simulator_env.anthropic.script("from env")
    with anthropic.Anthropic(max_retries=0) as sdk:
        assert _ask_text(sdk).content[0].text == "from env"


def test_public_names_sorted_importable_and_sdk_free() -> None:
    assert testing.__all__ == sorted(testing.__all__)
    for name in testing.__all__:
        assert getattr(testing, name) is not None, name
    code = (
        "import sys, siem_consensus.testing, siem_consensus.testing.pytest_plugin; "
        "print(','.join(m for m in ('anthropic', 'openai') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""


def test_docs_pytest_style_examples_pass() -> None:
    """tests/test_docs_examples.py runs every block; this also calls the test functions."""
    text = (Path(__file__).parents[1] / "docs" / "testing.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.DOTALL) if "def test_" in b]
    assert blocks
    for block in blocks:
        namespace: dict[str, Any] = {"__name__": "docs_example"}
        exec(compile(block, "docs/testing.md", "exec"), namespace)
        tests = [value for name, value in namespace.items() if name.startswith("test_")]
        for test in tests:
            with ProviderSimulator() as sim:
                test(provider_simulator=sim)


# -- helpers ----------------------------------------------------------------------------


def _capture(call: Any, errors: list[BaseException]) -> None:
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 (handed to the test thread)
        errors.append(exc)


def _post_raw(
    sim: ProviderSimulator,
    headers: dict[str, str],
    *,
    path: str = "/v1/messages",
    data: bytes | None = None,
) -> tuple[int, Any]:
    """POST without any SDK, to control auth headers and body bytes exactly."""
    body = data or json.dumps({"model": MODEL, "max_tokens": 9, "messages": MESSAGES}).encode()
    request = urllib.request.Request(
        sim.url + path,
        data=body,
        headers={"content-type": "application/json", "anthropic-version": "2023-06-01", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


# -- output cap -----------------------------------------------------------------------------


def test_max_tokens_is_honoured(sim: ProviderSimulator, client: anthropic.Anthropic) -> None:
    long_text = "word " * 200  # about 250 tokens at four characters a token
    sim.anthropic.script(long_text, long_text, VERDICT)
    cut = client.messages.create(model=MODEL, max_tokens=20, messages=MESSAGES)
    assert cut.stop_reason == "max_tokens" and cut.usage.output_tokens == 20
    block = cut.content[0]
    assert isinstance(block, anthropic.types.TextBlock) and len(block.text) == 80
    whole = client.messages.create(model=MODEL, max_tokens=1000, messages=MESSAGES)
    assert whole.stop_reason == "end_turn" and whole.usage.output_tokens == 250
    tool = client.messages.create(
        model=MODEL, max_tokens=2, messages=MESSAGES, tools=[TOOL], tool_choice=FORCED
    )
    assert tool.stop_reason == "max_tokens" and tool.usage.output_tokens == 2
