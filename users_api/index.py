"""The API's indexes: `/api/v1/` lists every endpoint group, `/api/v1/auth/` each auth endpoint.

Both are read off the URL map (the same walk that builds the OpenAPI schema), so an endpoint or a
group added later (sessions, mfa, audit, webhooks...) appears without touching this module.
"""

from django.urls import Resolver404, resolve
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.schemas.generators import EndpointEnumerator
from rest_framework.views import APIView

API_PREFIX = "/api/v1/"


def api_paths():
    """Every API path (`/api/v1/users/{id}/`...), each once, sorted."""
    paths = {path for path, _method, _view in EndpointEnumerator().get_api_endpoints()}
    return sorted(path for path in paths if path.startswith(API_PREFIX))


def _resolves(path):
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def endpoint_groups():
    """{group: path}: the first segment under /api/v1/, linked to its own index when it has
    one (`/api/v1/auth/`), else to its first endpoint without a path parameter."""
    groups = {}
    for path in api_paths():
        group = path.removeprefix(API_PREFIX).split("/", 1)[0]
        if group in groups or "{" in path:
            continue
        index = f"{API_PREFIX}{group}/"
        groups[group] = index if _resolves(index) else path
    return groups


def endpoints_under(prefix):
    """{name: path} of the endpoints under `prefix` without a path parameter, named by the rest
    of their path (`token/refresh`)."""
    return {
        path.removeprefix(prefix).strip("/"): path
        for path in api_paths()
        if path.startswith(prefix) and path != prefix and "{" not in path
    }


class IndexView(APIView):
    """A page of links: open to anyone, so a newcomer in a browser can find their way."""

    permission_classes = [AllowAny]
    schema = None  # a map of the API, not an operation of it

    def links(self):
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        return Response({name: request.build_absolute_uri(path) for name, path in self.links()})


class APIRootView(IndexView):
    """Roster's API: every endpoint group. The schema, Swagger UI and ReDoc document each one."""

    api_root_dict = None  # DefaultRouter hands over its own registry; the URL map says more

    def links(self):
        return endpoint_groups().items()


class AuthIndexView(IndexView):
    """Registration, tokens, email verification, passwords and whatever else signs people in."""

    def links(self):
        return endpoints_under(f"{API_PREFIX}auth/").items()
