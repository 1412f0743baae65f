"""The signature -> ATT&CK table: built-in rules, priority, validation, loading from files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from siem_consensus.enrich.attack import is_valid_technique
from siem_consensus.enrich.attack_map import (
    DEFAULT_RULES,
    STAGE_RANK,
    AttackMap,
    MappingRule,
    default_map,
    phase_of,
    rules_table,
)
from siem_consensus.errors import ConfigError


def _rule_of(amap: AttackMap, **row: object) -> str | None:
    """Name of the rule an alert matches (signature and per-alert rules, first wins)."""
    columns = {
        c: [row.get(c)]
        for c in (
            "rule_name",
            "rule_category",
            "message",
            "url_original",
            "user_agent",
            "dns_question",
            "tls_sni",
            "file_path",
        )
    }
    frame = pl.DataFrame(columns, schema={c: pl.String for c in columns}).with_columns(
        pl.lit(row.get("destination_port"), pl.Int32).alias("destination_port"),
        pl.lit(row.get("source_bytes"), pl.Int64).alias("source_bytes"),
    )  # fmt: skip
    exprs = [amap.signature_expr()]
    row_expr = amap.row_expr()
    if row_expr is not None:
        exprs.append(row_expr)
    index = frame.select(pl.min_horizontal(exprs)).item()
    return None if index is None else amap.rules[index].name


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"rule_name": "ET SCAN Nikto Web App Scan in Progress"}, "vulnerability_scanner"),
        ({"rule_name": "ET SCAN Sqlmap SQL Injection Scan"}, "sql_injection"),
        ({"rule_name": "ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT"},
         "sql_injection"),
        ({"rule_name": "ET WEB_SERVER Suspicious GET", "url_original": "/a.php?id=1' OR '1'='1"},
         "sql_injection"),
        ({"rule_name": "ET WEB_SERVER Generic", "message": "cmd=ls;/bin/bash -i"},
         "command_injection"),
        ({"rule_name": "ET POLICY Outbound to odd port", "destination_port": 4444}, "c2_port"),
        ({"rule_name": "Wazuh: Multiple web server 400 error codes from same source ip."},
         "wordlist_scanner"),
        ({"rule_name": "Wazuh: sshd: insecure connection attempt (scan)."}, "network_scan"),
        ({"rule_name": "Wazuh: PAM: User login failed."}, "brute_force"),
        ({"rule_name": "Wazuh: Successful sudo to ROOT executed."}, "sudo"),
        ({"rule_name": "AMiner: New service_stop parameter combination in Audit logs."},
         "service_stop"),
        ({"rule_name": "AMiner: High entropy in DNS domain."}, "dns_tunnel"),
        ({"rule_name": "ET POLICY Large Outbound Data Transfer"}, "exfiltration"),
        ({"rule_name": "ET TROJAN Cobalt Strike Beacon Observed"}, "malware_c2"),
        ({"rule_name": "Possible PHP web shell access (c99)"}, "web_shell"),
        ({"rule_name": "ET EXPLOIT Apache Struts", "rule_category": "Attempted Administrator "
          "Privilege Gain"}, "exploit"),
        ({"rule_name": "ET POLICY GNU/Linux APT User-Agent Outbound"}, None),
        ({"rule_name": "ET INFO Observed DNS Query to .biz TLD"}, None),
        ({"rule_name": "Wazuh: Web server 400 error code."}, None),
    ],
)  # fmt: skip
def test_default_table_maps_signatures(fields: dict[str, object], expected: str | None) -> None:
    assert _rule_of(default_map(), **fields) == expected


def test_every_default_rule_cites_a_current_technique_and_a_known_stage() -> None:
    amap = default_map()
    for index, rule in enumerate(DEFAULT_RULES):
        assert is_valid_technique(rule.technique), rule.name
        assert all(is_valid_technique(t) for t in rule.also), rule.name
        assert rule.stage_name in STAGE_RANK
        assert amap.refs(index)[0].technique_id == rule.technique
    assert len({r.name for r in DEFAULT_RULES}) == len(DEFAULT_RULES)
    assert "| 1 | web_shell |" in rules_table()


def test_stage_order_and_phases() -> None:
    assert STAGE_RANK["reconnaissance"] < STAGE_RANK["initial_access"] == STAGE_RANK[
        "credential_access"] < STAGE_RANK["execution"] < STAGE_RANK["command_and_control"] < (
        STAGE_RANK["exfiltration"]) == STAGE_RANK["impact"]  # fmt: skip
    assert [phase_of(s) for s in ("reconnaissance", "execution", "command_and_control")] == [
        "reconnaissance", "exploitation", "post-exploitation"
    ]  # fmt: skip


def _rule(**changes: object) -> MappingRule:
    base = {"name": "mine", "pattern": "evil", "technique": "T1190", "tactic": "initial-access",
            "label": "evil thing"}  # fmt: skip
    return MappingRule.model_validate({**base, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"technique": "T9999"}, "not a current technique"),
        ({"technique": "T1190", "tactic": "impact"}, "is not in tactic"),
        ({"also": ("T0000",)}, "not a current technique"),
        ({"stage": "lunch"}, "unknown stage"),
        ({"pattern": "(unclosed"}, "does not compile"),
        ({"fields": ("payload",)}, "unknown fields"),
        ({"pattern": None}, "would match anything"),
    ],
)
def test_invalid_rules_raise_config_errors_naming_the_rule(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        AttackMap([_rule(**changes)])
    assert "'mine'" in str(info.value)


def test_rules_from_toml_go_first(tmp_path: Path) -> None:
    path = tmp_path / "extra.toml"
    path.write_text(
        '[[rule]]\nname = "apt_ua_is_c2"\npattern = "APT User-Agent"\ntechnique = "T1071.001"\n'
        'tactic = "command-and-control"\nlabel = "web C2"\n',
        encoding="utf-8",
    )
    amap = AttackMap.from_file(path)
    assert len(amap.rules) == len(DEFAULT_RULES) + 1
    assert _rule_of(amap, rule_name="ET POLICY GNU/Linux APT User-Agent Outbound") == "apt_ua_is_c2"
    assert len(AttackMap.from_file(path, replace=True).rules) == 1


def test_rules_from_json_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "rules.json"
    good.write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "name": "x",
                        "pattern": "x",
                        "technique": "T1110",
                        "tactic": "credential-access",
                        "label": "x",
                    }
                ]
            }
        )
    )
    assert AttackMap.from_file(good, replace=True).rules[0].name == "x"
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            [
                {
                    "name": "y",
                    "pattern": "y",
                    "technique": "T1595",
                    "tactic": "reconnaissance",
                    "label": "y",
                    "colour": "red",
                }
            ]
        )
    )
    with pytest.raises(ConfigError, match=r"rule 1 \('y'\)"):
        AttackMap.from_file(bad)
    revoked = tmp_path / "revoked.json"
    revoked.write_text(
        json.dumps(
            [
                {
                    "name": "old",
                    "pattern": "z",
                    "technique": "T1086",
                    "tactic": "execution",
                    "label": "z",
                }
            ]
        )
    )
    with pytest.raises(ConfigError, match="'old'"):
        AttackMap.from_file(revoked)
    with pytest.raises(ConfigError, match="cannot read"):
        AttackMap.from_file(tmp_path / "missing.toml")


def test_match_signature_is_cached() -> None:
    amap = AttackMap()
    first = amap.match_signature("ET SCAN Potential SSH Scan", "Attempted Information Leak")
    assert first is not None and amap.rules[first].name == "network_scan"
    assert amap.match_signature("ET SCAN Potential SSH Scan", "Attempted Information Leak") == first
