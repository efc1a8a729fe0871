from django.urls import path

from . import views, views_team

app_name = "responses"
urlpatterns = [
    path("feed/", views.feed, name="feed"),
    path("n/<uuid:code>/", views.incident, name="incident"),
    path("n/<uuid:code>/status/", views.status, name="status"),
    path("n/<uuid:code>/correct/", views.correct, name="correct"),
    path("n/<uuid:code>/respond/", views.respond, name="respond"),
    path("n/<uuid:code>/assign/", views_team.assign, name="assign"),
    path("follow-ups/", views.followups, name="followups"),
    path("outreach/language/", views.language, name="language"),
    path("outreach/offline/", views.offline, name="offline"),
    path("outreach/sync/", views.sync, name="sync"),
    path("outreach/push/", views.push_subscribe, name="push_subscribe"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("team/", views_team.team, name="team"),
    path("team/on-call/", views_team.oncall, name="oncall"),
    path("team/on-call/add/", views_team.oncall_add_view, name="oncall_add"),
    path("team/on-call/remove/", views_team.oncall_remove_view, name="oncall_remove"),
    path("team/channels/", views_team.channels, name="channels"),
    path("team/channels/policy/", views_team.policy_set, name="policy_set"),
    path("team/channels/drill/", views_team.drill, name="drill"),
    path("team/channels/add/", views_team.channel_add_view, name="channel_add"),
    path("team/channels/<uuid:code>/", views_team.channel_update, name="channel_update"),
    path("team/consent/", views_team.consent, name="consent"),
    path("team/transparency/", views_team.transparency, name="transparency"),
    path("team/access-log/", views_team.access_log, name="access_log"),
    path("team/export/", views_team.records_export, name="records_export"),
]
