"""The provider simulator speaks OpenAI Chat Completions well enough for the real SDK.

Every test drives the official ``openai`` SDK over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pydantic
import pytest

from siem_consensus.testing import Fault, ProviderSimulator, Reply

MODEL = "gpt-5.4-mini"
MESSAGES: list[Any] = [{"role": "user", "content": "Is 10.0.0.5 scanning us?"}]
VERDICT = {"is_threat": True, "confidence": 0.9}


class Verdict(pydantic.BaseModel):
    is_threat: bool
    confidence: float


SCHEMA = {**Verdict.model_json_schema(), "additionalProperties": False}
JSON_FORMAT: Any = {
    "type": "json_schema",
    "json_schema": {"name": "Verdict", "schema": SCHEMA, "strict": True},
}
TOOL: Any = {"type": "function", "function": {"name": "record_verdict", "parameters": SCHEMA}}
FORCED: Any = {"type": "function", "function": {"name": "record_verdict"}}


@pytest.fixture
def sim(provider_simulator: ProviderSimulator) -> ProviderSimulator:
    return provider_simulator


@pytest.fixture
def client(sim: ProviderSimulator) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=sim.openai_base_url, api_key="test-key", max_retries=0, timeout=5
    ) as sdk:
        yield sdk


def _ask(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.create(model=MODEL, messages=MESSAGES, **kwargs)


# -- happy paths ------------------------------------------------------------------------


def test_json_schema_round_trip(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(VERDICT)
    completion = _ask(client, response_format=JSON_FORMAT)
    choice = completion.choices[0]
    assert json.loads(choice.message.content) == VERDICT
    assert (choice.finish_reason, choice.message.tool_calls) == ("stop", None)
    assert completion.model == MODEL and completion.object == "chat.completion"
    usage = completion.usage
    assert usage.prompt_tokens > 10 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    (request,) = sim.requests_for("openai")
    assert request.body is not None and request.body["response_format"] == JSON_FORMAT


def test_parse_helper_with_a_pydantic_model(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(VERDICT)
    parsed = client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Verdict)
    assert parsed.choices[0].message.parsed == Verdict(**VERDICT)


def test_forced_tool_round_trip(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(VERDICT, VERDICT)
    named = _ask(client, tools=[TOOL], tool_choice=FORCED).choices[0]
    (call,) = named.message.tool_calls
    assert (call.type, call.function.name) == ("function", "record_verdict")
    assert json.loads(call.function.arguments) == VERDICT
    assert named.message.content is None
    assert named.finish_reason == "stop"  # what OpenAI sends for a *named* tool_choice
    required = _ask(client, tools=[TOOL], tool_choice="required").choices[0]
    assert required.finish_reason == "tool_calls"
    assert required.message.tool_calls[0].function.name == "record_verdict"


def test_parse_helper_with_a_strict_function_tool(
    sim: ProviderSimulator, client: openai.OpenAI
) -> None:
    sim.openai.script(VERDICT)
    parsed = client.chat.completions.parse(
        model=MODEL,
        messages=MESSAGES,
        tools=[openai.pydantic_function_tool(Verdict)],
        tool_choice={"type": "function", "function": {"name": "Verdict"}},
    )
    calls = parsed.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].function.parsed_arguments == Verdict(**VERDICT)


def test_async_client_text_and_tool(sim: ProviderSimulator) -> None:
    sim.openai.script("plain words", VERDICT)

    async def run() -> tuple[Any, Any]:
        async with openai.AsyncOpenAI(
            base_url=sim.openai_base_url, api_key="test-key", max_retries=0
        ) as sdk:
            text = await sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
            tool = await sdk.chat.completions.create(
                model=MODEL, messages=MESSAGES, tools=[TOOL], tool_choice=FORCED
            )
            return text.choices[0].message, tool.choices[0].message

    text, tool = asyncio.run(run())
    assert text.content == "plain words"
    assert json.loads(tool.tool_calls[0].function.arguments) == VERDICT


def test_stream_json_content_with_usage(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    payload = {**VERDICT, "rationale": "one source, many ports " * 4}
    sim.openai.script(payload)
    with client.chat.completions.stream(
        model=MODEL,
        messages=MESSAGES,
        response_format=JSON_FORMAT,
        stream_options={"include_usage": True},
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_completion()
    assert json.loads(final.choices[0].message.content or "") == payload
    assert final.usage is not None and final.usage.completion_tokens > 1
    assert kinds.count("content.delta") > 2


def test_stream_tool_call_arguments(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(VERDICT)
    with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, tools=[TOOL], tool_choice=FORCED
    ) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "record_verdict"
    assert json.loads(call.function.arguments) == VERDICT


def test_stream_raw_chunks(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script("a streamed answer over several chunks")
    chunks = list(_ask(client, stream=True, stream_options={"include_usage": True}))
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "a streamed answer over several chunks"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert all(chunk.usage is None for chunk in chunks[:-1])


def test_async_stream(sim: ProviderSimulator) -> None:
    sim.openai.script("async stream")

    async def run() -> str | None:
        async with (
            openai.AsyncOpenAI(
                base_url=sim.openai_base_url, api_key="test-key", max_retries=0
            ) as sdk,
            sdk.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream,
        ):
            final = await stream.get_final_completion()
            return final.choices[0].message.content

    assert asyncio.run(run()) == "async stream"


def test_models_listing(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.models = ["gpt-sim-a", "gpt-sim-b"]
    assert [model.id for model in client.models.list()] == ["gpt-sim-a", "gpt-sim-b"]
    assert client.models.retrieve("gpt-sim-a").id == "gpt-sim-a"
    with pytest.raises(openai.NotFoundError, match="Error code: 404"):
        client.models.retrieve("gpt-unknown")


def test_reply_function_sees_the_request(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.respond_with(lambda request: f"you asked {request.model}")
    assert _ask(client).choices[0].message.content == f"you asked {MODEL}"
    sim.openai.respond_with(lambda request: 1 / 0)  # type: ignore[arg-type,return-value]
    with pytest.raises(openai.InternalServerError, match="ZeroDivisionError"):
        _ask(client)


# -- faults -----------------------------------------------------------------------------


def test_rate_limit_shows_retry_after(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(Fault.rate_limit(retry_after=1.5))
    with pytest.raises(openai.RateLimitError) as caught:
        _ask(client, response_format=JSON_FORMAT)
    assert caught.value.response.headers["retry-after"] == "1.5"
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.body == {
        "message": "Rate limit reached for requests (simulated)",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }


def test_sdk_retries_after_rate_limit(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(Fault.rate_limit(retry_after=0.05), "second time lucky")
    completion = client.with_options(max_retries=1).chat.completions.create(
        model=MODEL, messages=MESSAGES
    )
    assert completion.choices[0].message.content == "second time lucky"
    assert [request.status for request in sim.requests] == [429, 200]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(sim: ProviderSimulator, client: openai.OpenAI, status: int) -> None:
    sim.openai.script(Fault.server_error(status, "upstream is sad"))
    with pytest.raises(openai.InternalServerError) as caught:
        _ask(client)
    assert caught.value.status_code == status
    assert caught.value.body == {  # the SDK unwraps the top-level "error" object
        "message": "upstream is sad",
        "type": "server_error",
        "param": None,
        "code": None,
    }


def test_hang_trips_the_client_timeout(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(Fault.hang(10))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError, match="timed out"):
        client.with_options(timeout=0.3).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert time.monotonic() - started < 2


def test_hang_ends_by_dropping_the_connection(
    sim: ProviderSimulator, client: openai.OpenAI
) -> None:
    sim.openai.script(Fault.hang(0.1))
    with pytest.raises(openai.APIConnectionError) as caught:
        _ask(client)
    assert not isinstance(caught.value, openai.APITimeoutError)


@pytest.mark.parametrize("stream", [False, True])
def test_malformed_json_is_a_parse_failure(
    sim: ProviderSimulator, client: openai.OpenAI, stream: bool
) -> None:
    sim.openai.script(Fault.malformed_json())
    with pytest.raises(json.JSONDecodeError):
        if stream:
            with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as s:
                s.get_final_completion()
        else:
            _ask(client, response_format=JSON_FORMAT)


def test_refusal_is_visible(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(Fault.refusal("I can't help with that."), Fault.refusal(), Fault.refusal())
    message = _ask(client, tools=[TOOL], tool_choice=FORCED).choices[0].message
    assert (message.refusal, message.content) == ("I can't help with that.", None)
    assert message.tool_calls is None
    parsed = client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Verdict)
    assert parsed.choices[0].message.parsed is None
    assert parsed.choices[0].message.refusal
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_completion()
    assert "refusal.done" in kinds and final.choices[0].message.refusal


def test_missing_tool_call_is_visible(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(Fault.missing_tool_call("Looks benign."))
    choice = _ask(client, tools=[TOOL], tool_choice=FORCED).choices[0]
    assert (choice.message.content, choice.message.tool_calls) == ("Looks benign.", None)
    assert choice.finish_reason == "stop"


def test_invalid_payload_fails_parsing(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(
        Fault.invalid_payload({"is_threat": "maybe"}), Fault.invalid_payload("not json at all")
    )
    with pytest.raises(pydantic.ValidationError):
        client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Verdict)
    with pytest.raises(pydantic.ValidationError):
        client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Verdict)


def test_no_scripted_reply_is_an_explicit_unretried_500(
    sim: ProviderSimulator, client: openai.OpenAI
) -> None:
    with pytest.raises(openai.InternalServerError, match=r"sim\.openai\.script"):
        client.with_options(max_retries=2).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert len(sim.requests) == 1


# -- auth and recording -----------------------------------------------------------------


def test_recorded_requests_never_contain_the_key(sim: ProviderSimulator) -> None:
    secret = "sk-proj-very-secret-0123456789"
    sim.openai.script(VERDICT, Fault.rate_limit(), Reply(payload="streamed"))
    with openai.OpenAI(base_url=sim.openai_base_url, api_key=secret, max_retries=0) as sdk:
        _ask(sdk, response_format=JSON_FORMAT)
        with pytest.raises(openai.RateLimitError, match="Error code: 429"):
            _ask(sdk)
        list(_ask(sdk, stream=True))
        sdk.models.list()
    dumped = json.dumps([request.model_dump(mode="json") for request in sim.requests])
    assert secret not in dumped
    assert {request.headers["authorization"] for request in sim.requests} == {"***"}
    assert {request.auth for request in sim.requests} == {"bearer"}


def test_missing_key_is_401_authentication_error(
    sim: ProviderSimulator, client: openai.OpenAI
) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        _ask(client, extra_headers={"Authorization": openai.Omit()})
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert "api_key" in caught.value.message
    (request,) = sim.requests
    assert request.auth is None and "authorization" not in request.headers


def test_requests_are_kept_apart_by_provider(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.provider("openai").script("to openai")
    _ask(client)
    assert [r.provider for r in sim.requests] == ["openai"]
    assert sim.requests_for("anthropic") == []
    assert sim.openai.pending == 0 and sim.anthropic.pending == 0


def test_concurrent_requests_are_each_answered_and_recorded(sim: ProviderSimulator) -> None:
    sim.openai.respond_with(lambda request: f"echo {request.body['messages'][0]['content']}")  # type: ignore[index]

    async def run() -> list[str | None]:
        async with openai.AsyncOpenAI(
            base_url=sim.openai_base_url, api_key="test-key", max_retries=0
        ) as sdk:
            calls = [
                sdk.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": str(n)}]
                )
                for n in range(30)
            ]
            return [c.choices[0].message.content for c in await asyncio.gather(*calls)]

    assert asyncio.run(run()) == [f"echo {n}" for n in range(30)]
    assert sorted(request.index for request in sim.requests) == list(range(30))
    assert all(request.status == 200 for request in sim.requests)


def test_scripting_mistakes_fail_at_script_time(sim: ProviderSimulator) -> None:
    with pytest.raises(pydantic.ValidationError, match="JSON-serialisable"):
        sim.openai.script({"when": time})
    with pytest.raises(pydantic.ValidationError, match="exactly one of payload= or fault="):
        Reply(payload="x", fault=Fault.refusal())
    with pytest.raises(ValueError, match="5xx"):
        Fault.server_error(404)
    with pytest.raises(RuntimeError, match="already running"):
        sim.start()
    assert sim.openai.pending == 0


# -- output cap -----------------------------------------------------------------------------


def test_max_completion_tokens_is_honoured(sim: ProviderSimulator, client: openai.OpenAI) -> None:
    sim.openai.script(VERDICT, "word " * 200)
    cut = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, response_format=JSON_FORMAT, max_completion_tokens=3
    )
    assert cut.choices[0].finish_reason == "length"
    assert cut.usage is not None and cut.usage.completion_tokens == 3
    assert cut.choices[0].message.content == json.dumps(VERDICT, separators=(",", ":"))[:12]
    whole = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=1000)
    assert whole.choices[0].finish_reason == "stop"
    assert whole.usage is not None and whole.usage.completion_tokens == 250
