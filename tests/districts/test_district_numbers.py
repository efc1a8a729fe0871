"""One parser for district numbers (`districts.models.normalise_district`): people and the API
give `7`, `"7"` or `"007"`; the data loaders may also give a spreadsheet's `7.0`."""

import pytest

from districts.loaders import RowError, district_number
from districts.models import normalise_district


@pytest.mark.parametrize("value", [7, "7", "07", "007", " 7 "])
def test_every_spelling_of_a_district_is_three_digits(value):
    assert normalise_district(value) == "007"


@pytest.mark.parametrize("value", ["7.0", 7.0, True, "", "0007", "-7", "7a", None, "٧"])
def test_people_and_the_api_may_not_give_anything_else(value):
    with pytest.raises(ValueError):
        normalise_district(value)


@pytest.mark.parametrize("value", ["7.0", 7.0, "007.0", 7, "7"])
def test_the_loaders_also_take_a_spreadsheets_whole_number(value):
    assert normalise_district(value, spreadsheet=True) == "007"
    assert district_number(value) == "007"


@pytest.mark.parametrize("value", ["7.5", 7.5, "1234", "7.00", "x"])
def test_the_loaders_refuse_a_row_with_another_number(value):
    with pytest.raises(RowError, match="is not a district number"):
        district_number(value)
