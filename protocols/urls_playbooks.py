from django.urls import path

from . import views_playbooks as views

app_name = "playbooks"
urlpatterns: list = [
    # Administrators: scenario playbooks and the places list they match against.
    path("playbooks/", views.playbook_list, name="list"),
    path("playbooks/new/", views.playbook_new, name="new"),
    path("playbooks/<slug:code>/", views.playbook_edit, name="edit"),
    path("places/", views.places, name="places"),
    path("places/<uuid:code>/remove/", views.place_remove, name="place_remove"),
]
