"""Counts per attack class: attempts tried, attempts that succeeded, server errors; and the
exact failing attempts, so whoever reads the run can replay each one.

Failing attempts are grouped (`group`, e.g. one push endpoint tried at 23 internal addresses):
the report shows each group's first attempt and how many more failed the same way.
"""

import re
from dataclasses import dataclass, field

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

SHOWN = 15  # failure groups printed per class


@dataclass
class Tally:
    name: str
    tried: int = 0
    succeeded: int = 0
    server_errors: int = 0
    groups: dict = field(default_factory=dict)  # group → [count, first failing attempt]
    notes: list = field(default_factory=list)

    def attempt(self, answer, *, success: bool = False, what: str = "", group: str | None = None) -> bool:
        """Count one attempt. `answer` is a client.Answer or None (nothing sent)."""
        self.tried += 1
        if answer is not None and answer.server_error:
            self.server_errors += 1
            self.fail(f"SERVER ERROR {answer.status or 'timeout'} {what or answer.path} ({answer.seconds:.1f}s)",
                      group=f"5xx {group}" if group else None)
        if success:
            self.succeeded += 1
            self.fail(f"SUCCEEDED {what or (answer.path if answer else '')}", group=group)
        return success

    def fail(self, line: str, *, group: str | None = None) -> None:
        entry = self.groups.setdefault(group or UUID.sub("<uuid>", line), [0, line])
        entry[0] += 1

    def failures(self) -> list[str]:
        """Every failing attempt's group: its first attempt and how many there were."""
        return [f"{self.name}: {first} (x{count})" for count, first in self.groups.values()]

    def summary(self) -> dict:
        return {"tried": self.tried, "succeeded": self.succeeded, "server_errors": self.server_errors}

    def report(self) -> str:
        lines = [f"{self.name}: tried {self.tried}, succeeded {self.succeeded}, server errors {self.server_errors}"]
        ordered = sorted(self.groups.values(), key=lambda group: not group[1].startswith("SUCCEEDED"))
        for count, first in ordered[:SHOWN]:
            lines.append(f"    {first}" + (f"  (and {count - 1} more like it)" if count > 1 else ""))
        if len(self.groups) > SHOWN:
            lines.append(f"    … {len(self.groups) - SHOWN} more kinds of failure")
        lines += [f"    note: {line}" for line in self.notes]
        return "\n".join(lines)
