"""Deterministic detectors (no LLM), registered by name in :data:`DETECTORS`."""

from .base import DETECTORS, Detector, get_detector

__all__ = ["DETECTORS", "Detector", "get_detector"]
