from django.contrib import admin
from django.urls import include, path

from accounts.views import BrowsableAPILoginView
from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # The browsable API's login through the login gate; its logout is DRF's.
    path("api-auth/login/", BrowsableAPILoginView.as_view(), name="api-login"),
    path("api-auth/", include("rest_framework.urls")),
    path("api/v1/", include("users_api.urls")),
    path("accounts/", include("accounts.urls")),
    # /.well-known/jwks.json and /.well-known/openid-configuration
    path("", include("accounts.signing.urls")),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
