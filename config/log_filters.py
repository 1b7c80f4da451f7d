"""Filters of the console handler (settings.LOGGING) that keep secrets out of log lines."""

import logging

from accounts.logsafe import redact_link_tokens

# The attributes every LogRecord has; anything else was passed as `extra` (Django's `request`,
# `status_code`) and the JSON formatter writes it out.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class RedactLinkTokensFilter(logging.Filter):
    """Writes any emailed link's path in a record (its message, or an extra such as the request
    Django logs with a 4xx) without the link's token."""

    def filter(self, record):
        message = record.getMessage()
        redacted = redact_link_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        for name, value in list(vars(record).items()):
            if name in _STANDARD or value is None or isinstance(value, int | float | bool):
                continue
            text = str(value)
            if redact_link_tokens(text) != text:
                setattr(record, name, redact_link_tokens(text))
        return True
