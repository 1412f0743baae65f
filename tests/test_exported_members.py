"""The public front door: sorted, importable, no vendor SDK imported at import time."""

from __future__ import annotations

import subprocess
import sys

import siem_consensus


def test_all_is_sorted_and_importable() -> None:
    assert siem_consensus.__all__ == sorted(siem_consensus.__all__)
    for name in siem_consensus.__all__:
        assert getattr(siem_consensus, name) is not None, name


def test_import_does_not_load_vendor_sdks() -> None:
    code = (
        "import sys, siem_consensus; "
        "print(','.join(m for m in ('anthropic', 'openai') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""
