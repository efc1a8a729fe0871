"""Under production settings, Django's deployment checklist finds nothing to warn about."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DJANGO_SETTINGS_MODULE": "cvi_portal.settings",
                   **env}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environment,
                          capture_output=True, text=True, timeout=120)


def production_env(**extra: str) -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portal.example.org",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        **extra,
    }


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNINGS" not in result.stderr


def test_check_deploy_is_clean_with_the_full_production_set():
    """As docker-compose runs it: Redis, a mail relay, the public origin."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env(
        REDIS_URL=os.environ["REDIS_URL"], EMAIL_HOST="mailcatcher", EMAIL_PORT="1025",
        CSRF_TRUSTED_ORIGINS="https://portal.example.org", SITE_URL="https://portal.example.org",
    ))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_same_check_flags_a_development_configuration(tmp_path):
    """The test above can fail: DEBUG on is exactly what the checklist warns about."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="true", CVI_VAR_DIR=str(tmp_path),
                    DATABASE_URL=os.environ["DATABASE_URL"])
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG should not be True in deployment


def test_find_python_names_a_python_of_at_least_3_12_or_says_how_to_get_one(tmp_path):
    script = str(BASE_DIR / "scripts" / "find-python")
    found = subprocess.run([script], env={"PATH": os.environ["PATH"], "PYTHON": sys.executable},
                           capture_output=True, text=True, timeout=30)
    assert found.returncode == 0 and found.stdout.strip() == sys.executable

    (tmp_path / "python3").symlink_to("/bin/false")  # a pyenv-style shim that does not run
    missing = subprocess.run(["/bin/bash", script], env={"PATH": str(tmp_path)}, capture_output=True, text=True,
                             timeout=30)
    assert missing.returncode == 1
    assert "CVI Portal needs Python 3.12 or newer; none was found" in missing.stderr


def test_make_fetches_uv_into_tools_when_it_is_not_on_the_path(tmp_path):
    """A dry run of `make venv` on a PATH without uv: uv comes from the package index into .tools/."""
    bare_path = "/usr/local/bin:/usr/bin:/bin"
    if subprocess.run(["/bin/sh", "-c", "command -v uv"], env={"PATH": bare_path}).returncode == 0:
        bare_path = str(tmp_path)  # uv is installed system-wide here: hide everything but make
        (tmp_path / "make").symlink_to("/usr/bin/make")
        (tmp_path / "sh").symlink_to("/bin/sh")
        (tmp_path / "bash").symlink_to("/bin/bash")
    result = subprocess.run(["make", "-n", "-B", "venv"], cwd=BASE_DIR, env={"PATH": bare_path},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "python3 -m venv .tools" in result.stdout
    assert '.tools/bin/pip install --quiet --disable-pip-version-check "uv==' in result.stdout
    assert '.tools/bin/uv sync --locked --python "$(scripts/find-python)"' in result.stdout
