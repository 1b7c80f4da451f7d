from django.urls import path

from accounts.signing import views

urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path(
        ".well-known/openid-configuration", views.openid_configuration, name="openid-configuration"
    ),
]
