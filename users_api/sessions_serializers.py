from rest_framework import serializers

from accounts.usersessions.models import UserSession


class SessionSerializer(serializers.ModelSerializer):
    """One session as its owner (or staff) sees it; `current` marks the caller's own."""

    device = serializers.CharField(help_text='From the User-Agent, e.g. "Firefox on Ubuntu".')
    current = serializers.SerializerMethodField()

    class Meta:
        model = UserSession
        fields = (
            "id",
            "kind",
            "device",
            "ip_address",
            "created_at",
            "last_used_at",
            "expires_at",
            "current",
        )
        read_only_fields = fields

    def get_current(self, session) -> bool:
        return str(session.pk) == self.context.get("current_sid")
