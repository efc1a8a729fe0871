"""The API: `/api/v1/` (API.md), the OpenAPI schema and its browsable docs."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    # The reference needs a signed-in caller (a session or a token: SPECTACULAR_SETTINGS'
    # SERVE_PERMISSIONS) and is unthrottled; the API's own throttles (settings) are per caller.
    # The docs page sends an anonymous visitor to the login page, and loads its script from a
    # second request (the split view) because the CSP allows no inline script.
    path("schema/", SpectacularAPIView.as_view(throttle_classes=[]), name="api-schema"),
    path("docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema", throttle_classes=[])),
         name="api-docs"),
    path("v1/", include("districts.api_urls")),
    path("v1/", include("notifications.api_urls")),
    path("v1/", include("responses.api_urls")),
    path("v1/", include("reviews.api_urls")),
    # Anything else under /api/ is a JSON 404, like every other API error (never the HTML page).
    re_path(r"", lambda request, *args, **kwargs: JsonResponse({"detail": "Not found."}, status=404)),
]
