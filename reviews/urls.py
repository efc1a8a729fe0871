from django.urls import path

from . import views, views_dashboard

app_name = "reviews"
urlpatterns = [
    path("history/", views.IncidentHistoryView.as_view(), name="history"),
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
]
