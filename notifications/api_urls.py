from django.urls import path

from core.api import endpoint

from . import api

urlpatterns = [
    path("incidents/", endpoint(api.IncidentListApi, api.IncidentCreateApi).as_view(), name="api-incidents"),
    path("incidents/<str:code>/", endpoint(api.IncidentDetailApi, api.IncidentCorrectApi).as_view(),
         name="api-incident"),
    path("notifications/", api.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/<str:code>/acknowledge/", api.NotificationAcknowledgeApi.as_view(),
         name="api-notification-acknowledge"),
    path("notifications/<str:code>/status/", api.NotificationStatusApi.as_view(), name="api-notification-status"),
]
urlpatterns += [
    path("organizations/<str:code>/webhook-test/", api.WebhookTestApi.as_view(), name="api-webhook-test"),
    path("organizations/<str:code>/deliveries/", api.DeliveryListApi.as_view(), name="api-deliveries"),
]
