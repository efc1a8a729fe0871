"""Counts per attack class: attempts tried, attempts that succeeded, server errors; and the
exact failing attempts, so whoever reads the run can replay each one."""

from dataclasses import dataclass, field

SHOWN = 12  # failing attempts printed per class (all are kept in the JSON's "examples" up to this)


@dataclass
class Tally:
    name: str
    tried: int = 0
    succeeded: int = 0
    server_errors: int = 0
    examples: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def attempt(self, answer, *, success: bool = False, what: str = "") -> bool:
        """Count one attempt. `answer` is a client.Answer or None (nothing sent)."""
        self.tried += 1
        if answer is not None and answer.server_error:
            self.server_errors += 1
            self._example(f"SERVER ERROR {answer.status or 'timeout'} {what or answer.path} ({answer.seconds:.1f}s)")
        if success:
            self.succeeded += 1
            self._example(f"SUCCEEDED {what or (answer.path if answer else '')}")
        return success

    def _example(self, line: str) -> None:
        if len(self.examples) < SHOWN:
            self.examples.append(line)

    def summary(self) -> dict:
        return {"tried": self.tried, "succeeded": self.succeeded, "server_errors": self.server_errors}

    def report(self) -> str:
        lines = [f"{self.name}: tried {self.tried}, succeeded {self.succeeded}, server errors {self.server_errors}"]
        lines += [f"    {line}" for line in self.examples]
        lines += [f"    note: {line}" for line in self.notes]
        return "\n".join(lines)
