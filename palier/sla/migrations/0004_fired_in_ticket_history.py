"""SLA warnings and breaches move from ``SlaEvent`` to the ticket history (``TicketEvent`` rows of
kinds ``sla_warning`` and ``sla_breach``, internal, with the unique key
``sla:<clock>:<warning|breach>:<generation>`` the sweep now claims them with).

Each existing warning or breach row becomes one ticket event with the same ticket, time and data
(plus ``clock`` and ``generation``), then the row is deleted. The copies are appended at the end of
the event stream, so its consumers would read them as news; they must not act on them again:

- every copy that automation's former SLA reader has already read (its id is at or below
  ``AutomationState.sla_position``, or that position is unknown) carries ``"handled": true`` in its
  data, and consumers skip handled events (only automation reacts to these kinds at all);
- every stream cursor that had read the whole stream before the copy is moved past the copies,
  so they cost nothing to read; automation's stays put when some copies were not read yet by the
  former reader, so it runs its SLA rules on those, once, as the reader would have.

Reversible: the ticket events become ``SlaEvent`` rows again and the former reader's position
moves past them (they are history to it).
"""

from django.db import migrations, models

FIRED = {"warning": "sla_warning", "breach": "sla_breach"}
CHUNK = 2000


def _automation_state(apps):
    try:
        return apps.get_model("automation", "AutomationState")
    except LookupError:  # the reader's state is gone: treat every row as read
        return None


def _copy(row, read):
    data = {**(row.data or {}), "clock": row.clock_id, "generation": row.generation}
    if read is None or row.pk <= read:
        data["handled"] = True
    key = f"sla:{row.clock_id}:{row.kind}:{row.generation}" if row.clock_id is not None else None
    return {"ticket_id": row.ticket_id, "kind": FIRED[row.kind], "is_internal": True, "data": data,
            "created_at": row.created_at, "key": key}


def forwards(apps, schema_editor):
    SlaEvent = apps.get_model("sla", "SlaEvent")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    StreamCursor = apps.get_model("tickets", "StreamCursor")
    rows = SlaEvent.objects.filter(kind__in=list(FIRED)).order_by("pk")
    if not rows.exists():
        return
    State = _automation_state(apps)
    read = State.objects.filter(pk=1).values_list("sla_position", flat=True).first() if State else None
    end = TicketEvent.objects.aggregate(last=models.Max("pk"))["last"] or 0
    pending, batch = False, []
    for row in rows.iterator(chunk_size=CHUNK):
        fields = _copy(row, read)
        pending = pending or "handled" not in fields["data"]
        batch.append(TicketEvent(**fields))
        if len(batch) >= CHUNK:
            TicketEvent.objects.bulk_create(batch)
            batch = []
    TicketEvent.objects.bulk_create(batch)
    new_end = TicketEvent.objects.aggregate(last=models.Max("pk"))["last"] or 0
    cursors = StreamCursor.objects.filter(position__gte=end)
    if pending:
        cursors = cursors.exclude(name="automation")
    cursors.update(position=new_end)
    rows.delete()


def backwards(apps, schema_editor):
    SlaEvent = apps.get_model("sla", "SlaEvent")
    Clock = apps.get_model("sla", "Clock")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    kinds = {event_kind: kind for kind, event_kind in FIRED.items()}
    events = TicketEvent.objects.filter(kind__in=list(kinds)).order_by("pk")
    clocks = set(Clock.objects.values_list("pk", flat=True))
    batch = []
    for event in events.iterator(chunk_size=CHUNK):
        data = dict(event.data or {})
        clock_id, generation = data.pop("clock", None), data.pop("generation", 0)
        data.pop("handled", None)
        batch.append(SlaEvent(ticket_id=event.ticket_id, clock_id=clock_id if clock_id in clocks else None,
                              kind=kinds[event.kind], generation=generation, data=data, created_at=event.created_at))
        if len(batch) >= CHUNK:
            SlaEvent.objects.bulk_create(batch)
            batch = []
    SlaEvent.objects.bulk_create(batch)
    events.delete()
    State = _automation_state(apps)
    if State is not None:
        last = SlaEvent.objects.aggregate(last=models.Max("pk"))["last"] or 0
        State.objects.filter(pk=1).update(sla_position=last)


class Migration(migrations.Migration):

    dependencies = [
        ("sla", "0003_policy_version"),
        ("tickets", "0010_event_once_key"),
        ("automation", "0002_seed"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RemoveConstraint(
            model_name="slaevent",
            name="sla_fire_once",
        ),
        migrations.AlterField(
            model_name="slaevent",
            name="kind",
            field=models.CharField(choices=[("started", "started"), ("paused", "paused"), ("resumed", "resumed"), ("target_changed", "target changed"), ("policy_changed", "policy changed"), ("met", "met"), ("missed", "missed"), ("stopped", "stopped"), ("problem", "problem")], max_length=16),
        ),
    ]
