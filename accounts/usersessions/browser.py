"""Browser (Django) sessions as Roster sessions: a login through the admin or the browsable API
opens one, a logout ends it, and `SessionCheckMiddleware` signs out a browser whose session was
ended elsewhere (another tab, its owner on another device, staff, a password change)."""

from datetime import timedelta

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.utils import timezone

from accounts import login_gate
from accounts.audit.events import record
from accounts.usersessions import services
from accounts.usersessions.models import UserSession

# Where a Django session keeps the id of its UserSession.
SESSION_ID_KEY = "roster_sid"
# `last_used_at` of a browser session is written at most this often.
TOUCH_EVERY = timedelta(minutes=5)


@receiver(user_logged_in)
def open_browser_session(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    session = request.session
    # Django's login flushed the Django session of another account signed in before in this
    # browser: its Roster session ends with it (SessionCheckMiddleware noted its id).
    before = getattr(request, "roster_browser_session", None)
    if before and session.get(SESSION_ID_KEY) != before:
        previous = UserSession.objects.filter(pk=before).exclude(user=user).select_related("user")
        ended = previous.first()
        if ended is not None and previous.end(UserSession.EndedReason.LOGOUT):
            data = {"reason": "logout", "sessions": [before]}
            record("session_ended", user=ended.user, data=data)
    if session.session_key is None:
        session.save()
    # Logging in again within one Django session (same user) keeps its key: the new login
    # replaces the old one's record.
    UserSession.objects.filter(session_key=session.session_key, ended_at__isnull=True).update(
        ended_at=timezone.now(), ended_reason=UserSession.EndedReason.LOGOUT
    )
    opened = services.open_session(
        user=user,
        kind=UserSession.Kind.BROWSER,
        client=login_gate.Client.of(request),
        expires_at=session.get_expiry_date(),
        session_key=session.session_key,
        # A password login through the gate's forms; not `force_login` or other code paths.
        notify=getattr(request, "password_login", False),
    )
    session[SESSION_ID_KEY] = str(opened.pk)


@receiver(user_logged_out)
def end_browser_session(sender, request, user, **kwargs):
    sid = request.session.get(SESSION_ID_KEY) if request is not None else None
    if sid and UserSession.objects.filter(pk=sid).end(UserSession.EndedReason.LOGOUT):
        data = {"reason": "logout", "sessions": [sid]}
        record("session_ended", user=user if getattr(user, "pk", None) else None, data=data)


def current_browser_session_id(request):
    """The UserSession id of the request's browser session, or None."""
    session = getattr(request, "session", None)
    return session.get(SESSION_ID_KEY) if session is not None else None


class SessionCheckMiddleware:
    """After AuthenticationMiddleware: a signed-in browser whose UserSession has ended (or that
    has none) is signed out before the view runs. Requests without a session cost nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if session.get(SESSION_KEY) is not None:
            if self._open(session):
                # A login as someone else in this browser ends this session (open_browser_session).
                request.roster_browser_session = session.get(SESSION_ID_KEY)
            else:
                session.flush()
                request.user = AnonymousUser()
        return self.get_response(request)

    @staticmethod
    def _open(session):
        sid = session.get(SESSION_ID_KEY)
        if not sid:
            return False
        live = UserSession.objects.filter(
            pk=sid, kind=UserSession.Kind.BROWSER, ended_at__isnull=True
        )
        try:
            last_used = live.values_list("last_used_at", flat=True).first()
        except ValidationError:
            return False
        if last_used is None:
            return False
        now = timezone.now()
        if now - last_used > TOUCH_EVERY:
            live.update(last_used_at=now, expires_at=session.get_expiry_date())
        return True
