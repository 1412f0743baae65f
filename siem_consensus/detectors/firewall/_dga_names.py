"""What a DNS name looks like: its registrable domain and whether that label looks generated.

Behaviour only, no list of bad names: a domain-generation algorithm (DGA) draws letters (or hex
digits) far more evenly than a person naming a site does, so its labels carry the letters
English rarely uses (``j k q v w x y z``, about 7% of English letters, about 30% of uniformly
drawn ones), long consonant runs, few vowels, or a mix of digits and letters.

A label looks **algorithmic** when any of these holds (see :func:`looks_algorithmic`):

* digits are 30% or more of it, but not all of it (``a3f9c2e1b7``; an all-digit label is an
  address-like name, not a word);
* a run of five or more consonants (``xkcdqz``);
* rare letters (``j k q v w x y z``) are 25% or more of its letters;
* fewer than 20% of its letters are vowels, in a label of six or more characters.

One word can match by chance (``krxd``, ``kaspersky``); the detector therefore judges the
*share* of a client's failed domains that match, never one name.

The registrable domain is approximated without the Public Suffix List (no download at run
time): the last two labels, or the last three under a two-letter country code whose second
level is a generic one (``co.uk``, ``com.au``, ``ne.jp``). Single-label names (``wpad``,
browser intranet probes), reverse lookups (``.arpa``) and link-local names (``.local``) have
no registrable domain and are not counted.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Final

__all__ = ["NameShape", "looks_algorithmic", "registrable", "shape"]

_VOWELS: Final = frozenset("aeiou")
_RARE: Final = frozenset("jkqvwxyz")
_GENERIC_SECOND: Final = frozenset(
    ("ac", "co", "com", "edu", "go", "gov", "ne", "net", "or", "org", "ltd", "plc")
)
_NO_DOMAIN: Final = frozenset(("arpa", "local", "localhost", "invalid", "test"))


def registrable(name: str) -> tuple[str, str] | None:
    """``(registrable domain, its label)`` of a DNS name, or None when it has none.

    >>> registrable("d1a2b3.cloudfront.net")
    ('cloudfront.net', 'cloudfront')
    >>> registrable("news.bbc.co.uk")
    ('bbc.co.uk', 'bbc')
    """
    labels = [label for label in name.strip().rstrip(".").lower().split(".") if label]
    if len(labels) < 2 or labels[-1] in _NO_DOMAIN:
        return None
    size = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _GENERIC_SECOND else 2
    if len(labels) < size:
        return None
    return ".".join(labels[-size:]), labels[-size]


@dataclass(frozen=True)
class NameShape:
    """Character statistics of one label (hyphens ignored).

    Attributes:
        length: Characters.
        entropy: Shannon entropy of its characters, bits per character.
        digit_ratio: Share of digits.
        consonant_run: Longest run of consonants (``y`` counts as one).
        vowel_ratio: Share of vowels among its letters.
        rare_ratio: Share of ``j k q v w x y z`` among its letters.
    """

    length: int
    entropy: float
    digit_ratio: float
    consonant_run: int
    vowel_ratio: float
    rare_ratio: float


def shape(label: str) -> NameShape:
    """The :class:`NameShape` of a label."""
    text = label.lower().replace("-", "")
    if not text:
        return NameShape(0, 0.0, 0.0, 0, 0.0, 0.0)
    letters = [c for c in text if c.isalpha()]
    run = best = 0
    for char in text:
        run = run + 1 if char.isalpha() and char not in _VOWELS else 0
        best = max(best, run)
    n = len(text)
    counts = Counter(text).values()
    return NameShape(
        length=n,
        entropy=-sum(c / n * math.log2(c / n) for c in counts),
        digit_ratio=sum(c.isdigit() for c in text) / n,
        consonant_run=best,
        vowel_ratio=sum(c in _VOWELS for c in letters) / len(letters) if letters else 0.0,
        rare_ratio=sum(c in _RARE for c in letters) / len(letters) if letters else 0.0,
    )


def looks_algorithmic(form: NameShape) -> bool:
    """Whether a label's shape matches one of the module's four tests."""
    return (
        0.3 <= form.digit_ratio < 1.0
        or form.consonant_run >= 5
        or form.rare_ratio >= 0.25
        or (form.length >= 6 and form.vowel_ratio < 0.2 and form.digit_ratio < 1.0)
    )
