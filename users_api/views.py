"""The users collection and `users/me/`."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts import login_gate, policy, services
from accounts.models import USER_FIELDS, User
from users_api.filters import UserFilter, UserFilterBackend, UserOrderingFilter, UserSearchFilter
from users_api.permissions import IsStaff, require_recent_auth
from users_api.serializers import (
    AccountCloseSerializer,
    ProfileSerializer,
    UserCreateSerializer,
    UserSerializer,
    user_data,
    user_rows,
)

STAFF_ONLY_ACTIONS = {"list", "create", "destroy"}
# Ids in URLs are canonical: lowercase, dashed UUIDs. Any other spelling is simply not a user URL
# (404), so nothing downstream ever compares two spellings of one id.
CANONICAL_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class UserViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Staff manage users; a user reads their own record (others are 404). What a write may
    change is decided by `accounts.policy`, through the services, for every caller alike."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    lookup_value_regex = CANONICAL_UUID
    filter_backends = [UserFilterBackend, UserSearchFilter, UserOrderingFilter]
    filterset_class = UserFilter
    search_fields = ["email", "first_name", "last_name"]
    ordering_fields = ["email", "date_joined", "last_login", "first_name", "last_name"]
    ordering = ["-date_joined"]
    # Closing one's account and changing privileges need recent authentication (the schema).
    recent_auth_operations = {("DELETE", "me"), ("PUT", "update"), ("PATCH", "partial_update")}

    def _method_action(self):
        """The action the request's method runs on this route. DRF asks about other methods on
        a clone of the request while keeping the original action (OPTIONS is `metadata`, the
        browsable API's forms are the GET's): asked by method, "may I POST here" is `create`'s
        question, and an OPTIONS is answered as its route's GET."""
        request, actions = getattr(self, "request", None), getattr(self, "action_map", None)
        if request is None or not actions:
            return self.action
        return actions.get(request.method.lower()) or actions.get("get") or self.action

    def get_permissions(self):
        if self._method_action() in STAFF_ONLY_ACTIONS:
            return [IsStaff()]
        return [IsAuthenticated()]

    def get_queryset(self):
        return policy.visible_users(self.request.user, User.objects.all())

    def get_serializer_class(self):
        action = self._method_action()
        if action == "create":
            return UserCreateSerializer
        if action == "me":
            return ProfileSerializer
        return UserSerializer

    def filter_queryset(self, queryset):
        # Search, filters and ordering belong to the list; a detail lookup skips their cost.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def list(self, request, *args, **kwargs):
        """Rows straight from `.values()`: one query for the page, one (or none) for the count."""
        queryset = self.filter_queryset(self.get_queryset()).values(*USER_FIELDS)
        rows = self.paginate_queryset(queryset)
        return self.get_paginated_response(user_rows(rows))

    def retrieve(self, request, *args, **kwargs):
        return Response(user_data(self.get_object()))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(actor=request.user, **serializer.validated_data)
        return Response(user_data(user), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        user = self.get_object()
        serializer = self.get_serializer(
            user, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        if services.changes_privileges(user, serializer.validated_data):
            require_recent_auth(request)
        services.user_update(actor=request.user, user=user, data=serializer.validated_data)
        return Response(user_data(user))

    def perform_destroy(self, instance):
        services.user_deactivate(actor=self.request.user, user=instance)

    @extend_schema(methods=["GET"], responses=ProfileSerializer)
    @extend_schema(methods=["PATCH"], request=ProfileSerializer, responses=ProfileSerializer)
    @extend_schema(methods=["DELETE"], request=AccountCloseSerializer, responses={204: None})
    @action(detail=False, methods=["get", "patch", "delete"])
    def me(self, request):
        """Your own record: read it, change your names, or close the account (password needed)."""
        user = request.user
        if request.method == "GET":
            return Response(user_data(user))
        if request.method == "DELETE":
            require_recent_auth(request)
            serializer = AccountCloseSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.user_close_own_account(
                user=user, client=login_gate.Client.of(request), **serializer.validated_data
            )
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = ProfileSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.user_update(actor=user, user=user, data=serializer.validated_data)
        return Response(user_data(user))
