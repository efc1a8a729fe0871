"""Demo data for the protocols app: the seeded playbooks and the starter places list.
Idempotent. The partner organisations come first (districts.demo)."""

from .services_playbooks import DATA_DIR, load_playbooks, places_import


def seed_playbooks(stdout) -> None:
    result = load_playbooks()
    for message in result.messages:
        stdout.write(message)
    stdout.write(result.summary)
    stdout.write(places_import(actor=None, source="system",
                               text=(DATA_DIR / "places.csv").read_text(encoding="utf-8")).summary)
