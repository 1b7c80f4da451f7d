from rest_framework.permissions import BasePermission


class IsStaff(BasePermission):
    """Staff only: the user collection and deactivating other users."""

    message = "Only staff can do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
