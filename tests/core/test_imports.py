"""core.imports.imported: heavy libraries imported on first use by many threads at once.

In a fresh interpreter (nothing imported yet, as a gunicorn worker that has just started),
eight threads released together each import and use shapely, as eight first requests to a
desk page or the incident form do. A bare first import there fails in every thread and leaves
numpy unloadable for the rest of the process.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite

ROOT = Path(__file__).resolve().parents[2]

RACE = """
import threading
from core.imports import imported

barrier, errors = threading.Barrier(8), []

def first_request(index):
    barrier.wait()
    try:
        if index % 2:
            imported("shapely").STRtree([imported("shapely.geometry").Point(0, 0)])
        else:
            imported("shapely.geometry").shape({"type": "Point", "coordinates": [1, 2]}).buffer(1)
    except Exception as error:
        errors.append(repr(error))

threads = [threading.Thread(target=first_request, args=(i,)) for i in range(8)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print(len(errors), errors[:1])
"""


def test_eight_threads_importing_shapely_at_once_all_get_it_working():
    for _ in range(3):
        ran = subprocess.run([sys.executable, "-c", RACE], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0, ran.stderr[-2000:]
        assert ran.stdout.startswith("0 []"), ran.stdout + ran.stderr[-2000:]
