"""The AIT-ADS evaluation: its scoring on a tiny synthetic file, a slice and (slow) a scenario."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from siem_consensus.evaluation.ait_ads import DEFAULT_DATA, evaluate, evaluate_scenario, main

T = 1_700_000_000
HEADER = "time,name,ip,host,short,time_label,event_label"
_DATA = pytest.mark.skipif(not DEFAULT_DATA.is_dir(), reason="AIT-ADS not in ../shared/data")


def _write(path: Path) -> Path:
    rows = [HEADER]
    for k in range(150):  # a routine flood on the mail server
        rows.append(f"{T + 20 * k},Wazuh: Dovecot Authentication Success.,10.0.0.9,mail,W,"
                    "false_positive,-")  # fmt: skip
    for k in range(5):
        rows.append(f"{T + 600 + k},Wazuh: Multiple web server 400 error codes from same source "
                    "ip.,10.0.0.5,web,W,dirb,dirb")  # fmt: skip
    rows.append(f"{T + 700},Wazuh: Web server 400 error code.,10.0.0.5,web,W,dirb,-")
    rows.append(f"{T + 900},Wazuh: Successful sudo to ROOT executed.,10.0.0.5,web,W,"
                "privilege_escalation,escalated_sudo_command")  # fmt: skip
    rows.append(f"{T + 950},Wazuh: ClamAV database update,10.0.0.9,mail,W,privilege_escalation,-")
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(rows) + "\n")
    return path


def test_scores_a_synthetic_scenario(tmp_path: Path) -> None:
    result = evaluate_scenario(_write(tmp_path / "tiny_alerts.csv.gz"))
    assert result["alerts"] == 158 and result["dead_letters"] == 0
    assert result["by_kind"] == {"alert_flood": 1, "campaign": 1}
    assert result["alerts_per_incident"] == 79.0
    phases = result["time_phases"]
    assert (phases["phases"], phases["covered_medium"], phases["covered_any"]) == (2, 2, 2)
    assert phases["detail"]["privilege_escalation"] == {
        "alerts": 2,
        "any": 1,
        "medium": 1,
        "queued": 1,
    }
    assert phases["covered_queued"] == 2  # the campaign goes to a human (alert or review)
    events = result["event_label"]["medium"]
    assert events == {"members": 7, "precision": round(6 / 7, 4), "recall": 1.0}
    # 140 flood alerts fall in the first hour (a flood window); the last 10 in the next hour
    # (too few to flood) and the lone ClamAV update belong to no incident.
    assert result["time_label"]["any"]["members"] == 7 + 140


def test_command_line_prints_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("fox", "shaw"):
        _write(data / f"{name}_alerts.csv.gz")
    out = tmp_path / "out.json"
    main(["--data", str(data), "--scenarios", "fox,shaw", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "fox" in printed and "attack phases covered by medium+ incidents 4/4" in printed
    assert '"alerts_per_incident": 79.0' in out.read_text()
    with pytest.raises(SystemExit, match="unknown scenarios"):
        main(["--data", str(data), "--scenarios", "nope"])
    with pytest.raises(FileNotFoundError):
        evaluate(data, ["harrison"])


@_DATA
def test_a_slice_of_real_data_runs() -> None:
    result = evaluate_scenario(DEFAULT_DATA / "russellmitchell_alerts.csv.gz", limit=5000)
    assert result["alerts"] == 4999 and result["dead_letters"] == 0
    assert result["incidents"] <= 10


@pytest.mark.slow
@_DATA
def test_russellmitchell_meets_the_documented_figures() -> None:
    result = evaluate(DEFAULT_DATA, ["russellmitchell"])
    row = result["scenarios"]["russellmitchell"]
    assert row["alerts"] == 45_544
    assert row["alerts_per_incident"] >= 1000
    assert row["time_phases"]["covered_medium"] >= 8
    assert row["event_label"]["medium"]["recall"] >= 0.99
    assert result["totals"]["seconds"] < 60
