"""Words for the notifications app's values, in the worker's language.

The notifications models label their choices in English for CPD and the admin; outreach pages
show them through these maps so every outreach page reads in English or Spanish.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

STATUS = {
    "pending": _("Not yet sent"),
    "sent": _("New"),
    "delivered": _("New"),
    "failed": _("New"),
    "acknowledged": _("Acknowledged"),
    "en_route": _("En route"),
    "on_scene": _("On scene"),
    "at_hospital": _("At hospital"),
    "unable": _("Unable to respond"),
}
# Tone of the status badge (colour is never the only cue: the word is always shown).
STATUS_TONE = {"acknowledged": "info", "en_route": "info", "on_scene": "ok", "at_hospital": "ok", "unable": "warn"}

UNABLE_REASON = {
    "unsafe": _("Unsafe"),
    "scene_held": _("Scene held by police"),
    "no_capacity": _("No capacity"),
    "other": _("Other"),
}

SCENE_STATUS = {"active": _("Scene active"), "secured": _("Scene secured"), "cleared": _("Scene cleared")}

SEX = {"M": pgettext_lazy("sex", "Male"), "F": pgettext_lazy("sex", "Female"), "X": "X",
       "unknown": pgettext_lazy("sex", "Unknown")}

RESPONSE_CATEGORY = {"scene": _("Scene"), "hospital": _("Hospital"), "family": _("Family"),
                     "mediation": _("Mediation"), "": "—"}

TIER = {1: _("On call"), 2: _("Backup"), 3: _("Supervisor")}
WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]
CHANNEL_KIND = {"in_app": _("In-app"), "email": _("Email"), "sms": _("SMS"), "push": _("Web push"),
                "webhook": _("Webhook")}
ROLE = {"outreach_worker": _("Outreach worker"), "outreach_supervisor": _("Outreach supervisor"),
        "cpd_staff": _("CPD district staff"), "cpd_commander": _("District commander"),
        "analyst": _("CSCC analyst"), "admin": _("Portal administrator")}
