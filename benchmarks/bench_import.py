"""make bench-import: `import_cpd_victims` on 20,000 and 100,000 rows, rows per second and peak memory.

Generates two CSV files in a temporary folder from the shipped victims file (its real rows
again and again, each pass with new RD numbers and unique ids and a week earlier), then imports
each in its own child process into its own PostgreSQL database (BENCH_IMPORT_DATABASE_URL with
`_<rows>` appended; created if missing, migrated, emptied of CPD rows first). For each size:
the first import (every row created), a second one of the same file (every row unchanged), and
the child's peak RSS (VmHWM), with its RSS before the import (Django, the reference data).
Flat memory means the peak barely grows from 20,000 to 100,000 rows. The last line is one JSON
object.
"""

import argparse
import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from support import ensure_database  # benchmarks/support.py (scripts run from benchmarks/)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "notifications" / "data" / "shooting_victimizations_2024-09_to_2026-08.csv"
SIZES = (20_000, 100_000)


def generate(path: Path, rows: int) -> None:
    """`rows` victims in the API extract's columns: the shipped rows, pass after pass, renumbered."""
    with SHIPPED.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, source = reader.fieldnames, list(reader)
    cases = {case: index for index, case in enumerate(dict.fromkeys(row["case_number"] for row in source))}
    written = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        for turn in range(rows // len(source) + 1):
            shift = timedelta(weeks=turn)
            for row in source:
                if written == rows:
                    return
                rd_number = f"B{turn:02d}{cases[row['case_number']]:05d}"  # 8 characters, as CPD's
                victim = row["cpd_id"].rsplit("-", 1)[-1]
                occurred = datetime.fromisoformat(row["date"]) - shift
                writer.writerow({**row, "case_number": rd_number, "cpd_id": f"SHOOT-{rd_number}-{victim}",
                                 "date": occurred.strftime("%Y-%m-%d %H:%M:%S")})
                written += 1


def vm(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(path: Path) -> None:
    """Runs in its own process (`--child FILE`): imports the file twice, prints one JSON object."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from districts.loaders import load_geography
    from districts.models import District
    from reviews.importers import cpd_victims_import
    from reviews.models import CpdIncident, CpdVictim

    call_command("migrate", verbosity=0)
    if not District.objects.exists():
        load_geography()
    CpdVictim.objects.all().delete()
    CpdIncident.objects.all().delete()
    rss_before_kb = vm("VmRSS")
    first = cpd_victims_import(path=path)
    second = cpd_victims_import(path=path)
    print(json.dumps({
        "rows": first.rows, "created": first.created, "incidents": first.incidents_created,
        "rejected": first.rejected_count, "unchanged_on_rerun": second.unchanged,
        "first_s": round(first.seconds, 2), "rerun_s": round(second.seconds, 2),
        "rows_per_s": round(first.rows / first.seconds), "rerun_rows_per_s": round(second.rows / second.seconds),
        "rss_before_mb": round(rss_before_kb / 1024, 1), "peak_rss_mb": round(vm("VmHWM") / 1024, 1),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/cvi_bench_import"
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        for rows in args.sizes:
            path = Path(tmp) / f"victims_{rows}.csv"
            generate(path, rows)
            parts = urlsplit(base)
            url = urlunsplit(parts._replace(path=f"{parts.path}_{rows}"))
            ensure_database(url)
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cvi_portal.settings", "DATABASE_URL": url,
                   "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "127.0.0.1",
                   "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING",
                   "PYTHONPATH": str(ROOT)}
            done = subprocess.run([sys.executable, __file__, "--child", str(path)], env=env, cwd=ROOT,
                                  capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"the import of {rows:,} rows failed:\n{done.stderr}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            figures["file_mb"] = round(path.stat().st_size / 1e6, 1)
            results[str(rows)] = figures
            print(f"{rows:>7,} rows ({figures['file_mb']} MB): first import {figures['first_s']} s "
                  f"({figures['rows_per_s']:,} rows/s, {figures['created']:,} victims, "
                  f"{figures['incidents']:,} incidents), re-run {figures['rerun_s']} s "
                  f"({figures['rerun_rows_per_s']:,} rows/s, {figures['unchanged_on_rerun']:,} unchanged); "
                  f"RSS {figures['rss_before_mb']} MB before, peak {figures['peak_rss_mb']} MB", flush=True)
    peaks = [results[str(rows)]["peak_rss_mb"] for rows in args.sizes]
    summary = {"sizes": results, "peak_rss_growth_mb": round(peaks[-1] - peaks[0], 1)}
    print(f"peak RSS growth from {args.sizes[0]:,} to {args.sizes[-1]:,} rows: {summary['peak_rss_growth_mb']} MB")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
