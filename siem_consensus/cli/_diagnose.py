"""After a run: what the input and the decisions say on stderr, and the exit code they give."""

from __future__ import annotations

import re
import shlex
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import UsageError
from ._exit import FINDINGS, INPUT, OK, PROVIDER

if TYPE_CHECKING:
    from ..report import Report

__all__ = ["FAIL_ON", "diagnose", "parse_fail_on"]

FAIL_ON = ("alert", "review", "degraded")

# Which command reads which formats; ``ecs`` and ``splunk`` carry any kind of event.
_FAMILY = {
    "firewall": {"asa", "iptables", "paloalto", "pfsense", "zeek", "zeek-json", "cicflowmeter"}
    | {"zeek-dns", "zeek-dns-json"},
    "ids": {"suricata", "fastlog", "wazuh", "ait-ads"},
    "insider": {"cert", "cert-device", "cert-email", "cert-file", "cert-http", "cert-logon"},
    "auth": {"openssh", "zeek-ssh", "zeek-ssh-json"},
}
_MOSTLY_DEAD = 0.5
_FORMAT_LIST = "; pass --input-format / input_format= with one of: "


def parse_fail_on(text: str | None) -> set[str]:
    """``alert,review`` -> {"alert", "review"}; unknown words are a usage error."""
    if not text:
        return set()
    wanted = {part.strip().lower() for part in text.split(",") if part.strip()}
    wanted = {"review" if w == "needs_review" else w for w in wanted}
    unknown = wanted - set(FAIL_ON)
    if unknown:
        raise UsageError(
            f"--fail-on {', '.join(sorted(unknown))}: choose from {', '.join(FAIL_ON)}"
        )
    return wanted


def diagnose(
    report: Report,
    command: str,
    fail_on: set[str],
    *,
    quiet: bool = False,
    paths: Sequence[str] = (),
) -> int:
    """Warn on stderr about the input and the decisions; return the exit code they give.

    ``paths`` are the inputs as given on the command line, for the commands it suggests.
    """
    code = OK
    stats = report.input
    undetected = 0
    for name, why in stats.failures.items():
        why = why.removeprefix(f"{name}: ")
        if _FORMAT_LIST in why and len(stats.failures) + len(stats.formats) > 1:
            # the list of formats once for all, after the inputs (a README in a log folder)
            why, undetected = why[: why.index(_FORMAT_LIST)], undetected + 1
        if name in stats.formats:  # it was being read: what came before it was analysed
            _say(f"input {name} not read to its end (the lines before were analysed): {why}")
        else:
            _say(f"input {name} not read: {why}")
        code = INPUT
    if undetected:
        _say(
            f"  ({undetected} input(s) in no format known here: `siem-consensus formats` lists "
            "them; --input-format forces one for every input)"
        )
    if stats.lines and not stats.events and stats.dead_letters:
        _say(
            f"every line was rejected: {stats.dead_letters:,} dead letters of {stats.lines:,} "
            f"lines; top reasons in the first {len(report.dead_letters):,}:"
        )
        for reason, count in top_reasons(report):
            _say(f"  {count:>6,}  {reason}")
        _say("  (check --input-format, or see them all with --dead-letters FILE)")
        code = INPUT
    elif not quiet and stats.lines and stats.dead_letters / stats.lines > _MOSTLY_DEAD:
        _say(
            f"warning: {stats.dead_letters:,} of {stats.lines:,} lines rejected; "
            f"top reason: {top_reasons(report)[0][0] if report.dead_letters else '?'}"
        )
    if not quiet:
        _wrong_command(report, command, paths)
    degraded = [d for d in report.decisions if d.degraded]
    if degraded and not quiet:
        _say(
            f"warning: {len(degraded)} decision(s) degraded (an analyst failed: provider, "
            "budget or timeout); they are needs_review, not verdicts"
        )
    return max(code, _findings(report, fail_on, bool(degraded)))


def _findings(report: Report, fail_on: set[str], degraded: bool) -> int:
    if "degraded" in fail_on and degraded:
        return PROVIDER
    outcomes = {d.outcome.value for d in report.decisions}
    if ("alert" in fail_on and "alert" in outcomes) or (
        "review" in fail_on and "needs_review" in outcomes
    ):
        return FINDINGS
    return OK


def top_reasons(report: Report, n: int = 3) -> list[tuple[str, int]]:
    """The most common dead-letter reasons (numbers folded, so similar reasons count as one)."""
    counts = Counter(re.sub(r"\d+", "N", letter.reason) for letter in report.dead_letters)
    return counts.most_common(n)


def _wrong_command(report: Report, command: str, paths: Sequence[str]) -> None:
    """Name the command that reads inputs of another family, with a command line that works
    from here: the arguments as given when every input is of that family, else the file."""
    formats = report.input.formats
    wrong = {
        name: (fmt, right)
        for name, fmt in formats.items()
        if (right := _command_for(fmt)) is not None and right != command
    }
    if not wrong:
        return
    rights = {right for _, right in wrong.values()}
    if len(wrong) == len(formats) and len(rights) == 1 and paths:
        kinds = ", ".join(sorted({fmt for fmt, _ in wrong.values()}))
        what = next(iter(wrong)) + " is" if len(wrong) == 1 else f"{len(wrong)} inputs are"
        given = " ".join(shlex.quote(p) for p in paths)
        _say(
            f"warning: {what} {kinds}, which `{command}` does not analyse; "
            f"run: siem-consensus {rights.pop()} {given}"
        )
        return
    files = _files(paths)
    for name, (fmt, right) in wrong.items():
        _say(
            f"warning: {name} is {fmt}, which `{command}` does not analyse; "
            f"run: siem-consensus {right} {shlex.quote(files.get(name, name))}"
        )


def _files(paths: Sequence[str]) -> dict[str, str]:
    """Input name (as in the report) -> the file's path, for the inputs given."""
    from ..errors import InputError
    from ..parsers.inputs import expand_path

    files: dict[str, str] = {}
    for given in paths:
        try:
            files.update((name, str(path)) for name, path in expand_path(given))
        except InputError:
            continue
    files.pop("stdin", None)
    return files


def _command_for(fmt: str) -> str | None:
    for command, formats in _FAMILY.items():
        if fmt in formats:
            return command
    return None


def _say(text: str) -> None:
    print(f"siem-consensus: {text}", file=sys.stderr)
