"""The API: `/api/v1/` (API.md), the OpenAPI schema and its browsable docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include("districts.api_urls")),
    path("v1/", include("notifications.api_urls")),
    path("v1/", include("responses.api_urls")),
]
