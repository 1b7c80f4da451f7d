"""The yardsticks Roster is measured against, over the same users table.

- naive: the API written the way DRF's tutorial teaches it (ModelViewSet, ModelSerializer,
  PageNumberPagination, SearchFilter, OrderingFilter, JWT + IsAdminUser). What Roster must beat.
- raw: the same rows with the same authentication, straight from `.values()` into a JsonResponse,
  skipping DRF entirely. The ceiling Roster is compared with.
- bare: a constant JSON body, no database and no authentication: what the machine can serve at all.
"""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from rest_framework import filters, pagination, permissions, serializers, viewsets
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.models import USER_FIELDS as FIELDS
from accounts.models import User

PAGE_SIZE = 50


# --- naive: the DRF tutorial's way ------------------------------------------------------------


class NaiveUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = FIELDS


class NaivePagination(pagination.PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 100


class NaiveUserViewSet(viewsets.ModelViewSet):
    queryset = User.objects.all().order_by("-date_joined")
    serializer_class = NaiveUserSerializer
    pagination_class = NaivePagination
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["email", "first_name", "last_name"]
    ordering_fields = ["email", "date_joined", "last_login", "first_name", "last_name"]
    authentication_classes = [JWTAuthentication]
    permission_classes = [permissions.IsAdminUser]


# --- raw: the ceiling -------------------------------------------------------------------------


def _authenticate(request, *, staff):
    """(user, error) from the JWT check Roster pays for: signature, user row, revocation digest."""
    try:
        found = JWTAuthentication().authenticate(request)
    except (InvalidToken, AuthenticationFailed):
        found = None
    if found is None:
        return None, JsonResponse({"detail": "Not authenticated."}, status=401)
    user = found[0]
    if staff and not user.is_staff:
        return None, JsonResponse({"detail": "Staff only."}, status=403)
    return user, None


def raw_user_list(request):
    """The first 50 users in Roster's default order: newest first, then the larger id."""
    _, error = _authenticate(request, staff=True)
    if error:
        return error
    rows = list(User.objects.order_by("-date_joined", "-id").values(*FIELDS)[:PAGE_SIZE])
    return JsonResponse({"results": rows})


def raw_user_detail(request, pk):
    _, error = _authenticate(request, staff=True)
    if error:
        return error
    return JsonResponse(get_object_or_404(User.objects.values(*FIELDS), pk=pk))


def raw_user_me(request):
    """The caller's own record: authentication already loaded the row, as in Roster's `me`."""
    user, error = _authenticate(request, staff=False)
    if error:
        return error
    return JsonResponse({field: getattr(user, field) for field in FIELDS})


def bare_json(request):
    return JsonResponse({"ok": True})
