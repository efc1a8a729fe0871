"""Small-count suppression for shared aggregates (ARCHITECTURE.md, the trust boundary).

A count of 1 to 3 that leaves the review table is shown as "≤3", so a published figure can
never single out a person or a block. Zero stays zero (an absence is not identifying), and
larger counts are shown as they are.
"""

SUPPRESSED = "≤3"
THRESHOLD = 3


def is_small(count: int | None) -> bool:
    """Whether a count must be suppressed before it is published."""
    return count is not None and 0 < count <= THRESHOLD


def suppress(count: int | None) -> int | str | None:
    """The count as it may be published: "≤3" for 1 to 3, otherwise unchanged (None stays None)."""
    return SUPPRESSED if is_small(count) else count


def suppress_row(row: dict, keys) -> dict:
    """A copy of `row` with the counts under `keys` suppressed."""
    return {key: suppress(value) if key in keys else value for key, value in row.items()}
