"""LLM analyst fan-out and prompt bound, against the provider simulator with 500 ms latency.

Run: python benchmarks/bench_llm.py [--latency 0.5] [--incidents 100] [--concurrency 16]

Prints, measured side by side in one run:
  A. one incident x 2 analysts (Claude + OpenAI in parallel) vs one single call: target <= 1.2x
  B. N incidents x 2 analysts at concurrency C vs the sequential sum of the same calls:
     target <= 0.1x
  C. estimated prompt tokens for a 10,000-event incident: target <= 3,000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
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
    args = parser.parse_args()
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
