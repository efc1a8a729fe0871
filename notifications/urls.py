from django.urls import path

from . import inbound

app_name = "notifications"
urlpatterns: list = [
    # Coming back from a message: the one-tap acknowledgement link, SMS replies, SMS status reports.
    path("a/<str:token>/", inbound.ack_link, name="ack_link"),
    path("sms/inbound/", inbound.sms_inbound, name="sms_inbound"),
    path("sms/status/", inbound.sms_status, name="sms_status"),
]
