"""Safe parsing (core/parsers.py, core/middleware.py) and the pages that once answered bad input
with a 500: each now answers 400 or 404 with a message, in milliseconds."""

import json

import pytest
from django.test import Client

from core.parsers import MalformedInput, int_or_none, json_loads_safe, uuid_or_none
from tests.api.conftest import client_for_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw, message, field", [
    ("[" * 10_000 + "]" * 10_000, "nested more than 20 levels", None),
    ('{"a":' * 25 + "1" + "}" * 25, "nested more than 20 levels", None),
    ('{"note": "\\ud800"}', "Unpaired surrogate", "note"),
    ('{"note": "\\udfff tail"}', "Unpaired surrogate", "note"),
    ('{"victims": [{"sex": "\\u0000"}]}', "Null characters", "victims"),
    ('{"\\u0000": 1}', "field name is not valid", None),
    (b'{"note": "\xff"}', "not UTF-8", None),
    ('{"latitude": 1e999}', "Malformed JSON", None),
    ('{"latitude": NaN}', "Malformed JSON", None),
    ('{"n": ' + "9" * 5000 + "}", "Malformed JSON", None),
])
def test_malformed_json_is_refused_with_a_message_and_the_field_at_fault(raw, message, field):
    with pytest.raises(MalformedInput) as error:
        json_loads_safe(raw)
    assert message in str(error.value.message)
    assert error.value.field == field


def test_well_formed_json_with_paired_surrogates_and_unicode_is_read():
    assert json_loads_safe('{"note": "\\ud83d\\ude00 ñ ²", "victims": [{"age": 2}]}') == {
        "note": "😀 ñ ²", "victims": [{"age": 2}]}


@pytest.mark.parametrize("value, expected", [
    ("12", 12), (" 7 ", 7), (12, 12), ("-1", -1), ("²", None), ("١٢", None), ("1e3", None), ("9" * 40, None),
    ("7\x00", None), (True, None), (None, None), (["1"], None), (2**70, None),
])
def test_ids_and_numbers_are_ascii_digits_within_a_bigint(value, expected):
    assert int_or_none(value) == expected


def test_a_uuid_is_parsed_or_is_none():
    assert str(uuid_or_none("6f1c3f6e-8a3b-4c1e-9f3a-2b8c1d4e5f60")) == "6f1c3f6e-8a3b-4c1e-9f3a-2b8c1d4e5f60"
    assert uuid_or_none("junk") is uuid_or_none("") is uuid_or_none(None) is uuid_or_none("x" * 1000) is None


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_follow_up_that_is_not_a_uuid_is_a_404(supervisor):
    response = _signed_in(supervisor).post("/follow-ups/", {"followup": "not-a-uuid"})
    assert response.status_code == 404


@pytest.mark.parametrize("entry", ["²", "١٢", "9" * 40, "-1", "abc"])
def test_an_on_call_entry_that_is_not_a_number_is_a_404(supervisor, entry):
    assert _signed_in(supervisor).post("/team/on-call/remove/", {"entry": entry}).status_code == 404


def test_a_channel_that_is_not_a_uuid_is_a_404(supervisor):
    assert _signed_in(supervisor).post("/team/channels/not-a-uuid/", {}).status_code == 404


@pytest.mark.parametrize("params", [
    {"community_area": "²"}, {"district": "²"}, {"beat": "١٢٣٤"}, {"community_area": "9" * 40},
    {"lat": "²", "lon": "1"}, {"lat": "nan", "lon": "nan"}, {"lat": "inf", "lon": "-inf"}, {"lat": "١٢", "lon": "1"},
    {"lat": "1e400", "lon": "0"},
])
def test_locating_with_unicode_digits_answers_without_a_server_error(cpd_user, params):
    response = _signed_in(cpd_user).get("/incidents/locate/", params)
    assert response.status_code in (200, 400)
    assert response.json()


def test_a_nul_in_a_query_string_or_a_form_is_a_400_with_a_message(commander, supervisor):
    query = _signed_in(commander).get("/reports/2026-03/", {"district": "007\x00"})
    form = _signed_in(supervisor).post("/team/on-call/add/", {"user": "1\x00"})
    assert (query.status_code, query.content.decode()) == (400, "Null characters are not allowed.")
    assert form.status_code == 400


def test_the_phones_queue_refuses_deep_nesting_surrogates_and_nul_with_a_400(supervisor, worker):
    client = _signed_in(worker)
    deep = client.post("/outreach/sync/", "[" * 10_000 + "]" * 10_000, content_type="application/json")
    surrogate = client.post("/outreach/sync/", '{"type": "status", "notification": "\\ud800"}',
                            content_type="application/json")
    nul = client.post("/outreach/push/", json.dumps({"endpoint": "\x00", "keys": {}}), content_type="application/json")
    assert deep.status_code == 400 and "nested" in deep.json()["body"][0]
    assert surrogate.status_code == 400 and "surrogate" in surrogate.json()["notification"][0]
    assert nul.status_code == 400 and "Null" in nul.json()["endpoint"][0]


def test_a_page_body_over_one_megabyte_is_refused_with_413_and_a_message(supervisor):
    response = _signed_in(supervisor).post("/team/channels/add/", {"target": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert response.content.decode() == "The request body is larger than 1 MB."


def test_the_api_refuses_a_surrogate_in_a_field_name_with_a_400(cpd_user):
    response = client_for_user(cpd_user).post("/api/v1/incidents/", '{"\\ud800": 1}', content_type="application/json")
    assert response.status_code == 400
    assert "field name" in response.json()["non_field_errors"][0]
