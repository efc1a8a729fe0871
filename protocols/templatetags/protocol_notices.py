"""`{% protocol_notices %}`: the member's reminders to re-acknowledge a changed protocol, for
each role's home page (the tag reads them, so no view above this app has to)."""

from django import template

from protocols.documents import notices_open

register = template.Library()


@register.inclusion_tag("protocols/_notices.html", takes_context=True)
def protocol_notices(context):
    request = context.get("request")
    return {"notices": notices_open(request.user) if request is not None else []}
