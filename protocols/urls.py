from django.urls import path

from . import views_documents, views_onboarding

app_name = "protocols"
urlpatterns = [
    # Protocol documents: every role reads; administrators publish (POST forms).
    path("protocols/", views_documents.document_list, name="documents"),
    path("protocols/new/", views_documents.document_create, name="document_create"),
    path("protocols/<slug:slug>/", views_documents.document_detail, name="document"),
    path("protocols/<slug:slug>/v<int:number>/", views_documents.document_detail, name="document_version"),
    path("protocols/<slug:slug>/history/", views_documents.document_history, name="document_history"),
    path("protocols/<slug:slug>/diff/", views_documents.document_diff, name="document_diff"),
    path("protocols/<slug:slug>/publish/", views_documents.version_create, name="version_create"),
    path("protocols/<slug:slug>/acknowledge/", views_documents.acknowledge, name="acknowledge"),
    # Onboarding: a member's own pathway (POST per step), and who is behind (admins, commanders).
    path("onboarding/", views_onboarding.mine, name="onboarding"),
    path("onboarding/steps/<uuid:code>/done/", views_onboarding.step_done, name="onboarding_step_done"),
    path("onboarding/steps/<uuid:code>/check/", views_onboarding.knowledge_check, name="onboarding_check"),
    path("onboarding/sign-off/", views_onboarding.sign_off, name="onboarding_sign_off"),
    path("onboarding/team/", views_onboarding.team, name="onboarding_team"),
]
