"""The portal's URLs plus one view that fails, to see the 500 page a user would see."""

from django.urls import path

from cvi_portal.urls import urlpatterns as portal_urlpatterns


def fails(request):
    raise RuntimeError("DATABASE_URL=postgres://cvi:hunter2@db/cvi went wrong")


urlpatterns = [path("fails/", fails), *portal_urlpatterns]
