"""`webhooks/` (staff): endpoints that receive signed security events, and their delivery log."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action

from accounts.audit.models import EventType
from accounts.webhooks import services
from accounts.webhooks.models import WebhookDelivery, WebhookEndpoint
from users_api.audit import EventPagination
from users_api.permissions import IsStaff
from users_api.views import CANONICAL_UUID


class WebhookEndpointSerializer(serializers.ModelSerializer):
    url = serializers.URLField(max_length=2000)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False, max_length=50
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The answer to a registration: the only time the signing secret is shown."""

    secret = serializers.CharField(read_only=True, source="plain_secret")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "message_id", "event_type", "status", "attempts", "created_at",
            "last_attempt_at", "last_status_code", "last_error", "next_attempt_at",
            "delivered_at", "payload",
        ]  # fmt: skip
        read_only_fields = fields


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Staff register the URLs that receive security events, signed per Standard Webhooks."""

    permission_classes = [IsStaff]
    serializer_class = WebhookEndpointSerializer
    queryset = WebhookEndpoint.objects.all()
    lookup_value_regex = CANONICAL_UUID
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    pagination_class = None  # a handful of endpoints: one plain list

    def get_serializer_class(self):
        if self.action == "create":
            return WebhookEndpointCreatedSerializer
        if self.action == "deliveries":
            return WebhookDeliverySerializer
        return WebhookEndpointSerializer

    def perform_create(self, serializer):
        serializer.instance = services.endpoint_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.endpoint_update(
            actor=self.request.user, endpoint=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.endpoint_delete(actor=self.request.user, endpoint=instance)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=EventPagination)
    def deliveries(self, request, pk=None):
        """The endpoint's deliveries, newest first: status, attempts, last answer, next try."""
        endpoint = self.get_object()
        page = self.paginate_queryset(WebhookDelivery.objects.filter(endpoint=endpoint))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
