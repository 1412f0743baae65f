"""Map IDS signatures to ATT&CK techniques and kill-chain stages: an ordered, extendable table.

Each :class:`MappingRule` is a case-insensitive regular expression (polars/Rust syntax: no
look-around, no back-references) searched in some alert fields, plus optional conditions on the
destination port and on the bytes sent; it names one ATT&CK technique, the tactic it stands for
and so a kill-chain stage. **The first rule that matches an alert wins**, so specific rules come
before general ones (``sql injection`` before ``scan``, so ``ET SCAN Sqlmap SQL Injection Scan``
is an injection attempt). An alert no rule matches has no stage: it can still be part of an
incident, but it is not evidence of an attack step.

Every technique id (and every ``also`` id) is validated against the pinned ATT&CK release when
the table is built, and the tactic must be one of the technique's tactics: a table that cites a
revoked or unknown id raises :class:`~siem_consensus.errors.ConfigError` naming the rule.

Kill-chain stages are ATT&CK tactic short names with underscores. Their order (rank), used for
"progression" and for sorting, is:

==== ====================================================================================
rank stages
==== ====================================================================================
0    reconnaissance, resource_development
1    initial_access, credential_access
2    execution, persistence, privilege_escalation, defense_evasion, discovery
3    command_and_control, lateral_movement
4    exfiltration, collection, impact
==== ====================================================================================

Titles speak of three phases: *reconnaissance* (rank 0), *exploitation* (initial access,
credential access, execution) and *post-exploitation* (everything after).

Extending: write rules in TOML (``[[rule]]`` tables) or JSON (a list, or ``{"rules": [...]}``)
with the fields of :class:`MappingRule` and load them with :meth:`AttackMap.from_file`; they go
**before** the built-in rules (yours win) unless ``replace=True``::

    [[rule]]
    name = "struts_exploit"
    pattern = "struts2? (ognl|rce)"
    technique = "T1190"
    tactic = "initial-access"
    label = "Struts exploitation"
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Collection, Iterable, Sequence
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError
from ..models import AttackRef
from .attack import attack_ref

__all__ = [
    "C2_PORTS",
    "DEFAULT_RULES",
    "PHASES",
    "ROW_FIELDS",
    "SIGNATURE_FIELDS",
    "STAGE_RANK",
    "AttackMap",
    "MappingRule",
    "default_map",
    "load_rules",
    "phase_of",
    "rules_table",
]

STAGE_RANK: Final[dict[str, int]] = {
    "reconnaissance": 0,
    "resource_development": 0,
    "initial_access": 1,
    "credential_access": 1,
    "execution": 2,
    "persistence": 2,
    "privilege_escalation": 2,
    "defense_evasion": 2,
    "discovery": 2,
    "command_and_control": 3,
    "lateral_movement": 3,
    "exfiltration": 4,
    "collection": 4,
    "impact": 4,
}
"""Kill-chain rank of each stage (see the module docstring)."""

PHASES: Final = ("reconnaissance", "exploitation", "post-exploitation")
"""The three phases titles speak of, in order."""

SIGNATURE_FIELDS: Final = frozenset({"rule_name", "rule_category"})
"""Fields fixed per signature: rules reading only these are evaluated once per signature."""

C2_PORTS: Final = frozenset({4444, 1337, 31337})
"""Ports of Metasploit's default handler and of classic backdoors."""

ROW_FIELDS: Final = frozenset(
    {"message", "url_original", "user_agent", "dns_question", "tls_sni", "file_path"}
)
"""Per-alert text fields a rule may also search (payloads, URLs: attacker-controlled text)."""


def phase_of(stage: str) -> str:
    """The phase (reconnaissance, exploitation, post-exploitation) of a kill-chain stage."""
    rank = STAGE_RANK.get(stage, 2)
    if rank == 0:
        return PHASES[0]
    if stage in ("initial_access", "credential_access", "execution"):
        return PHASES[1]
    return PHASES[2]


class MappingRule(BaseModel):
    """One row of the table: when an alert matches, which technique and stage it shows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Rule name, used in error messages and documentation.")
    pattern: str | None = Field(
        None, description="Regular expression (case-insensitive, Rust syntax) searched in `fields`."
    )
    technique: str = Field(description="ATT&CK technique id, e.g. T1190.")
    tactic: str = Field(description="ATT&CK tactic short name, e.g. initial-access.")
    stage: str | None = Field(
        None, description="Kill-chain stage; defaults to the tactic with underscores."
    )
    label: str = Field(description="Short human label, e.g. 'SQL injection'.")
    narrative: str | None = Field(
        None,
        description="Clause for narratives; placeholders {dst}, {port}, {n}, {s} (plural 's'). "
        "Defaults to 'attempted <label>' up to rank 2, else 'showed <label> with {dst}'.",
    )
    fields: tuple[str, ...] = Field(
        ("rule_name", "rule_category"), description="Alert fields the pattern is searched in."
    )
    ports: frozenset[int] = Field(
        frozenset(), description="If set, the destination port must be one of these."
    )
    min_bytes: int | None = Field(
        None, ge=0, description="If set, the source must have sent at least this many bytes."
    )
    also: tuple[str, ...] = Field(
        (), description="Further technique ids the alert shows (their first tactic is used)."
    )
    follow_up: bool = Field(
        False,
        description="Stage evidence only after a foothold: the IDS correlator counts the alert "
        "as an attack step only on a host that was the target of a foothold step (initial "
        "access, execution, persistence) within its foothold_horizon_s; elsewhere it is an "
        "ordinary alert. For signals too common alone (an anomalous web request).",
    )

    @property
    def stage_name(self) -> str:
        """The kill-chain stage of this rule."""
        return self.stage or self.tactic.replace("-", "_")

    @property
    def per_row(self) -> bool:
        """True when the rule has per-alert conditions (port, bytes): evaluated per alert."""
        return bool(self.ports) or self.min_bytes is not None

    def clause(self) -> str:
        """The narrative clause template of this rule."""
        if self.narrative:
            return self.narrative
        if STAGE_RANK[self.stage_name] >= 3:
            return f"showed {self.label} with {{dst}}"
        return f"attempted {self.label}"


def load_rules(path: str | os.PathLike[str]) -> tuple[MappingRule, ...]:
    """Read mapping rules from TOML (``[[rule]]``) or JSON (list or ``{"rules": [...]}``).

    Raises:
        ConfigError: unreadable or malformed file, or an invalid rule (named by position).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read ATT&CK mapping rules: {exc}") from None
    return _parse_rules(text, file.name, toml=file.suffix.lower() == ".toml")


def _parse_rules(text: str, where: str, *, toml: bool) -> tuple[MappingRule, ...]:
    try:
        data: Any = tomllib.loads(text) if toml else json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: cannot read ATT&CK mapping rules: {exc}") from None
    items = data.get("rule", data.get("rules")) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ConfigError(f"{where}: expected a list of rules ([[rule]] in TOML, a JSON list)")
    return tuple(_rule(where, n, item) for n, item in enumerate(items, start=1))


def _rule(where: str, number: int, item: object) -> MappingRule:
    try:
        return MappingRule.model_validate(item)
    except ValidationError as exc:
        name = item.get("name") if isinstance(item, dict) else None
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{where}: rule {number} ({name!r}): {problems}") from None


DEFAULT_RULES: Final[tuple[MappingRule, ...]] = _parse_rules(
    files(__package__).joinpath("attack_rules.toml").read_text(encoding="utf-8"),
    "attack_rules.toml",
    toml=True,
)
"""The built-in table, shipped as data (``attack_rules.toml`` beside this module; ``docs/ids.md``
shows it as a table). The last rule has no pattern: an alert on a classic reverse-shell/backdoor
port (:data:`C2_PORTS`) that nothing above explained."""


class AttackMap:
    """An ordered, validated table of :class:`MappingRule`.

    Args:
        rules: Rules in priority order (the first match wins).

    Raises:
        ConfigError: a rule cites an unknown/revoked technique, a tactic the technique does not
            have, an unknown stage or field, or a pattern that does not compile.
    """

    def __init__(self, rules: Iterable[MappingRule] = DEFAULT_RULES) -> None:
        self.rules: tuple[MappingRule, ...] = tuple(rules)
        self._refs = tuple(_validate(rule) for rule in self.rules)
        self._cache: dict[tuple[str | None, str | None], int | None] = {}

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, replace: bool = False) -> AttackMap:
        """Load rules from a TOML or JSON file, before the built-in ones (or instead of them).

        Raises:
            ConfigError: unreadable file, unknown keys, or an invalid rule (named).
        """
        extra = load_rules(path)
        return cls(extra if replace else (*extra, *DEFAULT_RULES))

    def refs(self, index: int) -> tuple[AttackRef, ...]:
        """Validated ATT&CK references of rule ``index`` (primary first)."""
        return self._refs[index]

    def stage(self, index: int) -> str:
        """Kill-chain stage of rule ``index``."""
        return self.rules[index].stage_name

    @cached_property
    def stage_ranks(self) -> tuple[int, ...]:
        """Rank of each rule's stage, by rule index."""
        return tuple(STAGE_RANK[rule.stage_name] for rule in self.rules)

    def match_signature(self, name: str | None, category: str | None) -> int | None:
        """Index of the first per-signature rule matching this name and category (cached)."""
        key = (name, category)
        if key not in self._cache:
            frame = pl.DataFrame(
                {"rule_name": [name], "rule_category": [category]},
                schema={"rule_name": pl.String, "rule_category": pl.String},
            )
            self._cache[key] = frame.select(self.signature_expr()).item()
        return self._cache[key]

    def signature_table(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``rule_name, rule_category, sig_rule`` for the distinct signatures of ``frame``.

        Signatures seen before come from a cache; new ones are matched in one vectorised pass.
        """
        pairs = frame.select("rule_name", "rule_category").unique()
        keys = list(pairs.iter_rows())
        new = [k for k in keys if k not in self._cache]
        if new:
            fresh = pl.DataFrame(new, schema=pairs.schema, orient="row")
            matched = fresh.select(self.signature_expr()).to_series()
            self._cache.update(zip(new, matched, strict=True))
        return pairs.with_columns(
            pl.Series("sig_rule", [self._cache[k] for k in keys], dtype=pl.Int32)
        )

    def signature_expr(self) -> pl.Expr:
        """Index of the first rule whose pattern matches the signature name or category, among
        rules without per-alert conditions; null when none (Int32)."""
        return _first_match(
            (i, _text_condition(r, SIGNATURE_FIELDS))
            for i, r in enumerate(self.rules)
            if not r.per_row and SIGNATURE_FIELDS & set(r.fields) and r.pattern
        ).alias("sig_rule")

    def row_expr(self, present: Collection[str] | None = None) -> pl.Expr | None:
        """Index of the first rule matching per-alert fields (payload, URL, port, bytes), or
        None when no such rule can match. The alert's rule is the smaller (earlier) of this
        and :meth:`signature_expr`, which is the first rule matching overall.

        Args:
            present: Columns that have values (None: all). Rules that could only match on
                absent columns are left out, which saves work on inputs without payloads.
        """
        conditions = [
            (i, _row_condition(r))
            for i, r in enumerate(self.rules)
            if (r.per_row or ROW_FIELDS & set(r.fields)) and _possible(r, present)
        ]
        return _first_match(conditions).alias("row_rule") if conditions else None


def _possible(rule: MappingRule, present: Collection[str] | None) -> bool:
    """Whether the per-alert part of ``rule`` can match when only ``present`` have values."""
    if present is None:
        return True
    if rule.ports and "destination_port" not in present:
        return False
    if rule.min_bytes is not None and "source_bytes" not in present:
        return False
    if rule.per_row:
        return True
    return bool(ROW_FIELDS & set(rule.fields) & set(present))


def _first_match(conditions: Iterable[tuple[int, pl.Expr]]) -> pl.Expr:
    expr: Any = None
    for index, condition in conditions:
        value = pl.lit(index, pl.Int32)
        expr = pl.when(condition).then(value) if expr is None else expr.when(condition).then(value)
    return pl.lit(None, pl.Int32) if expr is None else expr.otherwise(pl.lit(None, pl.Int32))


def _text_condition(rule: MappingRule, among: frozenset[str]) -> pl.Expr:
    fields = [f for f in rule.fields if f in among]
    if rule.pattern is None or not fields:
        return pl.lit(rule.pattern is None)
    pattern = f"(?i){rule.pattern}"
    return pl.any_horizontal([pl.col(f).str.contains(pattern).fill_null(False) for f in fields])


def _row_condition(rule: MappingRule) -> pl.Expr:
    if not rule.per_row:
        return _text_condition(rule, ROW_FIELDS)
    condition = _text_condition(rule, SIGNATURE_FIELDS | ROW_FIELDS)
    if rule.ports:
        ports = pl.lit(sorted(rule.ports), pl.List(pl.Int32)).explode().implode()
        condition &= pl.col("destination_port").is_in(ports).fill_null(False)
    if rule.min_bytes is not None:
        condition &= (pl.col("source_bytes") >= rule.min_bytes).fill_null(False)
    return condition


def _validate(rule: MappingRule) -> tuple[AttackRef, ...]:
    where = f"ATT&CK mapping rule {rule.name!r}"
    if rule.stage_name not in STAGE_RANK:
        valid_stages = ", ".join(STAGE_RANK)
        raise ConfigError(f"{where}: unknown stage {rule.stage_name!r}; valid: {valid_stages}")
    unknown = set(rule.fields) - SIGNATURE_FIELDS - ROW_FIELDS
    if unknown or not rule.fields:
        valid = ", ".join(sorted(SIGNATURE_FIELDS | ROW_FIELDS))
        raise ConfigError(f"{where}: unknown fields {sorted(unknown)}; valid fields are: {valid}")
    if rule.pattern is None and not rule.ports and rule.min_bytes is None:
        raise ConfigError(f"{where}: give a pattern, ports or min_bytes (it would match anything)")
    if rule.pattern is not None:
        try:
            pl.Series([""]).str.contains(f"(?i){rule.pattern}")
        except pl.exceptions.PolarsError as exc:
            raise ConfigError(f"{where}: pattern does not compile: {exc}") from None
    try:
        primary = attack_ref(rule.technique, rule.tactic)
        return (primary, *(attack_ref(t) for t in rule.also))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def default_map() -> AttackMap:
    """A shared instance of the built-in table."""
    return _DEFAULT


def rules_table(rules: Sequence[MappingRule] = DEFAULT_RULES) -> str:
    """The table as Markdown (for documentation)."""
    lines = [
        "| # | rule | pattern (case-insensitive) | also searched | technique | stage |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for n, rule in enumerate(rules, start=1):
        cond = "`" + rule.pattern.replace("|", "\\|") + "`" if rule.pattern else ""
        if rule.ports:
            cond += f" destination port in {sorted(rule.ports)}"
        extra = ", ".join(f for f in rule.fields if f in ROW_FIELDS) or "-"
        techniques = ", ".join((rule.technique, *rule.also))
        stage = rule.stage_name + (" (after a foothold)" if rule.follow_up else "")
        lines.append(f"| {n} | {rule.name} | {cond.strip()} | {extra} | {techniques} | {stage} |")
    return "\n".join(lines)


_DEFAULT = AttackMap()
