from django.urls import path

from . import views, views_dashboard, views_meeting, views_report

app_name = "reviews"
urlpatterns = [
    path("history/", views.IncidentHistoryView.as_view(), name="history"),
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
    # The shooting review meeting: the list, one review, and one URL per action on it (POST).
    path("reviews/", views_meeting.meetings, name="meetings"),
    path("reviews/new/", views_meeting.meeting_create, name="meeting_create"),
    path("reviews/<uuid:code>/", views_meeting.meeting_detail, name="meeting"),
    path("reviews/<uuid:code>/details/", views_meeting.meeting_update, name="meeting_update"),
    path("reviews/<uuid:code>/close/", views_meeting.meeting_close, name="meeting_close"),
    path("reviews/<uuid:code>/themes/", views_meeting.theme_add, name="meeting_theme_add"),
    path("reviews/<uuid:code>/items/", views_meeting.item_add, name="meeting_item_add"),
    path("reviews/<uuid:code>/items/<uuid:item_code>/status/", views_meeting.item_status, name="meeting_item_status"),
    path("reviews/<uuid:code>/attendance/", views_meeting.attendee_add, name="meeting_attendee_add"),
    # The monthly report: published versions and "Publish now", then one month's page and its PDF.
    path("reports/", views_report.reports, name="reports"),
    path("reports/publish/", views_report.report_publish, name="report_publish"),
    path("reports/versions/<uuid:code>.pdf", views_report.report_version, name="report_version"),
    path("reports/<str:month>/", views_report.report_page, name="report"),
    path("reports/<str:month>/report.pdf", views_report.report_pdf, name="report_pdf"),
]
