from django.urls import path

from core.api import endpoint

from . import api

urlpatterns = [
    path("responses/", endpoint(api.ResponseListApi, api.ResponseCreateApi).as_view(), name="api-responses"),
]
