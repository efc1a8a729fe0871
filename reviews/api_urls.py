from django.urls import path

from . import api

urlpatterns = [
    path("reviews/monthly/<str:month>/", api.ReviewMonthlyApi.as_view(), name="api-reviews-monthly"),
]
