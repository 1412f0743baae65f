"""The rule every identity field of ``EVENT_FIELDS`` is built with (``privacy._fields``)."""

from __future__ import annotations

import pytest

from siem_consensus.privacy import _fields
from siem_consensus.privacy._fields import EVENT_FIELDS, FieldClass, FieldRule, Handling


@pytest.mark.parametrize("handling", list(Handling), ids=str)
def test_a_pseudonymized_field_rule_keeps_its_handling(handling: Handling) -> None:
    # The registry is built at import; calling the builder here checks what it builds.
    assert _fields._pseudo(handling) == FieldRule(FieldClass.PSEUDONYMIZE, handling)


def test_identity_fields_are_pseudonymized_by_their_shape() -> None:
    expected = {
        "source_ip": Handling.IP,
        "destination_ip": Handling.IP,
        "user_name": Handling.USER,
        "host_name": Handling.HOST,
        "observer_name": Handling.HOST,
        "email_from": Handling.EMAIL,
        "email_to": Handling.EMAILS,
        "url_original": Handling.URL,
        "file_path": Handling.PATH,
        "dns_question": Handling.DOMAIN,
        "tls_sni": Handling.DOMAIN,
        "message": Handling.TEXT,
        "event_id": Handling.ALIAS,
    }
    for name, handling in expected.items():
        assert EVENT_FIELDS[name] == FieldRule(FieldClass.PSEUDONYMIZE, handling), name
