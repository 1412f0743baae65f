"""Deterministic detectors (no LLM), registered by name in :data:`DETECTORS`."""

from . import auth as _auth  # noqa: F401  (registers the authentication detector)
from . import firewall as _firewall  # noqa: F401  (registers the firewall detector)
from . import ids as _ids  # noqa: F401  (registers the IDS correlator)
from . import insider as _insider  # noqa: F401  (registers the insider detector)
from .base import DETECTORS, Detector, get_detector

__all__ = ["DETECTORS", "Detector", "get_detector"]
