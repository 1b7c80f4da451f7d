"""`users/me/email/` and `auth/email/change/confirm|revert/`: the email change flow."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import login_gate
from accounts.emailchange import services
from users_api.auth import PublicView
from users_api.permissions import RecentAuthentication
from users_api.serializers import MailboxField, PasswordInput, TextInput


class EmailChangeRequestSerializer(serializers.Serializer):
    new_email = MailboxField()
    password = PasswordInput()


class EmailChangeTokenSerializer(serializers.Serializer):
    token = TextInput(max_length=200)


class EmailChangeRequestView(APIView):
    permission_classes = [IsAuthenticated, RecentAuthentication]

    @extend_schema(request=EmailChangeRequestSerializer, responses={202: None})
    def post(self, request):
        """Ask to change the email: a link goes to the new address, a notice with a revert link to
        the old one. Nothing changes until the new address confirms."""
        data = EmailChangeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.email_change_request(
            user=request.user, client=login_gate.Client.of(request), **data.validated_data
        )
        return Response(status=status.HTTP_202_ACCEPTED)


class EmailChangeConfirmView(PublicView):
    @extend_schema(request=EmailChangeTokenSerializer, responses={204: None})
    def post(self, request):
        """Confirm the new address with the token from its link (single use)."""
        services.email_change_confirm(**self.validated(EmailChangeTokenSerializer))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailChangeRevertView(PublicView):
    @extend_schema(request=EmailChangeTokenSerializer, responses={204: None})
    def post(self, request):
        """Undo a change with the token from the notice to the old address: the old address comes
        back, every session ends, and the password must be reset."""
        services.email_change_revert(**self.validated(EmailChangeTokenSerializer))
        return Response(status=status.HTTP_204_NO_CONTENT)
