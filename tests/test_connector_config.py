"""Connector settings from TOML: layout checks, ${VAR} interpolation, from_settings errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siem_consensus.connectors import (
    ConnectorConfig,
    OpenSearchConnector,
    interpolate,
    load_connector_config,
)
from siem_consensus.connectors.base import without_credentials
from siem_consensus.errors import ConfigError

pytest.importorskip("opensearchpy")

SECRET = "s3cr3t-Pa55word"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "siem-consensus.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_interpolates_secrets_from_the_environment(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[connectors.siem]
type = "opensearch"
hosts = ["http://127.0.0.1:9"]
index = "logs-${TEAM:-soc}-*"
username = "triage"
password = "${OS_PASSWORD}"
page_size = 500
""",
    )
    config = load_connector_config(path)
    assert config.names == ["siem"] and config.type_of("siem") == "opensearch"
    settings = config.settings("siem", {"OS_PASSWORD": SECRET})
    assert settings == {
        "hosts": ["http://127.0.0.1:9"],
        "index": "logs-soc-*",
        "username": "triage",
        "password": SECRET,
        "page_size": 500,
    }
    connector = config.create("siem", {"OS_PASSWORD": SECRET, "TEAM": "red"})
    try:
        assert isinstance(connector, OpenSearchConnector)
        assert connector.index == "logs-red-*" and connector.page_size == 500
    finally:
        connector.close()


def test_unset_variable_names_file_table_and_key_but_never_a_value(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[connectors.opensearch]\nhosts = "http://127.0.0.1:9"\nindex = "x"\n'
        'password = "${NOT_SET_ANYWHERE}"\n',
    )
    with pytest.raises(ConfigError) as err:
        load_connector_config(path).create("opensearch", {"OTHER": SECRET})
    message = str(err.value)
    assert str(path) in message and "[connectors.opensearch] password" in message
    assert "NOT_SET_ANYWHERE is not set" in message and SECRET not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[connectors]\n", "no [connectors.NAME] tables"),
        ("x = 1\n", "no [connectors.NAME] tables"),
        ("[connectors.a]\ntype = 'nosuch'\n", "unknown connector 'nosuch'; valid connectors are"),
        ("[connectors]\na = 1\n", "connectors.a must be a table"),
        ("[connectors.a\n", "not valid TOML"),
    ],
)
def test_layout_errors_are_clear(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace(".", r"\.")):
        load_connector_config(_write(tmp_path, text))


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--connectors FILE or set SIEM_CONSENSUS_CONNECTORS"):
        load_connector_config(tmp_path / "absent.toml")


def test_unknown_connection_lists_the_configured_ones() -> None:
    config = ConnectorConfig.from_mapping({"connectors": {"opensearch": {"index": "x"}}})
    with pytest.raises(ConfigError, match="no connection named 'splunk'; configured: opensearch"):
        config.create("splunk")


def test_from_settings_rejects_unknown_and_missing_settings() -> None:
    with pytest.raises(ConfigError, match=r"unknown opensearch setting\(s\) hostz; accepted: "):
        OpenSearchConnector.from_settings({"hostz": "x", "index": "y"}, where="f [c]")
    with pytest.raises(ConfigError, match="f \\[c\\]: opensearch needs hosts"):
        OpenSearchConnector.from_settings({"index": "y"}, where="f [c]")


def test_from_settings_converts_strings_of_scalar_settings() -> None:
    """``${VAR}`` always gives a string: "false" must not become a true boolean."""
    settings = {"hosts": "http://127.0.0.1:9", "index": "y"}
    strings = {"verify_certs": "false", "page_size": "500", "timeout": "2.5"}
    with OpenSearchConnector.from_settings({**settings, **strings}) as conn:
        assert conn.page_size == 500
        assert conn.client.transport.kwargs["verify_certs"] is False
    with pytest.raises(ConfigError, match="f \\[c\\] verify_certs: must be true or false"):
        OpenSearchConnector.from_settings({**settings, "verify_certs": "no"}, where="f [c]")
    with pytest.raises(ConfigError, match="page_size: must be an integer") as caught:
        OpenSearchConnector.from_settings({**settings, "page_size": "many"})
    assert "many" not in str(caught.value)  # a ${VAR} value may be a secret: never echoed


def test_dollar_rules() -> None:
    env = {"A": "1"}
    assert interpolate("$$${A}$$", "w", env) == "$1$"
    assert interpolate({"x": ["${A}", 2, True]}, "w", env) == {"x": ["1", 2, True]}
    assert interpolate("${B:-}", "w", env) == ""
    with pytest.raises(ConfigError, match="w: a '\\$' must start"):
        interpolate("pa$word", "w", env)


@given(st.text(alphabet=st.characters(blacklist_characters="${}"), max_size=30))
def test_strings_without_references_are_unchanged(text: str) -> None:
    assert interpolate(text, "w", {}) == text


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True), st.text(max_size=20))
def test_any_variable_value_is_substituted_verbatim(name: str, value: str) -> None:
    env: dict[str, Any] = {name: value}
    assert interpolate(f"<${{{name}}}>", "w", env) == f"<{value}>"


def test_repr_shows_connection_names_not_settings() -> None:
    config = ConnectorConfig.from_mapping(
        {"connectors": {"siem": {"type": "opensearch", "index": "x", "password": SECRET}}}
    )
    assert repr(config) == "ConnectorConfig(path='<dict>', names=['siem'])"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://triage:pw@siem.example:9200", "https://siem.example:9200"),
        ("http://u:p@ss@127.0.0.1:1/prefix", "http://127.0.0.1:1/prefix"),
        ("triage:pw@kafka-1:9093", "kafka-1:9093"),
        ("https://siem.example:9200/a@b", "https://siem.example:9200/a@b"),
        ("https://siem.example:9200", "https://siem.example:9200"),
    ],
)
def test_urls_in_messages_lose_their_credentials(url: str, shown: str) -> None:
    assert without_credentials(url) == shown
