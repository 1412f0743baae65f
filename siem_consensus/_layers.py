"""The package's layers, bottom to top: a module imports only from its own layer or lower ones.

Written once here and checked by ``tests/test_import_graph.py``, which walks every import of the
package (at module level and inside functions alike) and fails on an import that runs back up
a layer or on any circle between modules. Imports under ``if TYPE_CHECKING:`` are not walked:
they never run, so they can name a type from anywhere without tying modules together.

Each entry names top-level modules or sub-packages of :mod:`siem_consensus`; ``__init__`` is
the front door (``siem_consensus/__init__.py``). docs/architecture.md draws the same picture.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LAYERS", "layer_of"]

LAYERS: Final[tuple[tuple[str, ...], ...]] = (
    # shared vocabulary: exceptions and the pydantic types every stage passes along
    ("errors", "models", "defaults", "_layers"),
    # raw input to events, enrichment tables, pseudonymization, report shapes, generated data
    ("parsers", "enrich", "privacy", "report", "generators"),
    # text renderings of a report, then the standard formats built on them
    ("render",),
    ("export",),
    # SIEM connectors: read events through parsers, write decisions as export documents
    ("connectors",),
    # one stream of event batches from files, lines, records or a connector search
    ("sources",),
    # deterministic detectors: event batches to incidents
    ("detectors",),
    # judging incidents: analysts (embedded and LLM) and the consensus policies
    ("analysts", "consensus"),
    # LangGraph state machines wiring the stages
    ("graphs",),
    # running a graph to a typed report
    ("runner",),
    # the typed entry points, the review of approvals, the stream job
    ("api", "review", "stream"),
    # faces: the CLI, examples, evaluations, test doubles, and the package's front door
    ("cli", "examples", "evaluation", "testing", "__init__"),
)


def layer_of(unit: str) -> int:
    """The layer index of a top-level module or sub-package name.

    Raises:
        KeyError: ``unit`` is in no layer (a new module must be placed in one).
    """
    for index, names in enumerate(LAYERS):
        if unit in names:
            return index
    raise KeyError(unit)
