"""Site and domain lists of the insider detector, and the classification of resources.

Lists are matched on the end of a host name: ``dropbox.com`` matches ``www.dropbox.com`` and
``content.dropbox.com``. Job sites are matched on URLs in :mod:`._state` and may add a
path prefix (``linkedin.com/jobs``); the others are matched at finish on the web and mail
domains the state kept (:func:`classify`). Every list is a constructor argument of
:class:`~siem_consensus.detectors.insider.InsiderDetector`. The default lists ship as data
(``sites.json`` beside this module: categories ``job``, ``file_sharing``, ``paste``, ``leak``
and ``personal_email``), so they can be reviewed and extended without touching code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import polars as pl

from ._state import in_values

__all__ = [
    "CLOUD_STORAGE_SITES",
    "COMPETITOR_DOMAINS",
    "JOB_SITES",
    "LEAK_SITES",
    "PASTE_SITES",
    "PERSONAL_EMAIL_DOMAINS",
    "SiteLists",
    "classify",
    "company_domains",
]


def _load_sites() -> dict[str, tuple[str, ...]]:
    """The shipped site categories (``sites.json`` beside this module)."""
    raw = json.loads(resources.files(__package__).joinpath("sites.json").read_text("utf-8"))
    return {k: tuple(v) for k, v in raw.items() if not k.startswith("_")}


_SITES = _load_sites()

JOB_SITES: tuple[str, ...] = _SITES["job"]
"""Job-search sites, optionally with a path prefix (``linkedin.com/jobs``: the LinkedIn feed is
not job search): visits hint at an intent to leave (context, never enough on its own)."""

CLOUD_STORAGE_SITES: tuple[str, ...] = _SITES["file_sharing"]
"""Cloud storage and file-drop sites: uploads there leave the company."""

PASTE_SITES: tuple[str, ...] = _SITES["paste"]
"""Text storage (paste) sites."""

LEAK_SITES: tuple[str, ...] = _SITES["leak"]
"""Leak and whistle-blowing sites (WikiLeaks, Cryptome, DDoSecrets, ...): any request to them
from a user who never went there is a signal, even without an upload record (CERT r4.2 logs
page visits only)."""

COMPETITOR_DOMAINS: tuple[str, ...] = ()
"""Competitors' domains: none by default, every company has its own list."""

PERSONAL_EMAIL_DOMAINS: tuple[str, ...] = _SITES["personal_email"]
"""Free-mail providers: attachments mailed there leave the company's control."""


def _clean(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v.strip().lower().removeprefix("www.") for v in values if v.strip()}))


@dataclass(frozen=True)
class SiteLists:
    """Domain lists the insider detector classifies web and mail activity with.

    Attributes:
        job_sites: Job-search sites.
        cloud_sites: Cloud-storage, file-drop, paste and leak sites (uploads there count).
        leak_sites: Leak sites (any request counts).
        competitor_domains: Competitors' web and mail domains.
        personal_email_domains: Free-mail providers.
        company_domains: The company's own mail domains; when empty they are taken from the
            directory's e-mail addresses, else the recipient domain most users mail to.
    """

    job_sites: tuple[str, ...] = JOB_SITES
    cloud_sites: tuple[str, ...] = CLOUD_STORAGE_SITES + PASTE_SITES + LEAK_SITES
    leak_sites: tuple[str, ...] = LEAK_SITES
    competitor_domains: tuple[str, ...] = COMPETITOR_DOMAINS
    personal_email_domains: tuple[str, ...] = PERSONAL_EMAIL_DOMAINS
    company_domains: tuple[str, ...] = ()

    def job_pattern(self) -> str | None:
        """Regular expression matching lower-case URLs of :attr:`job_sites` (None if empty)."""
        if not self.job_sites:
            return None
        sites = "|".join(re.escape(site) for site in self.job_sites)
        return rf"^(?:[a-z][a-z0-9+.-]*://)?(?:[^/?#@]*\.)?(?:{sites})(?:[/?#:]|$)"

    @classmethod
    def of(
        cls,
        job_sites: Iterable[str] | None = None,
        cloud_sites: Iterable[str] | None = None,
        competitor_domains: Iterable[str] | None = None,
        personal_email_domains: Iterable[str] | None = None,
        company_domains: Iterable[str] | None = None,
        leak_sites: Iterable[str] | None = None,
    ) -> SiteLists:
        """Lists from optional overrides (None keeps the default), normalised to lower case."""
        default = cls()
        return cls(
            job_sites=_clean(default.job_sites if job_sites is None else job_sites),
            cloud_sites=_clean(default.cloud_sites if cloud_sites is None else cloud_sites),
            competitor_domains=_clean(competitor_domains or ()),
            personal_email_domains=_clean(
                default.personal_email_domains
                if personal_email_domains is None
                else personal_email_domains
            ),
            company_domains=_clean(company_domains or ()),
            leak_sites=_clean(default.leak_sites if leak_sites is None else leak_sites),
        )


def _domain_in(column: pl.Expr, domains: tuple[str, ...]) -> pl.Expr:
    if not domains:
        return pl.lit(False)
    suffix = pl.any_horizontal(*(column.str.ends_with("." + d) for d in domains))
    return (in_values(column, domains) | suffix).fill_null(False)


def company_domains(
    resources: pl.DataFrame, lists: SiteLists, directory: pl.DataFrame | None
) -> tuple[str, ...]:
    """Configured company domains, else the directory's, else the most mailed-to domain."""
    if lists.company_domains:
        return lists.company_domains
    if directory is not None and "email" in directory.columns:
        found = directory["email"].drop_nulls().str.to_lowercase().str.extract(r"@(.+)$", 1)
        domains = tuple(sorted(found.drop_nulls().unique().to_list()))
        if domains:
            return domains
    mail = resources.filter((pl.col("kind") == "mail") & (pl.col("resource") != "?"))
    if mail.is_empty():
        return ()
    top = mail.group_by("resource").agg(pl.col("user").n_unique().alias("users"))
    return (str(top.sort(["users", "resource"], descending=[True, False])["resource"][0]),)


def classify(resources: pl.DataFrame, lists: SiteLists, company: tuple[str, ...]) -> pl.DataFrame:
    """Add boolean columns ``cloud``, ``leak``, ``competitor``, ``external``, ``personal``."""
    res = pl.col("resource")
    web, mail = pl.col("kind") == "web", pl.col("kind") == "mail"
    external = mail & (res != "?") & ~_domain_in(res, company)
    return resources.with_columns(
        (web & _domain_in(res, lists.cloud_sites)).alias("cloud"),
        (web & _domain_in(res, lists.leak_sites)).alias("leak"),
        ((web | mail) & _domain_in(res, lists.competitor_domains)).alias("competitor"),
        external.alias("external"),
        (external & _domain_in(res, lists.personal_email_domains)).alias("personal"),
    )
