"""The users collection and `users/me/`."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts import services
from accounts.models import User
from users_api.filters import UserFilter, UserFilterBackend, UserOrderingFilter, UserSearchFilter
from users_api.permissions import IsStaff
from users_api.serializers import (
    USER_FIELDS,
    AccountCloseSerializer,
    ProfileSerializer,
    UserCreateSerializer,
    UserSerializer,
    user_data,
    user_rows,
)

STAFF_ONLY_ACTIONS = {"list", "create", "destroy"}


class UserViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Staff manage every user; a user reads and edits only their own record (others are 404)."""

    queryset = User.objects.all()
    filter_backends = [UserFilterBackend, UserSearchFilter, UserOrderingFilter]
    filterset_class = UserFilter
    search_fields = ["email", "first_name", "last_name"]
    ordering_fields = ["email", "date_joined", "last_login", "first_name", "last_name"]
    ordering = ["-date_joined"]

    def get_permissions(self):
        if self.action in STAFF_ONLY_ACTIONS:
            return [IsStaff()]
        return [IsAuthenticated()]

    def get_queryset(self):
        user = self.request.user
        if user.is_authenticated and user.is_staff:
            return User.objects.all()
        return User.objects.filter(pk=user.pk)

    def get_serializer_class(self):
        if self.action == "create":
            return UserCreateSerializer
        if self.action == "me" or self._is_own_record():
            return ProfileSerializer
        return UserSerializer

    def _is_own_record(self):
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        return lookup is not None and str(self.request.user.pk) == str(lookup)

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
        user = services.user_create(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        services.user_update(user=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance):
        services.user_deactivate(user=instance, by=self.request.user)

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
            serializer = AccountCloseSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.user_delete_own_account(user=user, **serializer.validated_data)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = ProfileSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.user_update(user=user, data=serializer.validated_data)
        return Response(user_data(user))
