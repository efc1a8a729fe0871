from django.urls import path

from . import inbound, views

app_name = "notifications"
urlpatterns: list = [
    # Coming back from a message: the one-tap acknowledgement link, SMS replies, SMS status reports.
    path("a/<str:token>/", inbound.ack_link, name="ack_link"),
    path("sms/inbound/", inbound.sms_inbound, name="sms_inbound"),
    path("sms/status/", inbound.sms_status, name="sms_status"),
    # CPD: incident entry, the live incident page, correction, the district board.
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/locate/", views.locate_point, name="locate"),
    path("incidents/<uuid:code>/", views.incident_detail, name="incident_detail"),
    path("incidents/<uuid:code>/live/", views.incident_live, name="incident_live"),
    path("incidents/<uuid:code>/correct/", views.incident_correct_view, name="incident_correct"),
    path("board/", views.board, name="board"),
    path("board/live/", views.board_live, name="board_live"),
]
