"""Leaving objects a service already holds where `prefetch_related` would have put them.

A service that has just written an incident's victims and notifications holds them; a reader
that then asks `incident.victims.all()` should not read them back. `prefetched_set(instance,
name, objects)` fills the relation's prefetch cache exactly as Django's own prefetch does it
(`prefetch_one_level`): the related manager's queryset, filtered to `instance`, with its
results already in place, so `.all()` reads nothing and a later `prefetch_related` of the same
name keeps them.
"""

from collections.abc import Iterable

from django.db.models import Model


def prefetched_set(instance: Model, name: str, objects: Iterable[Model]) -> None:
    """Make `getattr(instance, name).all()` return `objects` (in that order) without a query.
    `name` is a many-valued relation of `instance` (a reverse foreign key or a many-to-many)."""
    queryset = getattr(instance, name).get_queryset()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    # The cache is keyed by the relation's accessor name, which is `name` for both kinds.
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def has_prefetched(instance: Model, *names: str) -> bool:
    """Whether each of `names` was left in `instance`'s prefetch cache (by prefetch_related or
    `prefetched_set`)."""
    cache = getattr(instance, "_prefetched_objects_cache", {})
    return all(name in cache for name in names)
