"""Parsers, one module per format family, registered by name in :data:`PARSERS`."""

from .base import PARSERS, Parser, get_parser

__all__ = ["PARSERS", "Parser", "get_parser"]
