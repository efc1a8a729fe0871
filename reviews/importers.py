"""Import the City's "Violence Reduction - Victims of Homicides and Non-Fatal Shootings" CSV.

The data set (gumc-mgzr) comes in two spellings: the data portal's CSV export, with upper-case
columns (`UNIQUE_ID`, `CASE_NUMBER`, `DATE` as `MM/DD/YYYY hh:mm:ss AM`), and the SODA API's
lower-case columns (`unique_id`, or `cpd_id` in the extract the portal ships; `date` as ISO).
Both are read the same way. The quirks: districts unpadded (`7`), community areas by name,
local times with no offset (America/Chicago), `updated` ISO with no offset, records CPD edits
weeks later, and the victims' names in the official export. Names are never read: the parser
takes only the columns named in COLUMNS, so a name column is skipped without being looked at.

The file is streamed: one row at a time off the disk, written in batches with one bulk upsert
each, so memory stays flat however long the file is. Each batch commits on its own; a re-run
upserts the same rows to the same values, so an interrupted import is finished by running it
again. A row that cannot be stored is rejected with its line number and reason; the others are
imported.
"""

import codecs
import csv
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, TextIO

from django.db import transaction
from django.utils import timezone

from core.dates import CHICAGO
from core.exceptions import DomainError
from districts.geo import CHICAGO_BOUNDS
from districts.models import CommunityArea, District, normalise_district
from notifications.models import Victim

from .models import CpdIncident, CpdVictim

BATCH_SIZE = 1000
REJECTIONS_KEPT = 1000  # the first ones are kept for the report; all are counted
PROGRESS_EVERY = 10  # batches between progress lines when stdout is not a terminal

# The columns read, by their lower-case name. Nothing else in a row is looked at.
REQUIRED = ("unique_id", "case_number", "date", "block", "district", "beat", "community_area",
            "victimization_primary", "gunshot_injury_i", "sex", "updated", "latitude", "longitude")
OPTIONAL = ("incident_primary", "age", "fatal", "location_description", "street_outreach_organization")
COLUMNS = REQUIRED + OPTIONAL
# The portal's shipped extract renamed UNIQUE_ID to cpd_id.
ALIASES = {"cpd_id": "unique_id"}

STORED = ("rd_number", "occurred_at", "block", "district_id", "beat", "community_area_id", "victimization",
          "incident_type", "age_band", "sex", "fatal", "gunshot", "location_description", "outreach_tag",
          "latitude", "longitude", "cpd_updated_at")
INCIDENT_STORED = ("occurred_at", "block", "district_id", "beat", "community_area_id", "latitude", "longitude",
                   "victim_count", "fatal_count", "gunshot_count", "cpd_updated_at")

SEX = {"M": Victim.Sex.MALE, "MALE": Victim.Sex.MALE, "F": Victim.Sex.FEMALE, "FEMALE": Victim.Sex.FEMALE,
       "X": Victim.Sex.OTHER}
# CPD's bands, folded into the portal's (a notification's victims use the same ones).
AGE_BANDS = {"0-19": "0-19", "20-29": "20-29", "30-39": "30-39", "40-49": "40-49", "50-59": "50-59",
             "60-69": "60+", "70-79": "60+", "80+": "60+", "60+": "60+"}
TRUE = {"true", "t", "yes", "y", "1"}
FALSE = {"false", "f", "no", "n", "0", ""}
EARLIEST = datetime(1991, 1, 1, tzinfo=CHICAGO)  # the data set starts in 1991


class ImportFileError(DomainError):
    """The file cannot be read as this data set at all (columns, delimiter, encoding); nothing was written."""


class RowError(ValueError):
    """One row cannot be stored; the message names the column and says why."""


@dataclass(frozen=True)
class Rejection:
    line: int
    unique_id: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}{f' ({self.unique_id})' if self.unique_id else ''}: {self.reason}"


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_count: int = 0
    rejected: list[Rejection] = field(default_factory=list)  # the first REJECTIONS_KEPT
    incidents_created: int = 0
    incidents_updated: int = 0
    incidents_removed: int = 0
    seconds: float = 0.0

    def reject(self, rejection: Rejection) -> None:
        self.rejected_count += 1
        if len(self.rejected) < REJECTIONS_KEPT:
            self.rejected.append(rejection)

    @property
    def summary(self) -> str:
        return (f"{self.rows:,} rows: {self.created:,} created, {self.updated:,} updated, "
                f"{self.unchanged:,} unchanged, {self.rejected_count:,} rejected; incidents: "
                f"{self.incidents_created:,} created, {self.incidents_updated:,} updated, "
                f"{self.incidents_removed:,} removed")


def cpd_victims_import(*, path: str | Path, stdout: TextIO | None = None, batch_size: int = BATCH_SIZE,
                       progress: bool | None = None) -> ImportResult:
    """Upsert every row of the CSV at `path` into CpdVictim, and rebuild the CpdIncidents they touch.

    Returns the counts; rejected rows are listed with their line number (line 1 is the header),
    and a line that is not UTF-8 is one of them. Raises ImportFileError before writing anything
    when the header lacks a column, the file is not comma-separated or is UTF-16; and, after
    storing the rows before it, at a line the csv module cannot parse at all (a NUL byte, a
    field over its size limit). `progress` (default: whether `stdout` is a terminal) redraws a
    bar; otherwise a plain line goes out every few batches. Nothing is written to `stdout` when
    it is None.
    """
    path = Path(path)
    started = time.monotonic()
    result = ImportResult()
    with path.open("rb") as raw:
        lines = _Lines(raw)
        reader = csv.reader(lines)
        header = next(reader, None)
        columns = _header(header, lines.first_line)
        bar = stdout is not None and stdout.isatty() if progress is None else progress
        meter = _Progress(stdout, os.fstat(raw.fileno()).st_size, lines, bar)
        batch = _Batch(_Reference())
        try:
            for line, unique_id, values in _rows(reader, lines, header, columns, result):
                try:
                    row = batch.reference.clean(values)
                except RowError as error:
                    result.reject(Rejection(line, unique_id, str(error)))
                    continue
                # A unique id seen twice in one batch is flushed between its two rows, so rows
                # are applied in file order however the batches fall.
                if unique_id in batch.rows or len(batch.rows) >= batch_size:
                    batch.flush(result)
                    meter.tick(result)
                batch.rows[unique_id] = row
        except ImportFileError:
            batch.flush(result)  # the rows before the broken line are kept, as a re-run would
            _report(stdout, result)
            raise
        batch.flush(result)
        meter.done(result)
    result.seconds = time.monotonic() - started
    _report(stdout, result)
    return result


# --- reading --------------------------------------------------------------------------------


class _Lines:
    """The file's physical lines as text, decoded one at a time.

    A line that is not UTF-8 is decoded with replacement characters and its number remembered,
    so that row is rejected and the rest still import. `position` is the bytes read so far.
    """

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.number = 0
        self.position = 0
        self.undecodable: set[int] = set()
        head = raw.read(4)
        raw.seek(0)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
            raise ImportFileError("The file is UTF-16 text; save it as UTF-8 (CSV UTF-8) and import it again. "
                                  "Nothing was imported.")
        self.first_line = ""

    def __iter__(self) -> Iterator[str]:
        for data in self.raw:
            self.number += 1
            self.position += len(data)
            if self.number == 1:
                data = data.removeprefix(codecs.BOM_UTF8)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                if self.number == 1:
                    raise ImportFileError("The header line is not UTF-8 text; save the file as UTF-8. "
                                          "Nothing was imported.") from None
                self.undecodable.add(self.number)
                text = data.decode("utf-8", errors="replace")
            if self.number == 1:
                self.first_line = text
            yield text


def _records(reader, lines: _Lines) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, fields), skipping blank lines; a quoted field may span lines."""
    start = lines.number + 1
    try:
        for record in reader:
            if record and any(value.strip() for value in record):
                yield start, record
            start = lines.number + 1
    except csv.Error as error:
        raise ImportFileError(f"Line {start} is not valid CSV ({error}): the rows before it were imported, "
                             f"nothing after it was read.") from None


def _rows(reader, lines: "_Lines", header: list[str], columns: dict[str, int],
          result: ImportResult) -> Iterator[tuple[int, str, dict[str, str]]]:
    """(line, unique id, {column: text}) for each record that has the header's shape and is UTF-8.

    Counts every record in `result.rows`; the misshapen and undecodable ones are rejected here.
    """
    for line, record in _records(reader, lines):
        result.rows += 1
        values = {name: record[index] if index < len(record) else "" for name, index in columns.items()}
        unique_id = " ".join(values["unique_id"].split())
        if len(record) != len(header):
            result.reject(Rejection(line, unique_id, f"{len(record)} fields where the header has {len(header)}"))
        elif line in lines.undecodable:
            result.reject(Rejection(line, unique_id, "not UTF-8 text (save the file as UTF-8)"))
        else:
            yield line, unique_id, values


def _header(names: list[str] | None, first_line: str) -> dict[str, int]:
    """The index of each column read, by lower-case name; ImportFileError if one is missing."""
    if not names:
        raise ImportFileError("The file is empty: it has no header line. Nothing was imported.")
    index = {}
    for position, name in enumerate(names):
        key = name.strip().lower()
        key = ALIASES.get(key, key)
        if key in COLUMNS and key not in index:
            index[key] = position
    missing = [name for name in REQUIRED if name not in index]
    if missing:
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if len(names) == 1 and first_line.count(delimiter) >= len(REQUIRED) - 1:
                raise ImportFileError(f"The columns are separated by {label}, not commas: export the file "
                                      f"as comma-separated CSV. Nothing was imported.")
        raise ImportFileError("The header lacks required column(s): "
                              + ", ".join(name.upper() for name in missing)
                              + " (the portal's upper-case or the API's lower-case names). Nothing was imported.")
    return index


# --- cleaning -------------------------------------------------------------------------------


class _Reference:
    """Districts and community areas, loaded once (a few dozen rows) for every row's lookup."""

    def __init__(self):
        self.districts = dict(District.objects.values_list("number", "id"))
        areas = list(CommunityArea.objects.values_list("number", "name", "id"))
        self.areas_by_name = {" ".join(name.upper().split()): pk for _, name, pk in areas}
        self.areas_by_number = {number: pk for number, _, pk in areas}

    def clean(self, values: dict[str, str]) -> dict:
        """The row as CpdVictim fields; RowError names the first column that cannot be stored."""
        unique_id = _text(values, "unique_id", 40, required=True)
        occurred_at = _moment(values, "date", required=True)
        if occurred_at > timezone.now() + timedelta(days=1):
            raise RowError(f"date: {values['date'].strip()} is in the future")
        latitude, longitude = _point(values)
        return {
            "unique_id": unique_id,
            "rd_number": _text(values, "case_number", 12, required=True).upper(),
            "occurred_at": occurred_at,
            "block": _text(values, "block", 120, required=True),
            "district_id": self._district(values["district"]),
            "beat": _beat(values["beat"]),
            "community_area_id": self._area(values["community_area"]),
            "victimization": _text(values, "victimization_primary", 40, required=True).upper(),
            "incident_type": _text(values, "incident_primary", 40).upper(),
            "age_band": _age_band(values.get("age", "")),
            "sex": SEX.get(values["sex"].strip().upper(), Victim.Sex.UNKNOWN),
            "fatal": _fatal(values),
            "gunshot": _flag(values, "gunshot_injury_i"),
            "location_description": _text(values, "location_description", 80, truncate=True),
            "outreach_tag": _outreach_tag(values.get("street_outreach_organization", "")),
            "latitude": latitude,
            "longitude": longitude,
            "cpd_updated_at": _moment(values, "updated"),
        }

    def _district(self, value: str) -> int:
        if not value.strip():
            raise RowError("district: empty")
        try:
            number = normalise_district(value, spreadsheet=True)
        except ValueError:
            raise RowError(f"district: “{value.strip()}” is not a district number") from None
        if number not in self.districts:
            raise RowError(f"district: no police district {number}")
        return self.districts[number]

    def _area(self, value: str) -> int | None:
        text = " ".join(value.upper().split())
        if not text:
            return None
        if text.removesuffix(".0").isascii() and text.removesuffix(".0").isdigit():
            found = self.areas_by_number.get(int(text.removesuffix(".0")))
        else:
            found = self.areas_by_name.get(text)
        if found is None:
            raise RowError(f"community_area: no community area “{value.strip()}”")
        return found


def _text(values: dict[str, str], column: str, limit: int, *, required: bool = False, truncate: bool = False) -> str:
    text = " ".join((values.get(column) or "").split())
    if required and not text:
        raise RowError(f"{column}: empty")
    if len(text) > limit:
        if not truncate:
            raise RowError(f"{column}: longer than {limit} characters")
        text = text[:limit]
    return text


def _moment(values: dict[str, str], column: str, *, required: bool = False) -> datetime | None:
    """CPD's floating local time as an aware datetime in Chicago.

    Takes ISO (`2024-09-01 00:15:00`, `2025-05-29T10:35:55.000`) and the portal export's
    `09/01/2024 12:15:00 AM`. CPD's file cannot say which of the autumn's two 01:00-01:59 hours
    it means; it is read as the first (CDT), and a time in the spring's missing hour with the
    offset before the change (02:30 becomes 03:30 CDT). That is zoneinfo's fold=0, the reading
    the portal's own intake and demo import give the same text, so the two sides reconcile.
    An explicit offset, if one is ever given, is honoured.
    """
    text = (values.get(column) or "").strip()
    if not text:
        if required:
            raise RowError(f"{column}: empty")
        return None
    try:
        moment = datetime.fromisoformat(text) if "/" not in text else datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p")
    except ValueError:
        raise RowError(f"{column}: “{text[:40]}” is not a date and time") from None
    if len(text) <= 10:
        raise RowError(f"{column}: “{text}” has no time of day")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHICAGO)
    if moment < EARLIEST:
        raise RowError(f"{column}: {text} is before the data set begins (1991)")
    # In UTC: Python never finds a Chicago time in the repeated hour equal to any moment of
    # another zone (PEP 495), so the comparison with the stored value would always differ.
    return moment.astimezone(UTC)


def _point(values: dict[str, str]) -> tuple[float | None, float | None]:
    latitude, longitude = values["latitude"].strip(), values["longitude"].strip()
    if not latitude and not longitude:
        return None, None
    try:
        lat, lon = float(latitude), float(longitude)
    except ValueError:
        raise RowError(f"latitude/longitude: “{latitude}, {longitude}” is not a pair of numbers") from None
    west, south, east, north = CHICAGO_BOUNDS
    if not (south <= lat <= north and west <= lon <= east):
        raise RowError(f"latitude/longitude: {lat}, {lon} is outside Chicago")
    return lat, lon


def _beat(value: str) -> str:
    text = value.strip().removesuffix(".0")
    if not text:
        return ""
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise RowError(f"beat: “{value.strip()}” is not a beat number")
    return text.zfill(4)


def _age_band(value: str) -> str:
    text = value.strip().upper().replace(" ", "")
    if text.isascii() and text.isdigit() and len(text) <= 3:  # "²" is a digit to isdigit(), not to int()
        age = int(text)
        return "60+" if age >= 60 else "0-19" if age < 20 else f"{age // 10 * 10}-{age // 10 * 10 + 9}"
    return AGE_BANDS.get(text, Victim.AgeBand.UNKNOWN)


def _flag(values: dict[str, str], column: str) -> bool:
    text = (values.get(column) or "").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise RowError(f"{column}: “{text}” is neither yes nor no")


def _fatal(values: dict[str, str]) -> bool:
    """The extract's `fatal` column when there is one; otherwise a homicide is fatal, as CPD counts."""
    if (values.get("fatal") or "").strip():
        return _flag(values, "fatal")
    return values["victimization_primary"].strip().upper() == "HOMICIDE"


def _outreach_tag(value: str) -> str:
    text = " ".join(value.split())
    return "" if text.upper() == "NONE" else text[:200]


# --- writing --------------------------------------------------------------------------------


class _Batch:
    """Up to batch_size cleaned rows by unique id, written together by flush()."""

    def __init__(self, reference: _Reference):
        self.reference = reference
        self.rows: dict[str, dict] = {}
        self.started = timezone.now()

    def flush(self, result: ImportResult) -> None:
        """Compare the rows with what is stored, upsert the new and changed ones, rebuild their incidents.

        Unchanged rows are not written, so a re-run writes nothing and their `changed_at` stays.
        The upsert (INSERT … ON CONFLICT DO UPDATE) keeps a concurrent import of the same rows
        from failing on the unique id.
        """
        if not self.rows:
            return
        now = timezone.now()
        with transaction.atomic():
            stored = {values[0]: values[1:] for values in CpdVictim.objects.filter(
                unique_id__in=self.rows).values_list("unique_id", *STORED)}
            writes, touched = [], set()
            for unique_id, row in self.rows.items():
                before = stored.get(unique_id)
                if before is not None and before == tuple(row[name] for name in STORED):
                    result.unchanged += 1
                    continue
                if before is None:
                    result.created += 1
                else:
                    result.updated += 1
                    touched.add(before[0])  # its old RD number, should CPD have moved it
                touched.add(row["rd_number"])
                writes.append(CpdVictim(**row, changed_at=now))
            if writes:
                CpdVictim.objects.bulk_create(writes, update_conflicts=True, unique_fields=["unique_id"],
                                              update_fields=[*STORED, "changed_at"])
                _incidents_rebuild(touched, now, self.started, result)
        self.rows = {}


def _incidents_rebuild(rd_numbers: set[str], now: datetime, started: datetime, result: ImportResult) -> None:
    """Recompute the CpdIncident of each RD number from all of its stored victims.

    An incident whose victims fall in two batches is written twice; it is counted once, as
    created or updated, by whether it had changed before this import `started`.
    """
    victims = CpdVictim.objects.filter(rd_number__in=rd_numbers).order_by("rd_number", "occurred_at", "unique_id")
    built: dict[str, dict] = {}
    for victim in victims.values("rd_number", "fatal", "gunshot", *INCIDENT_STORED[:7], "cpd_updated_at"):
        incident = built.get(victim["rd_number"])
        if incident is None:  # the earliest victim gives the time and place
            incident = built[victim["rd_number"]] = {
                "rd_number": victim["rd_number"], **{name: victim[name] for name in INCIDENT_STORED[:7]},
                "victim_count": 0, "fatal_count": 0, "gunshot_count": 0, "cpd_updated_at": None,
            }
        incident["victim_count"] += 1
        incident["fatal_count"] += victim["fatal"]
        incident["gunshot_count"] += victim["gunshot"]
        if victim["cpd_updated_at"] and (incident["cpd_updated_at"] is None
                                         or victim["cpd_updated_at"] > incident["cpd_updated_at"]):
            incident["cpd_updated_at"] = victim["cpd_updated_at"]
    stored = {values[0]: values[1:] for values in CpdIncident.objects.filter(
        rd_number__in=rd_numbers).values_list("rd_number", "changed_at", *INCIDENT_STORED)}
    writes = []
    for rd_number, incident in built.items():
        before = stored.get(rd_number)
        if before is not None and before[1:] == tuple(incident[name] for name in INCIDENT_STORED):
            continue
        if before is None:
            result.incidents_created += 1
        elif before[0] < started:
            result.incidents_updated += 1
        writes.append(CpdIncident(**incident, changed_at=now))
    CpdIncident.objects.bulk_create(writes, update_conflicts=True, unique_fields=["rd_number"],
                                    update_fields=[*INCIDENT_STORED, "changed_at"])
    emptied = set(stored) - set(built)
    if emptied:
        result.incidents_removed += CpdIncident.objects.filter(rd_number__in=emptied).delete()[0]


# --- telling ---------------------------------------------------------------------------------


class _Progress:
    """A bar redrawn in place on a terminal; otherwise a plain line every PROGRESS_EVERY batches."""

    WIDTH = 30

    def __init__(self, stdout: TextIO | None, size: int, lines: _Lines, bar: bool):
        self.stdout, self.size, self.lines, self.bar = stdout, max(size, 1), lines, bar
        self.flushes = 0

    def tick(self, result: ImportResult) -> None:
        if self.stdout is None:
            return
        self.flushes += 1
        share = min(self.lines.position / self.size, 1.0)
        if self.bar:
            filled = round(share * self.WIDTH)
            self.stdout.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%}  {result.rows:,} rows")
            self.stdout.flush()
        elif self.flushes % PROGRESS_EVERY == 0:
            self.stdout.write(f"{result.rows:,} rows read ({share:.0%})\n")

    def done(self, result: ImportResult) -> None:
        if self.stdout is not None and self.bar:
            self.stdout.write(f"\r[{'#' * self.WIDTH}] 100%  {result.rows:,} rows\n")


def _report(stdout: TextIO | None, result: ImportResult) -> None:
    if stdout is None:
        return
    stdout.write(f"{result.summary} in {result.seconds:.1f} s\n")
    for rejection in result.rejected:
        stdout.write(f"  rejected {rejection}\n")
    if result.rejected_count > len(result.rejected):
        stdout.write(f"  … and {result.rejected_count - len(result.rejected):,} more rejected rows\n")
