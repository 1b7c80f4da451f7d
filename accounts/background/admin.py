from django.contrib import admin, messages
from django.db import transaction

from accounts.background.models import UndeliveredMail
from accounts.background.tasks import send_email


@admin.register(UndeliveredMail)
class UndeliveredMailAdmin(admin.ModelAdmin):
    """The mail the worker gave up on. "Send again" queues it afresh (a new round of retries)."""

    list_display = ("gave_up_at", "kind", "to", "user", "attempts", "error")
    list_filter = ("kind",)
    search_fields = ("to",)
    readonly_fields = ("kind", "to", "user", "context", "attempts", "error", "gave_up_at")
    actions = ("send_again",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send again", permissions=["delete"])
    def send_again(self, request, queryset):
        with transaction.atomic():
            mails = list(queryset.select_for_update().filter(user__isnull=False))
            for mail in mails:
                send_email.enqueue(
                    kind=mail.kind, user_id=str(mail.user_id), to=mail.to, context=mail.context
                )
            queryset.filter(pk__in=[mail.pk for mail in mails]).delete()
        self.message_user(request, f"Queued {len(mails)} email(s) again.", messages.SUCCESS)
