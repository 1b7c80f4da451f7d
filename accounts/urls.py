from django.urls import path

from accounts import views
from accounts.emailchange import views as email_change_views
from accounts.mfa import urls as mfa_urls

app_name = "accounts"
urlpatterns = [
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm,
        name="password-reset-confirm",
    ),
    path("email/verify/<str:uidb64>/<str:token>/", views.email_verify, name="email-verify"),
    *mfa_urls.urlpatterns,  # login/verify/, security/
    path(
        "email/change/confirm/<str:token>/",
        email_change_views.email_change,
        {"action": "confirm"},
        name="email-change-confirm",
    ),
    path(
        "email/change/revert/<str:token>/",
        email_change_views.email_change,
        {"action": "revert"},
        name="email-change-revert",
    ),
]
