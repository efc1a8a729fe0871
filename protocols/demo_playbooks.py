"""Demo data for the protocols app: the seeded playbooks and the starter places list.
Idempotent: a second run changes nothing. The partner organisations come first (districts.demo)."""

from .models_playbooks import Place
from .services_playbooks import DATA_DIR, load_playbooks, places_import


def seed_playbooks(stdout) -> None:
    result = load_playbooks()
    for message in result.messages:
        stdout.write(message)
    stdout.write(result.summary)
    if Place.objects.exists():  # an administrator's list (or the first run's) stays as it is
        stdout.write("places: already loaded, left as they are")
        return
    stdout.write(places_import(actor=None, source="system",
                               text=(DATA_DIR / "places.csv").read_text(encoding="utf-8")).summary)
