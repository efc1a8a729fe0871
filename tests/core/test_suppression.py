"""Small-count suppression: 1 to 3 are published as "≤3"; zero, larger counts and a missing
count are published as they are."""

import pytest

from core.suppression import SUPPRESSED, is_small, suppress, suppress_row


@pytest.mark.parametrize(("count", "published"), [(0, 0), (1, "≤3"), (3, "≤3"), (4, 4), (None, None)])
def test_only_one_to_three_is_suppressed(count, published):
    assert suppress(count) == published
    assert is_small(count) is (published == SUPPRESSED)


def test_a_row_suppresses_only_the_named_counts():
    row = {"district": "007", "incidents": 2, "fatal": 0, "responses": 12, "victims": 3}

    assert suppress_row(row, {"incidents", "fatal", "victims"}) == {
        "district": "007", "incidents": "≤3", "fatal": 0, "responses": 12, "victims": "≤3"}
    assert row["incidents"] == 2  # the original is left alone
