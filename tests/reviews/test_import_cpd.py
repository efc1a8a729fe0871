"""`manage.py import_cpd_victims`: the City's victims file, in both spellings, into reviews.

The real shipped file (3,893 victims, 3,130 RD numbers), a record CPD changes after the event,
the data portal's upper-case export with victims' names in it, and bad input.
"""

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import models

from core.dates import CHICAGO
from reviews.importers import ImportFileError, cpd_victims_import
from reviews.models import CpdIncident, CpdVictim

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "notifications" / "data" / "shooting_victimizations_2024-09_to_2026-08.csv"
DATA = Path(__file__).resolve().parent / "data"
UPDATED = DATA / "cpd_victims_JK301448_updated.csv"
EXPORT = DATA / "cpd_victims_portal_export.csv"
FAKE_NAMES = ["ZEBEDIAH", "XANTHIPPE", "BARNABY", "OTTOLINE", "FAKENAME"]

pytestmark = pytest.mark.usefixtures("reference_data")


def chicago(*args) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


def run(path, **kwargs):
    out = io.StringIO()
    result = cpd_victims_import(path=path, stdout=out, **kwargs)
    return result, out.getvalue()


def shipped_rows(*rd_numbers: str) -> tuple[list[str], list[list[str]]]:
    with SHIPPED.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [row for row in reader if row[0] in rd_numbers]


def write_csv(path: Path, header: list[str], rows: list[list[str]], **kwargs) -> Path:
    with path.open("w", newline="", encoding=kwargs.pop("encoding", "utf-8")) as handle:
        writer = csv.writer(handle, **kwargs)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- the real file -----------------------------------------------------------------------------


def test_it_imports_every_victim_of_the_shipped_file_and_groups_them_by_rd_number():
    result, out = run(SHIPPED)

    assert (result.rows, result.created, result.updated, result.unchanged, result.rejected_count) == (
        3893, 3893, 0, 0, 0)
    assert (result.incidents_created, result.incidents_updated) == (3130, 0)
    assert CpdVictim.objects.count() == 3893
    assert CpdIncident.objects.count() == 3130
    assert "3,893 rows: 3,893 created, 0 updated, 0 unchanged, 0 rejected" in out
    # Every victim is counted in its incident, and the homicides are the fatal ones (859).
    totals = CpdIncident.objects.aggregate(victims=models.Sum("victim_count"), fatal=models.Sum("fatal_count"))
    assert totals == {"victims": 3893, "fatal": 859}


def test_the_river_north_mass_shooting_is_one_incident_with_eighteen_victims():
    run(SHIPPED)

    incident = CpdIncident.objects.select_related("district", "community_area").get(rd_number="JJ318710")
    assert (incident.victim_count, incident.fatal_count, incident.gunshot_count) == (18, 4, 18)
    assert incident.occurred_at == chicago(2025, 7, 2, 23, 2)
    assert incident.block == "300 W CHICAGO AVE"
    assert incident.district.number == "018"  # unpadded "18" in the file
    assert incident.beat == "1831"
    assert incident.community_area.name.upper() == "NEAR NORTH SIDE"  # a name in the file
    assert incident.victims.count() == 18
    victim = CpdVictim.objects.get(unique_id="HOM-JJ318710-#15")
    assert (victim.rd_number, victim.victimization, victim.fatal, victim.sex) == ("JJ318710", "HOMICIDE", True, "F")
    assert victim.cpd_updated_at == chicago(2026, 1, 15, 9, 54, 26)


def test_local_times_in_the_autumn_repeated_hour_are_read_as_the_first_one():
    run(SHIPPED)

    # 2025-11-02 01:45 happened twice in Chicago; CPD's floating time is read as CDT (06:45 UTC).
    incident = CpdIncident.objects.get(rd_number="JJ474172")
    assert incident.occurred_at == datetime(2025, 11, 2, 6, 45, tzinfo=UTC)
    assert incident.victim_count == 4


def test_a_second_run_of_the_same_file_changes_nothing():
    run(SHIPPED)
    before = dict(CpdVictim.objects.values_list("unique_id", "changed_at"))

    result, out = run(SHIPPED)

    assert (result.created, result.updated, result.unchanged, result.rejected_count) == (0, 0, 3893, 0)
    assert (result.incidents_created, result.incidents_updated, result.incidents_removed) == (0, 0, 0)
    assert dict(CpdVictim.objects.values_list("unique_id", "changed_at")) == before
    assert CpdIncident.objects.count() == 3130


@pytest.mark.sqlite  # the embedded default's upsert too
def test_a_record_cpd_updates_after_the_event_is_updated_and_the_rest_left_unchanged():
    run(SHIPPED)
    unchanged_before = CpdVictim.objects.get(unique_id="SHOOT-JK301448-#1").changed_at
    assert CpdIncident.objects.get(rd_number="JK301448").fatal_count == 0

    result, _ = run(UPDATED)

    assert (result.rows, result.created, result.updated, result.unchanged) == (12, 0, 1, 11)
    assert (result.incidents_created, result.incidents_updated) == (0, 1)
    victim = CpdVictim.objects.get(unique_id="SHOOT-JK301448-#11")
    assert victim.fatal is True
    assert victim.cpd_updated_at == chicago(2026, 7, 28, 9, 14, 2)
    assert victim.changed_at > unchanged_before
    assert CpdVictim.objects.get(unique_id="SHOOT-JK301448-#1").changed_at == unchanged_before
    incident = CpdIncident.objects.get(rd_number="JK301448")
    assert (incident.victim_count, incident.fatal_count) == (12, 1)
    assert incident.cpd_updated_at == chicago(2026, 7, 28, 9, 14, 2)
    # Applying the update again is a no-op.
    again, _ = run(UPDATED)
    assert (again.updated, again.unchanged) == (0, 12)


def test_small_batches_give_the_same_incidents_as_one_big_one():
    result, out = run(SHIPPED, batch_size=7)

    assert (result.created, result.incidents_created, result.incidents_updated) == (3893, 3130, 0)
    assert CpdIncident.objects.get(rd_number="JJ318710").victim_count == 18
    # Not a terminal: plain progress lines every few batches, no carriage returns.
    assert "rows read (" in out
    assert "\r" not in out


def test_on_a_terminal_it_draws_a_progress_bar():
    _, out = run(UPDATED, batch_size=5, progress=True)

    assert "\r[" in out
    assert "] 100%  12 rows\n" in out


# --- the data portal's upper-case export -------------------------------------------------------


@pytest.mark.sqlite  # the embedded default's upsert too
def test_the_portal_export_with_upper_case_columns_imports_and_never_stores_a_name():
    result, _ = run(EXPORT)

    assert (result.rows, result.created, result.rejected_count) == (23, 23, 0)
    incident = CpdIncident.objects.get(rd_number="JJ318710")
    assert (incident.victim_count, incident.fatal_count) == (18, 4)  # fatal from VICTIMIZATION_PRIMARY
    assert incident.occurred_at == chicago(2025, 7, 2, 23, 2)  # 07/02/2025 11:02:00 PM
    assert CpdVictim.objects.get(unique_id="HOM-JJ318710-#15").age_band == "20-29"
    assert CpdVictim.objects.get(unique_id="SHOOT-JH493540-#1").age_band == "60+"  # CPD's 60-69
    assert CpdVictim.objects.get(unique_id="HOM-JJ318710-#17").age_band == "unknown"
    # 11/03/2024 01:03:00 AM, the first of that night's two 1 a.m. hours: CDT.
    assert CpdIncident.objects.get(rd_number="JH493540").occurred_at == datetime(2024, 11, 3, 6, 3, tzinfo=UTC)

    found = []
    for model in apps.get_models():
        for fld in model._meta.get_fields():
            if isinstance(fld, models.CharField | models.TextField) and fld.concrete:
                for name in FAKE_NAMES:
                    if model._default_manager.filter(**{f"{fld.name}__icontains": name}).exists():
                        found.append(f"{model.__name__}.{fld.name} holds {name}")
    assert found == []


def test_the_export_and_the_api_extract_describe_the_same_victims_alike():
    run(SHIPPED)
    before = {v["unique_id"]: v for v in CpdVictim.objects.values()}

    result, _ = run(EXPORT)

    # Only the four rows whose age the export adds (the shipped extract has none) change.
    assert (result.created, result.updated, result.unchanged) == (0, 4, 19)
    for victim in CpdVictim.objects.filter(unique_id__in=["HOM-JJ318710-#15", "SHOOT-JJ474172-#1"]).values():
        old = before[victim["unique_id"]]
        differs = {key for key in victim if victim[key] != old[key]}
        assert differs == {"age_band", "changed_at"}


# --- bad input ---------------------------------------------------------------------------------


def test_a_file_missing_a_column_is_refused_before_anything_is_written(tmp_path):
    header, rows = shipped_rows("JK301448")
    drop = header.index("district")
    path = write_csv(tmp_path / "no-district.csv", header[:drop] + header[drop + 1:],
                     [row[:drop] + row[drop + 1:] for row in rows])

    with pytest.raises(ImportFileError, match="lacks required column.*DISTRICT"):
        run(path)
    assert not CpdVictim.objects.exists()
    with pytest.raises(CommandError, match="DISTRICT.*Nothing was imported"):
        call_command("import_cpd_victims", str(path), stdout=io.StringIO())


def test_a_semicolon_separated_file_is_refused_with_the_reason(tmp_path):
    header, rows = shipped_rows("JK301448")
    path = write_csv(tmp_path / "semicolons.csv", header, rows, delimiter=";")

    with pytest.raises(ImportFileError, match="separated by semicolons, not commas"):
        run(path)
    assert not CpdVictim.objects.exists()


def test_a_utf16_file_is_refused_with_the_reason(tmp_path):
    header, rows = shipped_rows("JK301448")
    path = write_csv(tmp_path / "utf16.csv", header, rows, encoding="utf-16")

    with pytest.raises(ImportFileError, match="UTF-16"):
        run(path)
    assert not CpdVictim.objects.exists()


@pytest.mark.sqlite  # the embedded default's upsert too
def test_bad_rows_are_named_with_their_line_and_reason_and_the_rest_imported(tmp_path):
    header, rows = shipped_rows("JK301448")
    col = {name: index for index, name in enumerate(header)}
    rows[1][col["date"]] = "yesterday evening"                        # line 3
    rows[3][col["latitude"]], rows[3][col["longitude"]] = "36.6", "-91.7"  # line 5
    rows[5][col["district"]] = "26"                                    # line 7
    rows[6][col["community_area"]] = "ATLANTIS"                        # line 8
    rows[7][col["block"]] = "200 W 95TH ST CAFÉ"                       # line 9, written as latin-1 below
    path = write_csv(tmp_path / "bad-rows.csv", header, rows)
    text = path.read_bytes().replace("CAFÉ".encode(), "CAFÉ".encode("latin-1"))
    path.write_bytes(text)

    result, out = run(path)

    assert (result.rows, result.created, result.rejected_count) == (12, 7, 5)
    reasons = {rejection.line: rejection.reason for rejection in result.rejected}
    assert reasons == {
        3: "date: “yesterday evening” is not a date and time",
        5: "latitude/longitude: 36.6, -91.7 is outside Chicago",
        7: "district: no police district 026",
        8: "community_area: no community area “ATLANTIS”",
        9: "not UTF-8 text (save the file as UTF-8)",
    }
    assert f"rejected line 3 ({rows[1][col['cpd_id']]}): date:" in out
    assert CpdIncident.objects.get(rd_number="JK301448").victim_count == 7

    # Re-run safe: the good rows are unchanged, the bad ones rejected again.
    again, _ = run(path)
    assert (again.created, again.updated, again.unchanged, again.rejected_count) == (0, 0, 7, 5)
    # Once the file is fixed, the missing victims arrive and join their incident.
    fixed, _ = run(UPDATED)
    assert (fixed.created, fixed.updated, fixed.unchanged) == (5, 1, 6)
    assert CpdIncident.objects.get(rd_number="JK301448").victim_count == 12


def test_a_time_in_the_spring_missing_hour_is_moved_forward_not_rejected(tmp_path):
    header, rows = shipped_rows("JH493540")
    rows[0][header.index("date")] = "2026-03-08 02:30:00"  # clocks went from 02:00 to 03:00
    path = write_csv(tmp_path / "dst-gap.csv", header, rows)

    result, _ = run(path)

    assert result.created == 1
    assert CpdVictim.objects.get().occurred_at == chicago(2026, 3, 8, 3, 30)  # 08:30 UTC
    assert run(path)[0].unchanged == 1


def test_a_unique_id_twice_in_one_file_is_applied_in_file_order(tmp_path):
    header, rows = shipped_rows("JH493540")
    later = list(rows[0])
    later[header.index("fatal")] = "True"
    path = write_csv(tmp_path / "twice.csv", header, [rows[0], later])

    result, _ = run(path)

    assert (result.created, result.updated) == (1, 1)
    assert CpdVictim.objects.get().fatal is True
    assert CpdIncident.objects.get().fatal_count == 1


def test_the_command_prints_the_counts_and_the_rejected_rows(tmp_path):
    header, rows = shipped_rows("JH493540")
    rows[0][header.index("date")] = "2024-13-45 25:00:00"
    path = write_csv(tmp_path / "garbage-date.csv", header, rows)
    out = io.StringIO()

    call_command("import_cpd_victims", str(path), stdout=out)

    text = out.getvalue()
    assert "1 rows: 0 created, 0 updated, 0 unchanged, 1 rejected" in text
    assert "rejected line 2 (SHOOT-JH493540-#1): date: “2024-13-45 25:00:00” is not a date and time" in text
    assert not CpdVictim.objects.exists()


def test_a_victim_cpd_moves_to_another_rd_number_leaves_no_empty_incident_behind(tmp_path):
    header, rows = shipped_rows("JH493540")
    run(write_csv(tmp_path / "before.csv", header, rows))
    rows[0][header.index("case_number")] = "JH493541"

    result, _ = run(write_csv(tmp_path / "after.csv", header, rows))

    assert (result.updated, result.incidents_created, result.incidents_removed) == (1, 1, 1)
    assert list(CpdIncident.objects.values_list("rd_number", "victim_count")) == [("JH493541", 1)]
