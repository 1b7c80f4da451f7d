"""`audit/events/` (staff) and `users/me/events/` (the caller's own): the security event log."""

import datetime as dt
import re

import django_filters
from django.core.exceptions import ValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated

from accounts.audit.models import EventType, SecurityEvent
from users_api.permissions import IsStaff


class SecurityEventSerializer(serializers.ModelSerializer):
    actor = serializers.UUIDField(source="actor_id", read_only=True, allow_null=True)
    user = serializers.UUIDField(source="user_id", read_only=True, allow_null=True)

    class Meta:
        model = SecurityEvent
        fields = [
            "id",
            "type",
            "at",
            "actor",
            "user",
            "ip_address",
            "user_agent",
            "request_id",
            "data",
        ]
        read_only_fields = fields


class OwnSecurityEventSerializer(SecurityEventSerializer):
    """An event as its own user reads it (`SecurityEventQuerySet.seen_by_their_user`)."""

    ip_address = serializers.IPAddressField(source="seen_ip_address", read_only=True)
    user_agent = serializers.CharField(source="seen_user_agent", read_only=True)


class EventPagination(CursorPagination):
    """Keyset pages, newest first: `WHERE id < last ORDER BY id DESC`, one index range scan at
    any depth. No `count`: counting millions of rows is what keyset paging avoids."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # DRF takes the position as given: a non-number would reach the database and answer 500.
        position = cursor.position if cursor is not None else None
        if position is not None and not re.fullmatch(r"\d{1,18}", position):
            raise NotFound(self.invalid_cursor_message)
        return cursor


class UTCDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 instant that exists in UTC: `0001-01-01T00:00+14:00` parses, but converting
    it for the database overflows (a 500); it is a 400 like any other bad date."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None:
            try:
                value.astimezone(dt.UTC)
            except OverflowError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return value


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class SecurityEventFilter(django_filters.FilterSet):
    user = django_filters.UUIDFilter(field_name="user_id")
    type = django_filters.ChoiceFilter(choices=EventType.choices)
    since = UTCDateTimeFilter(field_name="at", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = SecurityEvent
        fields = ["user", "type", "since", "until"]


class SecurityEventList(generics.ListAPIView):
    """Every security event, newest first (staff). Filters: `user`, `type`, `since`, `until`."""

    permission_classes = [IsStaff]
    serializer_class = SecurityEventSerializer
    pagination_class = EventPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = SecurityEventFilter
    queryset = SecurityEvent.objects.all()


class MySecurityEventList(generics.ListAPIView):
    """The caller's own security activity, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = OwnSecurityEventSerializer
    pagination_class = EventPagination

    def get_queryset(self):
        return SecurityEvent.objects.seen_by_their_user(self.request.user)

    # The same shape as the staff list: clients keep their `SecurityEvent` type.
    @extend_schema(responses=SecurityEventSerializer(many=True))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
