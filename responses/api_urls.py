from django.urls import path

from districts.api_support import endpoint

from . import api

urlpatterns = [
    path("responses/", endpoint(api.ResponseListApi, api.ResponseCreateApi).as_view(), name="api-responses"),
]
