"""Heavy libraries imported where they are first needed, one thread at a time.

shapely (with numpy), WeasyPrint and openpyxl are imported inside the functions that use them,
so the processes that never do (the relay, the worker) do not carry them. In the web, gunicorn
serves each process's requests on several threads, and the first import of a package with
import cycles run by two threads at once fails: one thread sees the other's half-initialised
module ("cannot import name 'BaseGeometry' from partially initialized module"), and numpy's C
extension then refuses to load again ("cannot load module more than once per process"), so
every later request of that process fails too (found by `make load`: 46 server errors on a
fresh stack). `imported` runs such imports under one process-wide lock.
"""

import importlib
import threading
from types import ModuleType

_lock = threading.RLock()  # re-entrant: an import under the lock may itself call `imported`


def imported(name: str) -> ModuleType:
    """The module `name` ("shapely.geometry"), imported on first use with no other thread
    importing through here at the same time; afterwards a look-up."""
    with _lock:
        return importlib.import_module(name)
