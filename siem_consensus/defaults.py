"""Each detector's default consensus policy and confidence threshold, in one place.

A module with no imports of its own, so the CLI can show the defaults in ``--help`` without
loading the analysis stack.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["DECISION_DEFAULTS", "DecisionDefaults"]


class DecisionDefaults(NamedTuple):
    """A detector's default consensus policy and confidence threshold."""

    policy: str
    threshold: float


DECISION_DEFAULTS: dict[str, DecisionDefaults] = {
    "firewall": DecisionDefaults("unanimous", 0.8),
    "ids": DecisionDefaults("majority", 0.8),
    "insider": DecisionDefaults("unanimous", 0.85),
    "auth": DecisionDefaults("unanimous", 0.8),
}
"""Default policy and threshold per detector, shared by the API, the CLI (``--help`` shows
them), the demo, the evaluations and the docs. Insider is stricter: a person's career is at
stake. The IDS default is ``majority``: more than half of the analysts must agree."""
