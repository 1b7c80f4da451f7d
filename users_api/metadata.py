"""OPTIONS: DRF's metadata, telling a caller only what they may do."""

from rest_framework.metadata import SimpleMetadata
from rest_framework.renderers import BrowsableAPIRenderer

from accounts import policy
from accounts.models import User
from config.negotiation import render_as_json


class PolicyMetadata(SimpleMetadata):
    """DRF's SimpleMetadata, with a user's fields read-only where `accounts.policy` refuses the
    caller the change (their own privileges, a staff account's anything, `is_staff` unless a
    superuser): OPTIONS never offers a form the API would answer with 403."""

    def determine_metadata(self, request, view):
        # A page rendered from a template (Swagger UI, ReDoc) or the YAML schema cannot render
        # this dict (the template renderer failed with a 500): OPTIONS answers JSON.
        if not isinstance(getattr(request, "accepted_renderer", None), BrowsableAPIRenderer):
            render_as_json(request)
        return super().determine_metadata(request, view)

    def get_serializer_info(self, serializer):
        info = super().get_serializer_info(serializer)
        request = serializer.context.get("request")
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        if request is None or model is not User:
            return info
        user = serializer.instance
        if user is None:
            view = serializer.context.get("view")
            # DRF builds the PUT form without its object (after checking it exists); a new user
            # is checked against a fresh account, as `services.user_create` does.
            on_object = request.method in ("PUT", "PATCH") and hasattr(view, "get_object")
            user = view.get_object() if on_object else User()
        refused = policy.refused_fields(
            actor=request.user,
            user=user,
            fields={name for name in info if name in policy.FIELDS},
            entry=policy.Entry.API,
        )
        for name in refused:
            info[name]["read_only"] = True
        return info
