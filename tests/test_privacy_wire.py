"""No raw identity ever reaches a provider: checked on the recorded HTTP requests."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from llm_helpers import claims, make_analyst

from siem_consensus import Entities, Event, Incident, Severity
from siem_consensus.analysts import run_analyst
from siem_consensus.testing import ProviderSimulator

# A digit inside every name keeps them from colliding with words of the fixed prompt text.
# Names of 3+ characters: shorter ones are by design only hidden where a whole field equals
# them, never inside free text (see siem_consensus.privacy).
names = st.from_regex(r"[a-z]{2,6}[0-9]{1,3}[a-z._]{0,5}", fullmatch=True)
ipv4 = st.tuples(*[st.integers(1, 254)] * 4).map(lambda t: ".".join(map(str, t)))


def _incident(users: list[str], hosts: list[str], ips: list[str]) -> Incident:
    events = tuple(
        Event(
            event_id=f"auth.log:{n}",
            timestamp=datetime(2026, 1, 18, tzinfo=UTC),
            source_ip=ip,
            user_name=user,
            host_name=host,
            destination_port=22,
            message=f"Failed password for {user} from {ip} on {host} port 22",
        )
        for n, (user, host, ip) in enumerate(zip(users, hosts, ips, strict=False), 1)
    )
    return Incident(
        id="fw-x",
        detector="firewall",
        kind="brute_force",
        score=0.9,
        severity=Severity.HIGH,
        title=f"Brute force from {ips[0]} against {hosts[0]} as {users[0]}",
        entities=Entities(source_ips=tuple(ips), users=tuple(users), hosts=tuple(hosts)),
        evidence=events,
        evidence_event_ids=tuple(e.event_id for e in events),
        event_count=len(events),
        reasons=(f"{len(events)} failures for {users[0]}",),
    )


@settings(max_examples=25, deadline=None)
@given(
    st.lists(names, min_size=1, max_size=4, unique=True),
    st.lists(names, min_size=1, max_size=4, unique=True),
    st.lists(ipv4, min_size=1, max_size=4, unique=True),
    st.sampled_from(["anthropic", "openai"]),
)
def test_no_raw_value_in_any_recorded_request(
    users: list[str], hosts: list[str], ips: list[str], provider: str
) -> None:
    incident = _incident(users, hosts, ips)
    raw_values = {*users, *hosts, *ips}
    with ProviderSimulator() as sim:
        sim.provider(provider).script(claims(incident, evidence_event_ids=[]))
        analyst = make_analyst(provider, sim)

        async def judge() -> None:
            try:
                await run_analyst(analyst, incident, timeout=30)
            finally:
                await analyst.aclose()

        asyncio.run(judge())
        [request] = sim.requests_for(provider)
        sent = json.dumps(request.body)
    # Whole tokens only: a short name such as "aa0" can occur by chance inside the hex of a
    # nonce marker or pseudonym tag, which is not a leak of the identity.
    leaked = sorted(
        v for v in raw_values if re.search(rf"(?<![0-9a-z]){re.escape(v)}(?![0-9a-z])", sent)
    )
    assert not leaked, f"raw values reached the provider: {leaked}"


domains = st.from_regex(r"[a-z]{2,6}[0-9]{1,3}(\.[a-z]{2,5}){1,2}", fullmatch=True)
secrets_ = st.from_regex(r"[A-Za-z]{3,6}[0-9]{2,4}", fullmatch=True)


@settings(max_examples=25, deadline=None)
@given(
    user=names,
    host=names,
    mail_user=names,
    sensor=names,
    domain=domains,
    sni=domains,
    query=domains,
    secret=secrets_,
    provider=st.sampled_from(["anthropic", "openai"]),
)
def test_no_raw_identity_in_urls_paths_dns_mail_or_sensor_names(
    user: str,
    host: str,
    mail_user: str,
    sensor: str,
    domain: str,
    sni: str,
    query: str,
    secret: str,
    provider: str,
) -> None:
    # Default settings (pseudonymize=None) and a loopback base URL: the simulator stands for a
    # local gateway that forwards to the cloud, so pseudonymization must still be on.
    mailbox = f"{mail_user}@{domain}"
    event = Event.model_validate(
        {
            "event_id": f"{host}.log:7",
            "@timestamp": datetime(2026, 1, 18, tzinfo=UTC),
            "user.name": user,
            "url.original": f"https://{user}:{secret}@{domain}/u?to={mailbox}",
            "user_agent.original": f"agent/1.0 ({sensor})",
            "dns.question.name": query,
            "tls.client.server_name": sni,
            "file.path": rf"C:\Users\{user}\AppData\{query}\cache.bin",
            "email.from.address": mailbox,
            "email.to.address": f"{mail_user}@{sni}, {mailbox}",
            "observer.name": sensor,
            "message": f"{user} on {host} fetched {query} via {sensor}",
        }
    )
    incident = Incident(
        id=f"insider-{user}-2026-01-18",
        detector="insider",
        kind="exfiltration",
        score=0.9,
        severity=Severity.HIGH,
        title=f"Upload by {user} to {domain}",
        entities=Entities(users=(user,), hosts=(host,)),
        evidence=(event,),
        evidence_event_ids=(event.event_id,),
        event_count=1,
    )
    raw_values = {user, host, mail_user, sensor, domain, sni, query, secret, mailbox}
    raw_values |= {incident.id, event.event_id}
    with ProviderSimulator() as sim:
        sim.provider(provider).script(claims(incident, evidence_event_ids=[]))
        analyst = make_analyst(provider, sim, pseudonymize=None)
        assert analyst.pseudonymize

        async def judge() -> None:
            try:
                await run_analyst(analyst, incident, timeout=30)
            finally:
                await analyst.aclose()

        asyncio.run(judge())
        [request] = sim.requests_for(provider)
        sent = json.dumps(request.body)
    leaked = sorted(
        v for v in raw_values if re.search(rf"(?<![0-9a-z]){re.escape(v)}(?![0-9a-z])", sent)
    )
    assert not leaked, f"raw values reached the provider: {leaked}"
