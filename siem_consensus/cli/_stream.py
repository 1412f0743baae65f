"""``siem-consensus stream firewall|ids|insider``: one worker of a stream job on Kafka."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from ..errors import UsageError
from ._flags import CACHE, parse_budget

__all__ = ["add_stream_parser", "run_stream"]

_FAMILIES = ("firewall", "ids", "insider")
# Kafka connection settings (the kafka connector's names) -> librdkafka's names.
_LIBRDKAFKA = {
    "security_protocol": "security.protocol",
    "ssl_cafile": "ssl.ca.location",
    "ssl_certfile": "ssl.certificate.location",
    "ssl_keyfile": "ssl.key.location",
    "sasl_mechanism": "sasl.mechanisms",
    "sasl_plain_username": "sasl.username",
    "sasl_plain_password": "sasl.password",
}


def add_stream_parser(sub: Any) -> None:
    """Add the ``stream`` command to the command line's sub-parsers."""
    p = sub.add_parser(
        "stream",
        help="run one worker of a stream job on Kafka (start several with one --group)",
    )
    p.add_argument("family", choices=_FAMILIES, help="which batch command the job runs")
    p.add_argument(
        "--from",
        dest="from_",
        nargs=2,
        required=True,
        metavar=("CONNECTION", "TOPIC"),
        help="a kafka connection of --connectors and the input topic to read",
    )
    p.add_argument(
        "--to",
        action="append",
        default=[],
        metavar="CONNECTION",
        help="also write every decision to this configured connection (repeatable)",
    )
    p.add_argument("--connectors", metavar="TOML", help="connection settings")
    p.add_argument("--group", metavar="ID", help="consumer group (default per family and topic)")
    p.add_argument(
        "--until-idle",
        type=float,
        metavar="SECONDS",
        help="exit after this many seconds without input (tests, back-fills)",
    )
    p.add_argument("--input-format", help="parser to use (default: detected per message)")
    p.add_argument("--analysts", help="comma-separated analyst names (default: rules,baseline)")
    p.add_argument("--policy", help="unanimous, majority or weighted (default: the command's)")
    p.add_argument("--threshold", type=float, default=0.8, help="confidence threshold (0-1)")
    p.add_argument(
        "--lateness",
        type=int,
        metavar="SECONDS",
        help="log time an event may trail its partition's newest and still count "
        "(default: the family's session gap; a back-fill needs about its time span)",
    )
    p.add_argument(
        "--guarantee",
        choices=("exactly-once", "at-least-once"),
        default="exactly-once",
        help="processing guarantee (exactly-once needs a broker that aborts dead producers' "
        "transactions; see docs/scale.md)",
    )
    p.add_argument(
        "--decide-at",
        choices=("session", "end-of-input"),
        default="session",
        help="session: decide when an entity's session closes, against the population so far "
        "(live); end-of-input: wait for the end of a back-fill, so the baseline's population "
        "is the whole input's and decisions are the batch command's (see docs/scale.md)",
    )
    p.add_argument(
        "--replication",
        type=int,
        default=1,
        metavar="N",
        help="replication factor of the topics the job creates (3 on a real cluster)",
    )
    p.add_argument(
        "--budget",
        help="LLM budget of the whole job, shared by every worker of the group through a "
        "ledger topic: tokens (200000 or 200000tok) or dollars ($5 or 5usd); give each "
        "worker the same",
    )
    p.add_argument(
        "--budget-block",
        type=float,
        metavar="AMOUNT",
        help="how much a worker claims from the shared budget at a time (default: a tenth)",
    )
    p.add_argument(
        "--analyst-timeout",
        type=float,
        metavar="SECONDS",
        help="seconds an analyst call may take once sent (LLM analysts: each HTTP attempt), "
        "as in the batch commands",
    )
    p.add_argument("--cache", metavar="SQLITE", help=f"LLM response cache (default {CACHE})")
    p.add_argument("--no-cache", action="store_true", help="do not use the LLM response cache")
    p.add_argument(
        "--kafka-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a librdkafka setting for every client of the worker (repeatable), e.g. "
        "batch.num.messages=1",
    )
    p.add_argument("--state-dir", metavar="DIR", help="local state (default: a temporary dir)")
    p.add_argument(
        "--max-session-span",
        metavar="DURATION",
        help="cut an entity's session after this much log time even if it never falls silent "
        "(e.g. 86400, 24h, 2d; 0 or off: never; default: a day for firewall and ids, off for "
        "insider; a multiple of the family's longest window, see docs/scale.md)",
    )
    p.add_argument(
        "--timezone",
        metavar="ZONE",
        help="zone of time stamps written without one (IANA name, e.g. Europe/Vienna; default UTC)",
    )
    p.add_argument(
        "--rate-limit",
        action="append",
        default=[],
        metavar="PROVIDER=RATE",
        help="requests per second (or N/min) a provider may receive from the whole job, split "
        "across the group's live workers (repeatable), e.g. openai=5 or anthropic=50/min",
    )
    p.add_argument(
        "--checkpoint",
        default="siem-consensus-runs.sqlite",
        metavar="SQLITE",
        help="insider: graph checkpoints, where approvals wait for `siem-consensus review`",
    )


def kafka_settings(table: Mapping[str, Any], where: str) -> tuple[str, dict[str, str]]:
    """Bootstrap servers and librdkafka settings from a kafka connection's settings."""
    servers = table.get("bootstrap_servers")
    if isinstance(servers, list | tuple):
        servers = ",".join(str(s) for s in servers)
    if not isinstance(servers, str) or not servers.strip():
        raise UsageError(f"{where}: bootstrap_servers is required for a stream job")
    extra = {_LIBRDKAFKA[k]: str(v) for k, v in table.items() if k in _LIBRDKAFKA and v}
    return servers, extra


def run_stream(args: argparse.Namespace) -> int:
    """Run one worker until it is stopped or idle; print its counters as JSON on stderr."""
    from ..analysts.cache import ResponseCache
    from ..analysts.llm.base import LLMSettings
    from ..connectors import load_connector_config
    from ..stream import DecideSettings, StreamSettings, StreamWorker

    config = load_connector_config(args.connectors)
    name, topic = args.from_
    if config.type_of(name) != "kafka":
        raise UsageError(
            f"--from {name}: a stream job reads Kafka; {name!r} is a {config.type_of(name)} "
            "connection"
        )
    bootstrap, extra = kafka_settings(config.settings(name), f"{config.path} [connectors.{name}]")
    budget = _budget(args.budget)
    for setting in args.kafka_setting:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--kafka-setting {setting!r}: expected KEY=VALUE")
        extra[key.strip()] = value.strip()
    with contextlib.ExitStack() as stack:
        sinks = [stack.enter_context(config.create(n)) for n in dict.fromkeys(args.to)]
        cache = None
        if not args.no_cache:
            cache = stack.enter_context(ResponseCache(Path(args.cache or CACHE).expanduser()))
        decide = DecideSettings(
            analysts=args.analysts,
            policy=args.policy,
            threshold=args.threshold,
            llm_settings=LLMSettings(cache=cache),
            checkpoint=args.checkpoint,
            sinks=sinks,
            analyst_timeout=args.analyst_timeout,
        )
        settings = StreamSettings(
            family=args.family,
            bootstrap=bootstrap,
            topic=topic,
            group=args.group,
            input_format=args.input_format,
            decide=decide,
            state_dir=args.state_dir,
            kafka=extra,
            lateness_s=args.lateness,
            guarantee=args.guarantee,
            decide_at=args.decide_at,
            budget=budget,
            budget_block=args.budget_block,
            replication=args.replication,
            max_session_span_s=_duration(args.max_session_span),
            timezone=args.timezone,
            rate_limits=_rates(args.rate_limit),
        )
        worker = StreamWorker(settings)
        worker.run(until_idle=args.until_idle)
    seconds = {f"{stage}_s": round(value, 3) for stage, value in worker.seconds.items()}
    spent: dict[str, float] = {}
    if worker.budget is not None:
        spent = {"budget_granted": worker.budget.ledger.granted}
        spent.update(spent_tokens=worker.budget.spent_tokens)
        spent.update(spent_usd=round(worker.budget.spent_cost_usd, 6))
    print(json.dumps({**worker.counters, **seconds, **spent}, sort_keys=True), file=sys.stderr)
    return 0


def _budget(text: str | None) -> tuple[float, Literal["tokens", "usd"]] | None:
    """``--budget`` as (limit, unit)."""
    if not text:
        return None
    tokens, dollars = parse_budget(text)
    return (float(tokens), "tokens") if tokens is not None else (float(dollars or 0.0), "usd")


_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400}


def _duration(text: str | None) -> int | None:
    """``--max-session-span`` in seconds: None for the family's default, 0 for none."""
    if text is None:
        return None
    raw = text.strip().lower()
    if raw in ("off", "none", "0"):
        return 0
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = raw[len(number) :]
    try:
        value = int(number) * _UNITS[unit]
    except (ValueError, KeyError):
        raise UsageError(
            f"--max-session-span {text!r}: give seconds or a duration such as 86400, 24h or 2d"
        ) from None
    if value <= 0:
        raise UsageError(f"--max-session-span {text!r}: must be positive (or off)")
    return value


def _rates(given: Sequence[str]) -> dict[str, float]:
    """``--rate-limit PROVIDER=N`` (per second) or ``PROVIDER=N/min``, as requests per second."""
    rates: dict[str, float] = {}
    for item in given:
        provider, sep, value = item.rpartition("=")
        number, _, per = value.strip().partition("/")
        seconds = {"": 1.0, "s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0}.get(per.strip())
        try:
            rate = float(number) / seconds if seconds else -1.0
        except ValueError:
            rate = -1.0
        if not sep or not provider.strip() or not rate > 0:
            raise UsageError(
                f"--rate-limit {item!r}: expected PROVIDER=RATE, RATE requests per second "
                "(openai=5) or per minute (anthropic=50/min), positive"
            )
        rates[provider.strip()] = rate
    return rates
