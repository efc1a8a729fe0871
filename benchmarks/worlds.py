"""bench-notify's organisations and the incidents written to them.

- `simple_world`: one organisation, three members and a webhook that answers at once (four
  deliveries an incident: three feed rows, one webhook). Today's paced and burst figures.
- `fanout_world`: five organisations, each with five on-call members (everyone's SMS; email for
  three, web push for two) and shared channels (a webhook, an email list, an SMS phone tree):
  thirteen outbound messages and five feed rows per organisation, 65 outbound an incident, each
  to a stand-in that answers after 300 ms (benchmarks/standins.py). With `hanging=True` the
  first organisation's webhook never answers (the portal's read timeout ends each try).
- `previous_runs_delete`: removes what earlier runs wrote, so each run starts from the same data.
- `run`: writes incidents as intake does (incident, one notification per organisation,
  `deliveries_create`, the wake on commit), paced or in one transaction, and waits until every
  counted delivery is sent or the section's time is up.
"""

import time

SENT = ("sent", "delivered")


def previous_runs_delete() -> int:
    """Delete the incidents earlier runs wrote to this benchmark's own database (the worlds'
    "BENCH …" blocks and the intake section's POSTs), so every run starts from the same data:
    a query over recent incidents, as the repeat playbooks' neighbours are, would otherwise
    grow with the number of runs (tens of thousands of incidents after a few days of runs,
    where Chicago has about a hundred shootings in a month). Returns how many were deleted."""
    from django.db import connection
    from django.db.models import Q

    from notifications.models import Incident

    deleted = Incident.objects.filter(Q(block__startswith="BENCH ") | Q(entered_by__username="bench.cpd")).delete()
    if deleted[0]:
        # The deleted rows' dead tuples and stale statistics slowed the relay's claim (paced
        # commit → task start 14–18 ms against 6 ms) until autovacuum came round.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return deleted[1].get("notifications.Incident", 0)


def _organization(name: str, short: str):
    from districts.models import Channel, Organization
    from notifications.models import Notification

    organization, _ = Organization.objects.get_or_create(name=name, defaults={"short_name": short})
    Notification.objects.filter(organization=organization).delete()
    Channel.objects.filter(organization=organization).delete()
    return organization


def _district():
    from districts.models import District

    return District.objects.get_or_create(number="007", defaults={"name": "Englewood"})[0]


def simple_world(webhook_url: str) -> dict:
    from django.contrib.auth import get_user_model

    from districts.models import Channel, Membership, Role, webhook_secret_new

    organization = _organization("Benchmark Outreach", "Bench")
    Channel.objects.create(organization=organization, kind=Channel.Kind.WEBHOOK, target=webhook_url,
                           secret=webhook_secret_new())
    for n in range(3):
        user, _ = get_user_model().objects.get_or_create(username=f"bench.member{n}")
        Membership.objects.update_or_create(user=user, defaults={"role": Role.OUTREACH_WORKER,
                                                                 "organization": organization, "district": None})
    return {"district": _district(), "organizations": [organization], "per_incident": 4}


def fanout_world(base_url: str, *, organizations: int = 5, members: int = 5, hanging: bool = False) -> dict:
    from django.contrib.auth import get_user_model

    from districts.models import Channel, Membership, OnCall, Role, webhook_secret_new

    from .standins import push_subscription_keys

    User = get_user_model()
    made = []
    for o in range(organizations):
        organization = _organization(f"Benchmark Fan-out {o + 1}", f"Fan{o + 1}")
        OnCall.objects.filter(organization=organization).delete()
        hook = f"{base_url}/{'hang' if hanging and o == 0 else 'hook'}/{o}"
        Channel.objects.bulk_create([
            Channel(organization=organization, kind=Channel.Kind.WEBHOOK, target=hook, secret=webhook_secret_new()),
            Channel(organization=organization, kind=Channel.Kind.EMAIL, target=f"team{o}@fanout.example.org"),
            Channel(organization=organization, kind=Channel.Kind.SMS, target=f"+1312556{o:02d}00"),
        ])
        for m in range(members):
            user, _ = User.objects.get_or_create(username=f"bench.fan{o}.{m}")
            Membership.objects.update_or_create(user=user, defaults={"role": Role.OUTREACH_WORKER,
                                                                     "organization": organization, "district": None})
            OnCall.objects.create(organization=organization, user=user, tier=OnCall.Tier.PRIMARY)
            personal = [Channel(organization=organization, user=user, kind=Channel.Kind.SMS,
                                target=f"+1312555{o:02d}{m:02d}")]
            if m < 3:
                personal.append(Channel(organization=organization, user=user, kind=Channel.Kind.EMAIL,
                                        target=f"worker{o}.{m}@fanout.example.org"))
            else:
                personal.append(Channel(organization=organization, user=user, kind=Channel.Kind.PUSH,
                                        target=f"{base_url}/push/{o}/{m}", config={"keys": push_subscription_keys()}))
            Channel.objects.bulk_create(personal)
        made.append(organization)
    outbound = organizations * (3 + 2 * members)  # shared channels, and two personal ones per member
    return {"district": _district(), "organizations": made, "per_incident": outbound + organizations * members,
            "outbound_per_incident": outbound}


def run(world: dict, *, count: int, rate: float | None, counted=None, wait: float = 600) -> dict:
    """Write `count` incidents (paced at `rate`/s, or all in one transaction) and wait up to
    `wait` seconds after the last commit for every delivery to the `counted` organisations (all
    by default). A delivery still unsent then counts as sent at that moment (a lower bound;
    `unsent` says how many), and every unsent row of these incidents is cancelled so the next
    section starts clean."""
    from django.db import transaction
    from django.utils import timezone

    from notifications.models import Delivery, Incident, Notification
    from notifications.outbox import deliveries_create
    from notifications.relay import outbox_wake

    organizations = world["organizations"]
    counted = counted if counted is not None else organizations
    committed: dict[int, float] = {}
    started = time.time()

    def write(n: int) -> None:
        incident = Incident.objects.create(occurred_at=timezone.now(), block=f"BENCH {n} S HALSTED ST",
                                           district=world["district"], victim_count=1)
        for organization in organizations:
            notification = Notification.objects.create(incident=incident, organization=organization)
            deliveries_create(notification=notification, purpose=Delivery.Purpose.NOTIFY)
        transaction.on_commit(lambda pk=incident.pk: committed.__setitem__(pk, time.time()))

    if rate is None:
        # The burst: every incident in one transaction, so the relay and worker (not this one
        # process writing incidents) set the pace from the commit on.
        with transaction.atomic():
            for n in range(count):
                write(n)
            transaction.on_commit(outbox_wake)
    for n in range(count if rate else 0):
        time.sleep(max(0.0, started + n / rate - time.time()))
        with transaction.atomic():
            write(n)
            transaction.on_commit(outbox_wake)
    mine = Delivery.objects.filter(notification__incident_id__in=committed)
    rows = mine.filter(notification__organization__in=counted)
    deadline = time.time() + wait
    while rows.exclude(status__in=SENT).exists() and time.time() < deadline:
        time.sleep(0.1)
    cut = time.time()
    unsent = rows.exclude(status__in=SENT).count()
    mine.exclude(status__in=SENT + ("dead", "cancelled")).update(status=Delivery.Status.CANCELLED)
    # Feed rows are stamped sent inside the incident's transaction and become visible at its
    # commit, so they count as sent at the commit; "first" is the first message that left.
    sent: dict[int, list[float]] = {}
    outbound: dict[int, list[float]] = {}
    for incident_id, kind, status, sent_at in rows.values_list("notification__incident_id", "kind", "status",
                                                               "sent_at"):
        at = max(sent_at.timestamp(), committed[incident_id]) if status in SENT and sent_at else cut
        sent.setdefault(incident_id, []).append(at)
        if kind != "in_app":
            outbound.setdefault(incident_id, []).append(at)
    # Where the time goes, for outbound rows: commit → the task's claim (relay + broker + worker
    # pickup), and claim → sent (the task itself, transport included).
    to_claim, in_task = [], []
    for incident_id, claimed_at, sent_at in rows.exclude(kind="in_app").filter(status__in=SENT).values_list(
            "notification__incident_id", "claimed_at", "sent_at"):
        if claimed_at:
            to_claim.append(claimed_at.timestamp() - committed[incident_id])
            in_task.append((sent_at - claimed_at).total_seconds())
    last = max(max(v) for v in outbound.values())
    return {
        "commit_to_task_start": to_claim,
        "task": in_task,
        "first": [min(outbound[pk]) - at for pk, at in committed.items()],
        "all": [max(sent[pk]) - at for pk, at in committed.items()],
        "deliveries": rows.exclude(kind="in_app").filter(status__in=SENT).count(),
        "elapsed": last - min(committed.values()),
        "unsent": unsent,
    }
