from django.urls import path

from . import views

app_name = "reviews"
urlpatterns = [
    path("history/", views.IncidentHistoryView.as_view(), name="history"),
]
