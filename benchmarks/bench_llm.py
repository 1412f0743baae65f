"""LLM analyst fan-out and prompt bound, against the provider simulator with 500 ms latency.

Run: python benchmarks/bench_llm.py [--latency 0.5] [--incidents 100] [--concurrency 16]

Prints, measured side by side in one run:
  A. one incident x 2 analysts (Claude + OpenAI in parallel) vs one single call: target <= 1.2x
  B. N incidents x 2 analysts at concurrency C vs the sequential sum of the same calls:
     target <= 0.1x
  C. estimated prompt tokens for a 10,000-event incident: target <= 3,000

Run with --wire for E instead: raw identities in the recorded requests of one incident that
carries every identity-bearing field (default settings, loopback base URL), and budget
overshoot for 64 calls at concurrency 16. Run with --costs for D instead: calls, input/output
tokens and dollars per scenario (examples 1-3, the CIC-IDS2017 samples, the six AIT-ADS
scenarios read in place from ../shared/data) with the default models, Claude and OpenAI,
answered by the simulator with realistic-length verdicts; usage is the simulator's count
(request body and answer at 4 characters a token), prompt-cache reads and writes included
(--cache-min-tokens), reasoning tokens only when asked (--reasoning-tokens).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from siem_consensus import analyze_firewall
from siem_consensus.analysts.llm import ClaudeAnalyst, LLMSettings, OpenAIAnalyst, build_case_prompt
from siem_consensus.analysts.resilience import ProviderLimits
from siem_consensus.testing import ProviderSimulator

_LINE = (
    "Jan 18 {h:02d}:{m:02d}:{s:02d} firewall %ASA-4-106023: Deny tcp src outside:{src}/{sp} "
    'dst inside:{dst}/{port} by access-group "outside_in" [0x0, 0x0]'
)
_PORTS = (21, 22, 23, 25, 80, 443, 445, 1433, 3306, 3389, 5432, 8080, 8443)


def scanners(n: int, attempts: int = 15, seed: int = 1) -> list[str]:
    """ASA deny lines for ``n`` external hosts, each scanning 13 ports of one server."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        src, dst = f"45.95.{i // 250}.{i % 250 + 1}", f"10.1.50.{i % 200 + 1}"
        for k in range(attempts * len(_PORTS)):
            t = 8 * 3600 + i * 10 + k * 9
            lines.append(
                _LINE.format(
                    h=t // 3600 % 24,
                    m=t // 60 % 60,
                    s=t % 60,
                    src=src,
                    sp=rng.randint(1024, 65535),
                    dst=dst,
                    port=_PORTS[k % len(_PORTS)],
                )
            )
    lines.sort()
    return lines


def _analysts(sim: ProviderSimulator, concurrency: int) -> list[Any]:
    settings = LLMSettings(limits=ProviderLimits(concurrency=concurrency), pseudonymize=True)
    return [
        ClaudeAnalyst(
            "claude-sonnet-4-6", api_key="bench", base_url=sim.anthropic_base_url, settings=settings
        ),
        OpenAIAnalyst(
            "gpt-5.4-mini", api_key="bench", base_url=sim.openai_base_url, settings=settings
        ),
    ]


def _answer(request: Any) -> dict[str, Any]:
    return {
        "is_threat": True,
        "confidence": 0.9,
        "severity": "high",
        "category": "recon",
        "attack_techniques": ["T1046"],
        "evidence_event_ids": [],
        "rationale": "scan",
        "attacker_goal": "",
        "business_impact": "",
        "recommended_actions": [],
    }


# -- D. cost per scenario ------------------------------------------------------------------

_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_AIT = ("fox", "harrison", "russellmitchell", "santos", "shaw", "wheeler")
_RATIONALE = (
    "The source probed {n} sensitive services on one host within minutes and every attempt "
    "was denied, which matches automated reconnaissance rather than a misconfigured client. "
    "The timing is regular and no legitimate business flow explains the fan-out."
)


def _reasoning(tokens: int) -> Callable[[Any], Any]:
    """:func:`_realistic`, after ``tokens`` of reasoning per call (``--reasoning-tokens``)."""
    from siem_consensus.testing import Reply

    return lambda request: Reply(payload=_realistic(request), reasoning_tokens=tokens)


def _realistic(request: Any) -> dict[str, Any]:
    """A verdict of realistic length (about 230 output tokens) per case the request shows."""
    text = json.dumps(request.body)
    cases = list(dict.fromkeys(re.findall(r"CASE-[a-z0-9]+-\d{4}", text)))
    events = list(dict.fromkeys(re.findall(r"EVENT-[a-z0-9]+-\d{4}", text)))[:2]
    verdict = {
        "is_threat": True,
        "confidence": 0.82,
        "severity": "medium",
        "category": "reconnaissance",
        "attack_techniques": ["T1046"],
        "evidence_event_ids": events,
        "rationale": _RATIONALE.format(n=13),
        "attacker_goal": "Map exposed services to choose an entry point.",
        "business_impact": "Precedes exploitation of whatever service answers.",
        "recommended_actions": [
            "Block the source at the perimeter for 24 hours",
            "Check the target for successful connections from the same source",
            "Raise the rate-limit alert threshold review with the network team",
        ],
    }
    if len(cases) <= 1:
        return verdict
    return {"verdicts": [{**verdict, "incident_id": case} for case in cases]}


def _gz_lines(path: Path) -> Iterator[str]:
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            yield line.rstrip("\r\n")


def _scenarios() -> Iterator[tuple[str, Callable[[list[Any]], Any]]]:
    from siem_consensus import correlate_ids_alerts
    from siem_consensus.generators.firewall import scenario_1
    from siem_consensus.generators.ids import scenario_2

    yield (
        "example 1 (firewall)",
        lambda a: analyze_firewall(scenario_1(7), input_format="asa", analysts=a),
    )
    yield (
        "example 2 (IDS)",
        lambda a: correlate_ids_alerts(scenario_2(7), input_format="suricata", analysts=a),
    )
    yield "example 3 (insider)", _example_3
    cic = sorted((_DATA / "cicids2017").glob("*.csv.gz"))
    if cic:
        lines = [line for path in cic for line in _gz_lines(path)]
        yield (
            "CIC-IDS2017 samples",
            lambda a: analyze_firewall(lines, input_format="cicflowmeter", analysts=a),
        )
    for name in _AIT:
        path = _DATA / "ait-ads" / f"{name}_alerts.csv.gz"
        if path.exists():
            yield f"AIT-ADS {name}", _ait(path)


def _ait(path: Path) -> Callable[[list[Any]], Any]:
    from siem_consensus import correlate_ids_alerts

    return lambda a: correlate_ids_alerts(list(_gz_lines(path)), input_format="ait-ads", analysts=a)


def _example_3(analysts: list[Any]) -> Any:
    import tempfile

    from siem_consensus import detect_insider_threats
    from siem_consensus.generators.insider import generate_insider_dataset

    with tempfile.TemporaryDirectory() as tmp:
        generate_insider_dataset(Path(tmp) / "cert", seed=7)
        return detect_insider_threats(Path(tmp) / "cert", analysts=analysts)


def _costs(
    settings_kwargs: dict[str, Any], cache_min_tokens: int = 1024, reasoning_tokens: int = 0
) -> None:
    """Calls, tokens and dollars per scenario with the default models (claude + openai)."""
    from siem_consensus.analysts.llm import DEFAULT_MODELS

    print(
        f"D  cost per scenario, default models {DEFAULT_MODELS}, settings {settings_kwargs}, "
        f"simulator cache_min_tokens {cache_min_tokens}, reasoning tokens per call "
        f"{reasoning_tokens}"
    )
    columns = ["incidents", "calls", "input", "cached", "written", "output", "reasoning", "USD"]
    _row("scenario", columns)
    totals: list[float] = [0, 0, 0, 0, 0, 0, 0, 0.0]
    ait: list[float] = [0, 0, 0, 0, 0, 0, 0, 0.0]
    answer = _reasoning(reasoning_tokens) if reasoning_tokens else _realistic
    for name, run in _scenarios():
        # A fresh simulator per scenario: its prompt cache starts cold, as for a run on its own.
        with ProviderSimulator(cache_min_tokens=cache_min_tokens) as sim:
            sim.anthropic.respond_with(answer)
            sim.openai.respond_with(answer)
            settings = LLMSettings(**settings_kwargs)
            analysts = [
                ClaudeAnalyst(api_key="bench", base_url=sim.anthropic_base_url, settings=settings),
                OpenAIAnalyst(api_key="bench", base_url=sim.openai_base_url, settings=settings),
            ]
            report = run(["rules", *analysts])
            usages = [
                v.usage
                for d in report.decisions
                for v in d.verdicts
                if v.usage is not None and v.analyst in ("claude", "openai")
            ]
            row = [
                len(report.incidents),
                sum(u.calls for u in usages),
                sum(u.input_tokens for u in usages),
                sum(u.cached_input_tokens for u in usages),
                sum(u.cache_write_input_tokens for u in usages),
                sum(u.output_tokens for u in usages),
                sum(u.reasoning_tokens for u in usages),
                sum(u.cost_usd or 0.0 for u in usages),
            ]
            totals = [t + r for t, r in zip(totals, row, strict=True)]
            if name.startswith("AIT-ADS"):
                ait = [t + r for t, r in zip(ait, row, strict=True)]
            _row(name, row)
    _row("all", totals)
    _row("AIT-ADS, six scenarios", ait)


def _row(name: str, cells: list[Any]) -> None:
    shown = [
        c if isinstance(c, str) else (f"{c:.3f}" if isinstance(c, float) else f"{c:,}")
        for c in cells
    ]
    print(f"   {name:28} " + " ".join(f"{c:>10}" for c in shown))


# -- E. raw identities on the wire, budget overshoot ------------------------------------------

_RAW = {
    "alice.smith": "user.name",
    "ws-finance-07": "host.name",
    "203.0.113.9": "destination.ip",
    "10.1.2.3": "source.ip",
    "shop.example.com": "url.original host",
    "jdoe2": "url.original user / file.path profile",
    "s3cr3t": "url.original password",
    "evil-c2.example.net": "dns.question.name",
    "cdn.example.org": "tls.client.server_name",
    "alice.smith@corp.example": "email.from.address",
    "bob.jones@gmail.com": "email.to.address",
    "suricata-dmz": "observer.name",
}


def _identity_incident(k: int = 0) -> Any:
    import hashlib
    from datetime import UTC, datetime

    from siem_consensus import Entities, Event, Incident, Severity

    event = Event.model_validate(
        {
            "event_id": f"proxy.log:{k}",
            "@timestamp": datetime(2026, 1, 1, tzinfo=UTC),
            "source.ip": "10.1.2.3",
            "destination.ip": "203.0.113.9",
            "user.name": "alice.smith",
            "host.name": "ws-finance-07",
            "url.original": "https://jdoe2:s3cr3t@shop.example.com/cart?u=alice.smith@corp.example",
            "user_agent.original": "curl/8.0 (ws-finance-07)",
            "dns.question.name": "evil-c2.example.net",
            "tls.client.server_name": "cdn.example.org",
            "file.path": "C:\\Users\\jdoe2\\Documents\\plan.xlsx",
            "email.from.address": "alice.smith@corp.example",
            "email.to.address": "bob.jones@gmail.com",
            "observer.name": "suricata-dmz",
            "message": "GET from ws-finance-07",
        }
    )
    digest = hashlib.sha256(f"insider|alice.smith|2026-01-01|{k}".encode()).hexdigest()[:16]
    return Incident(
        id=f"insider-{digest}",
        detector="insider",
        kind="exfiltration",
        title="exfiltration by alice.smith",
        severity=Severity.HIGH,
        score=0.9,
        entities=Entities(
            users=("alice.smith",),
            hosts=("ws-finance-07",),
            source_ips=("10.1.2.3",),
            destination_ips=("203.0.113.9",),
        ),
        evidence=(event,),
        evidence_event_ids=(event.event_id,),
        event_count=1,
    )


def _wire_and_budget() -> None:
    """Raw identities in recorded requests (default settings, loopback base URL) and budget
    overshoot with 64 calls at concurrency 16."""
    import asyncio

    from siem_consensus.analysts import run_analyst
    from siem_consensus.analysts.costs import Budget
    from siem_consensus.analysts.resilience import RetryPolicy

    answer = _answer(None)
    for provider in ("anthropic", "openai"):
        with ProviderSimulator() as sim:
            sim.provider(provider).respond_with(lambda r: answer)
            settings = LLMSettings(retry=RetryPolicy(max_attempts=1))
            analyst: Any = (
                ClaudeAnalyst(
                    "claude-sonnet-4-6",
                    api_key="k",
                    base_url=sim.anthropic_base_url,
                    settings=settings,
                )
                if provider == "anthropic"
                else OpenAIAnalyst(
                    "gpt-5.4-mini", api_key="k", base_url=sim.openai_base_url, settings=settings
                )
            )
            incident = _identity_incident()

            async def one(a: Any = analyst, i: Any = incident) -> None:
                try:
                    await run_analyst(a, i, 30)
                finally:
                    await a.aclose()

            asyncio.run(one())
            sent = json.dumps([r.body for r in sim.requests])
        raw = {**_RAW, incident.id: "incident id"}
        leaked = [
            f"{v} ({where})"
            for v, where in raw.items()
            if re.search(rf"(?<![0-9a-z]){re.escape(v)}(?![0-9a-z])", sent)
        ]
        print(f"E  {provider}: raw identities in requests {len(leaked)}/{len(raw)} {leaked}")
    for limit in ({"max_tokens": 20_000}, {"max_cost_usd": 0.01}):
        with ProviderSimulator(latency=0.05) as sim:
            sim.openai.respond_with(lambda r: answer)
            budget = Budget(**limit)  # type: ignore[arg-type]
            settings = LLMSettings(
                budget=budget,
                limits=ProviderLimits(concurrency=16),
                retry=RetryPolicy(max_attempts=1),
            )
            analyst = OpenAIAnalyst(
                "gpt-5.4-mini", api_key="k", base_url=sim.openai_base_url, settings=settings
            )

            async def many(a: Any = analyst) -> None:
                try:
                    cases = [_identity_incident(k) for k in range(64)]
                    await asyncio.gather(*(run_analyst(a, c, 30) for c in cases))
                finally:
                    await a.aclose()

            asyncio.run(many())
            calls = len(sim.requests)
        print(
            f"E  budget {limit}: {calls} of 64 calls made, spent {budget.spent_tokens:,} tokens "
            f"/ ${budget.spent_cost_usd:.4f}"
        )


def _timed(lines: list[str], analysts: list[Any], concurrency: int) -> tuple[float, Any]:
    started = time.perf_counter()
    report = analyze_firewall(
        lines, input_format="asa", analysts=analysts, max_concurrency=concurrency
    )
    return time.perf_counter() - started - report.timings.get("parse_detect", 0.0), report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--incidents", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5, help="runs per A figure (median)")
    parser.add_argument("--costs", action="store_true", help="only D: cost per scenario")
    parser.add_argument("--wire", action="store_true", help="only E: identities, overshoot")
    parser.add_argument("--batch-size", type=int, help="D: LLMSettings.batch_size")
    parser.add_argument("--min-score", type=float, help="D: LLMSettings.min_score")
    parser.add_argument(
        "--cache-min-tokens",
        type=int,
        default=1024,
        help="D: shortest prefix the simulator caches, in its 4-characters-a-token count "
        "(default 1,024, the providers' minimum; lower it to mimic a tokenizer that counts more)",
    )
    parser.add_argument(
        "--reasoning-tokens", type=int, default=0, help="D: reasoning tokens per simulated call"
    )
    args = parser.parse_args()
    if args.wire:
        _wire_and_budget()
        return
    if args.costs:
        tuned = {"batch_size": args.batch_size, "min_score": args.min_score}
        _costs(
            {k: v for k, v in tuned.items() if v is not None},
            args.cache_min_tokens,
            args.reasoning_tokens,
        )
        return
    with ProviderSimulator(latency=args.latency) as sim:
        sim.anthropic.respond_with(_answer)
        sim.openai.respond_with(_answer)
        one = scanners(1)
        _timed(one, _analysts(sim, args.concurrency), args.concurrency)  # warm-up: SDK imports
        single = statistics.median(
            _timed(one, _analysts(sim, args.concurrency)[:1], args.concurrency)[0]
            for _ in range(args.repeat)
        )
        pair = statistics.median(
            _timed(one, _analysts(sim, args.concurrency), args.concurrency)[0]
            for _ in range(args.repeat)
        )
        many = scanners(args.incidents)
        fan, report = _timed(many, _analysts(sim, args.concurrency), args.concurrency)
    sequential = sum(v.latency_s or 0.0 for d in report.decisions for v in d.verdicts)
    calls = sum(len(d.verdicts) for d in report.decisions)
    big = scanners(1, attempts=770)[:10_000]
    incident = analyze_firewall(big, input_format="asa", analysts=["rules"]).incidents[0]
    prompt = build_case_prompt(incident)
    print(f"simulator latency {args.latency * 1000:.0f} ms")
    print(
        f"A  one call: {single:.3f} s (median of {args.repeat})   "
        f"one incident x 2 analysts: {pair:.3f} s   "
        f"ratio {pair / single:.2f} (target <= 1.2)"
    )
    print(
        f"B  {len(report.incidents)} incidents x 2 analysts = {calls} calls at concurrency "
        f"{args.concurrency}: {fan:.2f} s   sequential sum {sequential:.2f} s   "
        f"ratio {fan / sequential:.3f} (target <= 0.1)"
    )
    print(
        f"C  incident of {incident.event_count:,} events: prompt ~{prompt.estimated_tokens:,} "
        f"tokens (estimate), {prompt.evidence_shown} evidence events shown (target <= 3,000)"
    )


if __name__ == "__main__":
    main()
