"""Roster's URLs plus the baselines the benchmark compares it with (mounted only here)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from bench import baselines
from config import urls as roster

naive = SimpleRouter()
naive.register("users", baselines.NaiveUserViewSet, basename="naive-user")

urlpatterns = [
    *roster.urlpatterns,
    path("bench/naive/", include(naive.urls)),
    path("bench/raw/users/", baselines.raw_user_list),
    path("bench/raw/users/me/", baselines.raw_user_me),
    path("bench/raw/users/<uuid:pk>/", baselines.raw_user_detail),
    path("bench/bare/", baselines.bare_json),
]

handler400 = roster.handler400
handler403 = roster.handler403
handler404 = roster.handler404
handler500 = roster.handler500
