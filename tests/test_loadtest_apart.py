"""The load test (loadtest/, `make load`) runs as its own command: pytest must never collect or
import it, since locust's gevent patching breaks a pytest process (TOOLCHAIN.md)."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pytest_collects_nothing_from_the_load_test():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert options["testpaths"] == ["tests"]
    names = {path.name for path in (ROOT / "loadtest").rglob("*.py")}
    assert "locustfile.py" in names
    assert not [name for name in names if name.startswith("test_") or name == "conftest.py"]


def test_no_test_imports_locust_or_the_locustfile():
    sources = [path.read_text() for path in (ROOT / "tests").rglob("*.py") if path.name != Path(__file__).name]
    assert not [s for s in sources if "import locust" in s or "from locust" in s or "loadtest.locustfile" in s]
