"""The trend charts: server-rendered SVG that reads without colour and without JavaScript."""

import xml.etree.ElementTree as ET

import pytest

from reviews.charts import format_tick, format_value, line_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"
pytestmark = pytest.mark.sqlite  # pure: runs anywhere
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun"]


def texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 (our own markup): well-formed XML, as WeasyPrint needs


def test_each_present_value_gets_a_marker_and_its_value_written_beside_it():
    svg = parse(line_chart(list(zip(MONTHS, [4, 7, 0, 12, 3, 5], strict=True)), title="Incidents"))
    assert len(svg.findall(f"{SVG}circle")) == 6
    values = [t.text for t in svg.iter(f"{SVG}text") if "chart-value" in (t.get("class") or "")]
    assert values == ["4", "7", "0", "12", "3", "5"]
    assert all(month in texts(svg) for month in MONTHS)


def test_a_missing_value_is_a_gap_in_the_line_not_a_zero():
    svg = parse(line_chart(list(zip(MONTHS, [50, 60, None, 70, 80, None], strict=True)), title="Coverage", unit="%",
                           y_max=100))
    assert len(svg.findall(f"{SVG}circle")) == 4
    assert len(svg.findall(f"{SVG}polyline")) == 2  # Jan–Feb and Apr–May, the gap between them
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-gap"] == ["—", "—"]
    assert "60" in texts(svg) and "100%" in texts(svg)  # the point's number; the unit on the axis


def test_a_value_given_as_text_is_written_without_a_marker():
    svg = parse(line_chart([("Jan", 5), ("Feb", "≤3"), ("Mar", 9)], title="Incidents"))
    assert len(svg.findall(f"{SVG}circle")) == 2
    assert "≤3" in texts(svg)
    assert len(svg.findall(f"{SVG}polyline")) == 0  # no two neighbouring heights to join


def test_it_has_a_title_and_a_description_for_screen_readers():
    svg = parse(line_chart([("Jan", 1.5), ("Feb", 2.0)], title="Median minutes", unit="min", chart_id="c1"))
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "Median minutes"
    assert svg.find(f"{SVG}desc").text == "Jan: 1.5 min; Feb: 2 min"


def test_a_label_with_a_newline_has_two_lines():
    svg = parse(line_chart([("Dec\n2025", 1), ("Jan\n2026", 2), ("Feb", 3)], title="Incidents"))
    assert "Dec2025" in texts(svg) and "Feb" in texts(svg)
    assert svg.find(f"{SVG}desc").text == "Dec 2025: 1; Jan 2026: 2; Feb: 3"


def test_text_is_escaped():
    svg = line_chart([("<b>Jan</b>", 1)], title='<script>alert("x")</script>', description="a & b")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;Jan&lt;/b&gt;" in svg
    parse(svg)


def test_it_needs_nothing_from_outside():
    svg = str(line_chart([("Jan", 1), ("Feb", 2)], title="Incidents"))
    assert "<script" not in svg and "<style" not in svg and "href" not in svg and "url(" not in svg
    assert 'font-family="sans-serif"' in svg


def test_a_chart_with_no_figures_still_draws_its_axes():
    svg = parse(line_chart([("Jan", None), ("Feb", None)], title="Coverage", unit="%"))
    assert svg.findall(f"{SVG}circle") == [] and len(svg.findall(f"{SVG}line")) >= 2


def test_the_axis_tops_out_at_a_round_number():
    assert [nice_ceiling(v) for v in (0, 0.4, 1, 3, 7, 12, 26, 180)] == [1, 0.5, 1, 5, 10, 20, 50, 200]
    assert [format_tick(v, "min") for v in (0, 0.25, 2.5, 10)] == ["0", "0.25", "2.5", "10"]
    assert format_value(None) == "—" and format_value(92.5, "%") == "92.5%" and format_value(3.0, "min") == "3 min"
