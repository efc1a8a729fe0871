"""The demo seed: live incidents that fan out, and the City's two years of shootings imported
as historical incidents that notify nobody. Running it twice changes nothing."""

import csv
import io

from django.db.models import Count

from districts import demo as districts_demo
from notifications import demo
from notifications.models import Delivery, Incident, Notification, Victim


def snapshot() -> dict:
    return {
        "incidents": sorted(Incident.objects.values_list("rd_number", "source", "victim_count", "fatal_count",
                                                          "district__number", "beat__number",
                                                          "community_area__number")),
        "victims": Victim.objects.count(),
        "notifications": sorted(Notification.objects.values_list("incident__rd_number", "organization__name",
                                                                 "status")),
        "deliveries": Delivery.objects.count(),
    }


def test_seeding_twice_gives_the_same_data_and_only_live_incidents_really_notify(reference_data,
                                                                         django_capture_on_commit_callbacks):
    districts_demo.seed(io.StringIO())
    first_output = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed(first_output)
    first = snapshot()
    second_output = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed(second_output)

    assert snapshot() == first
    assert "live incidents: 5 entered" in first_output.getvalue()
    assert "historical incidents: 3130 imported, 0 already there, 0 rejected (3893 rows)" in first_output.getvalue()
    assert "live incidents: 0 entered, 5 already there" in second_output.getvalue()
    assert "historical incidents: 0 imported, 3130 already there" in second_output.getvalue()

    live = Incident.objects.exclude(source=Incident.Source.IMPORT).annotate(n=Count("notifications"))
    assert live.count() == len(demo.LIVE_INCIDENTS)
    assert all(incident.n > 0 for incident in live)
    assert {i.district.number for i in live} <= {"003", "004", "005", "006", "007", "008", "010", "011", "015"}
    assert Notification.objects.filter(acknowledged_at__isnull=False).exists()
    historical = Incident.objects.filter(source=Incident.Source.IMPORT)
    # The history's notifications are simulated (marked so) and nothing was sent for them.
    assert not Notification.objects.filter(incident__in=historical, simulated=False).exists()
    assert not Delivery.objects.filter(notification__incident__in=historical).exists()
    assert Notification.objects.filter(incident__in=historical, simulated=True).exists()
    assert "simulated history: notification and response timelines for 3130 incidents" in first_output.getvalue()
    assert "simulated history: notification and response timelines for 0 incidents" in second_output.getvalue()
    # JH410434, 1000 W LAKE ST: one fatal victim in the 12th District, Near West Side.
    lake = historical.get(rd_number="JH410434")
    assert (lake.block, lake.district.number, lake.beat.number, lake.community_area.number) == (
        "1000 W LAKE ST", "012", "1224", 28)
    assert (lake.victim_count, lake.fatal_count) == (1, 1)
    assert lake.victims.get().age_band == Victim.AgeBand.UNKNOWN


def test_a_bad_row_is_reported_with_its_row_number_and_skipped(reference_data, tmp_path):
    with demo.HISTORY_CSV.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for _, row in zip(range(4), reader, strict=False)]
        fields = reader.fieldnames
    rows[1]["district"] = "99"  # the second record, spreadsheet row 3
    rows[2]["community_area"] = "ATLANTIS"  # row 4
    path = tmp_path / "history.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    output = io.StringIO()

    result = demo.import_history(output, path=path)

    assert (result.imported, result.rejected, result.rows) == (2, 2, 4)
    assert f"row 3 ({rows[1]['case_number']}): district: There is no District 99." in output.getvalue()
    assert f"row 4 ({rows[2]['case_number']}): community_area: unknown community area “ATLANTIS”" in output.getvalue()
    assert set(Incident.objects.values_list("rd_number", flat=True)) == {rows[0]["case_number"],
                                                                         rows[3]["case_number"]}
