"""Seeded CERT-format insider-threat data: an ordinary organisation plus injected scenarios.

:func:`generate_insider_dataset` writes ``logon.csv``, ``device.csv``, ``file.csv``,
``http.csv``, ``email.csv`` and ``LDAP/YYYY-MM.csv`` monthly snapshots in the CERT
insider-threat format (r6.2 columns for file, http and email, plus the project's ``bytes``
volume column), and returns the ground truth. :func:`generate_cert_shapes_dataset` writes
the three CERT r4.2 scenarios at CERT-like scale in the r4.2 columns (no byte counts, no
content). The model (benign variety, what each scenario
injects) is documented in ``docs/insider-data.md``.

Output is deterministic for a seed: all randomness comes from ``random.Random(seed)`` and the
calendar from ``start`` (default :data:`DEFAULT_START`), never from the wall clock.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ...errors import ConfigError
from ._activity import _ordinary, _Rows
from ._data import (
    BASELINE_DAILY_BYTES,
    DEFAULT_START,
    HEADERS,
    NIGHT_BYTES,
    NIGHT_DOWNLOADS,
    ORG_DOMAIN,
    SCENARIO_3_USER,
    SCENARIOS,
)
from ._org import _Org, _organisation, _write_ldap
from ._r42 import R42_HEADERS, _R42Rows, ordinary_r42, plan_lookalikes, scale_traits
from ._scenarios import _INJECTORS, _Plan, _plan
from ._shapes import CERT_SCENARIOS, INJECTORS, ShapePlan, plan_shapes

__all__ = [
    "BASELINE_DAILY_BYTES",
    "CERT_SCENARIOS",
    "DEFAULT_START",
    "HEADERS",
    "NIGHT_BYTES",
    "NIGHT_DOWNLOADS",
    "ORG_DOMAIN",
    "R42_HEADERS",
    "SCENARIOS",
    "SCENARIO_3_USER",
    "GeneratedDataset",
    "InjectedScenario",
    "generate_cert_shapes_dataset",
    "generate_insider_dataset",
]


class InjectedScenario(BaseModel):
    """Ground truth of one injected scenario."""

    model_config = ConfigDict(frozen=True)

    user: str = Field(description="User id of the insider.")
    scenario: str = Field(description="One of SCENARIOS.")
    first_day: date = Field(description="First day with scenario activity.")
    last_day: date = Field(description="Last day with scenario activity.")
    description: str = Field(description="What was injected, in one sentence.")


class GeneratedDataset(BaseModel):
    """What :func:`generate_insider_dataset` wrote, with the ground truth."""

    model_config = ConfigDict(frozen=True)

    directory: Path = Field(description="The output directory (give it to cert_inputs).")
    files: dict[str, Path] = Field(description="Event file per kind (logon, device, ...).")
    ldap: Path = Field(description="The LDAP snapshot directory.")
    rows: dict[str, int] = Field(description="Data rows written per kind (headers excluded).")
    truth: list[InjectedScenario] = Field(description="The injected scenarios.")
    benign_users: list[str] = Field(description="Every other user id, sorted.")
    seed: int = Field(description="The seed that reproduces these files.")


def _validate(users: int, days: int, scenarios: Sequence[str]) -> None:
    unknown = [name for name in scenarios if name not in SCENARIOS]
    if unknown:
        raise ConfigError.unknown("scenario", unknown[0], SCENARIOS)
    if len(set(scenarios)) != len(scenarios):
        raise ConfigError("each scenario can be injected once; remove the duplicate")
    if users < 12:
        raise ConfigError(f"users={users} is too small; give at least 12")
    if days < 21:
        raise ConfigError(f"days={days} is too short; give at least 21")


def _truth(org: _Org, plan: _Plan, description: str) -> InjectedScenario:
    return InjectedScenario(
        user=plan.user.uid,
        scenario=plan.scenario,
        first_day=org.start + timedelta(days=plan.first),
        last_day=org.start + timedelta(days=plan.last),
        description=description,
    )


def generate_insider_dataset(
    out_dir: str | os.PathLike[str],
    seed: int = 7,
    *,
    users: int = 60,
    days: int = 45,
    start: date = DEFAULT_START,
    scenarios: Sequence[str] = SCENARIOS,
) -> GeneratedDataset:
    """Write a seeded CERT-format data set with injected insider scenarios.

    Args:
        out_dir: Directory to write ``logon.csv`` ... ``email.csv`` and ``LDAP/`` into
            (created if needed; existing files of the same names are replaced).
        seed: Random seed; the same arguments give byte-identical files.
        users: Population size, ``bob.engineer`` and the insiders included (at least 12).
        days: Length of the period in days (at least 21).
        start: First day of the period.
        scenarios: Scenarios to inject, a subset of :data:`SCENARIOS`, each on its own user.

    Returns:
        The written paths, row counts, ground truth and benign user ids.

    Raises:
        ConfigError: unknown scenario, too few users or days, or a period that cannot hold a
            requested scenario (``theft_before_resignation`` needs a month boundary).
    """
    _validate(users, days, scenarios)
    rng = random.Random(seed)
    org = _organisation(rng, users, days, start)
    plans = _plan(org, rng, scenarios)
    rows = _Rows(rng, start, days)
    _ordinary(rows, rng, org)
    truth = [_truth(org, plan, _INJECTORS[plan.scenario](rows, rng, org, plan)) for plan in plans]
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    files, counts = rows.write(directory)
    insiders = {item.user for item in truth}
    return GeneratedDataset(
        directory=directory,
        files=files,
        ldap=_write_ldap(directory, org),
        rows=counts,
        truth=truth,
        benign_users=sorted(user.uid for user in org.users if user.uid not in insiders),
        seed=seed,
    )


def _shape_truth(org: _Org, plan: ShapePlan, description: str) -> InjectedScenario:
    return InjectedScenario(
        user=plan.user.uid,
        scenario=plan.scenario,
        first_day=org.start + timedelta(days=min(plan.days)),
        last_day=org.start + timedelta(days=max(*plan.days, plan.leave)),
        description=description,
    )


def generate_cert_shapes_dataset(
    out_dir: str | os.PathLike[str],
    seed: int = 7,
    *,
    users: int = 300,
    days: int = 180,
    start: date = DEFAULT_START,
    per_scenario: int = 8,
    scenarios: Sequence[str] = CERT_SCENARIOS,
    baseline_days: int = 30,
) -> GeneratedDataset:
    """Write a seeded CERT r4.2-format data set with the three CERT insider scenarios.

    Files: ``logon.csv``, ``device.csv``, ``file.csv`` (``id,date,user,pc,filename,content``),
    ``http.csv`` (``id,date,user,pc,url,content``), ``email.csv`` (r4.2 columns, attachment
    counts) with empty ``content`` and no byte counts, and monthly ``LDAP/`` snapshots from
    which insiders and benign leavers disappear. Every insider leaves before the last month.

    Args:
        out_dir: Directory to write into (created if needed).
        seed: Random seed; the same arguments give byte-identical files.
        users: Population size (at least 60).
        days: Length of the period (at least 100: a 30-day baseline, weeks of job search and
            a last month that the leavers miss).
        start: First day of the period.
        per_scenario: Insiders injected per scenario, each a different user.
        scenarios: A subset of :data:`CERT_SCENARIOS`.
        baseline_days: Days at the start kept free of scenario activity and of the benign
            look-alikes' one-off days (the detector's default baseline is 30 days).

    Returns:
        The written paths, row counts, ground truth and benign user ids.

    Raises:
        ConfigError: unknown scenario, too few users or days for the insiders asked for.
    """
    unknown = [name for name in scenarios if name not in CERT_SCENARIOS]
    if unknown:
        raise ConfigError.unknown("scenario", unknown[0], CERT_SCENARIOS)
    if users < 60 or days < 100 or not 1 <= per_scenario <= users // 10:
        raise ConfigError(
            f"users={users}, days={days}, per_scenario={per_scenario}: give at least 60 users, "
            "100 days and 1 to users/10 insiders per scenario"
        )
    rng = random.Random(seed)
    org = _organisation(rng, users, days, start)
    scale_traits(rng, org)
    last_month = org.day_of(org.months[-1])
    plans = plan_shapes(org, rng, tuple(scenarios), per_scenario, baseline_days, last_month)
    plan_lookalikes(rng, org, baseline_days, last_month)
    rows = _R42Rows(rng, start, days)
    ordinary_r42(rows, rng, org)
    truth = [_shape_truth(org, p, INJECTORS[p.scenario](rows, rng, org, p)) for p in plans]
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    files, counts = rows.write(directory)
    insiders = {item.user for item in truth}
    return GeneratedDataset(
        directory=directory,
        files=files,
        ldap=_write_ldap(directory, org),
        rows=counts,
        truth=truth,
        benign_users=sorted(user.uid for user in org.users if user.uid not in insiders),
        seed=seed,
    )
