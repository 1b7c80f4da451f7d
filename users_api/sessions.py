"""`auth/sessions/` (the caller's own sessions) and `users/{id}/sessions/` (staff): thin views
over `accounts.usersessions.services`."""

from django.utils.cache import patch_cache_control
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy, tokens
from accounts.models import User
from accounts.usersessions import services
from accounts.usersessions.browser import current_browser_session_id
from accounts.usersessions.models import UserSession
from users_api.permissions import IsStaff
from users_api.sessions_serializers import SessionSerializer


def current_session_id(request) -> str | None:
    """The id of the session the request authenticated with (a token's `sid`, or the browser's)."""
    if request.auth is not None and hasattr(request.auth, "payload"):
        return tokens.session_id(request.auth.payload)
    return current_browser_session_id(request)


class SessionAPIView(APIView):
    """Sessions are personal data: never stored by a cache."""

    serializer_class = SessionSerializer

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_cache_control(response, no_store=True)
        return response


def _listed(request, user):
    serializer = SessionSerializer(
        services.live_sessions(user),
        many=True,
        context={"current_sid": current_session_id(request)},
    )
    return Response(serializer.data)


class OwnSessionListView(SessionAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: SessionSerializer(many=True)})
    def get(self, request):
        """Where the caller is signed in: every open session, most recently used first."""
        return _listed(request, request.user)


class OwnSessionView(SessionAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, session_id):
        """End one of the caller's sessions; its tokens (or browser session) stop working at
        once. Another user's session, or an ended one, is 404."""
        session = (
            services.live_sessions(request.user).filter(pk=session_id).select_related("user")
        ).first()
        if session is None:
            raise NotFound
        services.end_session(actor=request.user, session=session)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeOtherSessionsView(SessionAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        """End every session of the caller but the one this request uses."""
        sid = current_session_id(request)
        current = UserSession.objects.filter(pk=sid).first() if sid else None
        services.end_all(actor=request.user, user=request.user, except_=current)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserSessionsView(SessionAPIView):
    """Staff: a user's sessions. Ending them asks the policy (staff for ordinary users,
    superusers for staff; one's own through `auth/sessions/`)."""

    permission_classes = [IsStaff]

    def _user(self, user_id):
        user = policy.visible_users(self.request.user, User.objects.filter(pk=user_id)).first()
        if user is None:
            raise NotFound
        return user

    @extend_schema(responses={200: SessionSerializer(many=True)})
    def get(self, request, user_id):
        """The user's open sessions."""
        return _listed(request, self._user(user_id))

    @extend_schema(responses={204: None})
    def delete(self, request, user_id):
        """End every session of the user: their tokens and browser sessions stop working."""
        services.end_all(actor=request.user, user=self._user(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
