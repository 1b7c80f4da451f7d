from django.urls import path

from accounts.mfa import views

urlpatterns = [
    path("login/verify/", views.login_verify, name="login-verify"),
    path("security/", views.security, name="security"),
]
