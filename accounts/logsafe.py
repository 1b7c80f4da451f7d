"""What may not reach a log line: the token of an emailed link (accounts/urls.py). A log reader
holding a reset link the user has not used yet could set the password.

No model imports: the logging configuration loads this before the apps are ready.
"""

import re

# The paths of every emailed link: the segment after these prefixes is the secret.
_LINK_TOKEN = re.compile(
    r"(/accounts/(?:password/reset/[^/\s'\"]+|email/verify/[^/\s'\"]+"
    r"|email/change/(?:confirm|revert))/)[^/\s'\"?#]+"
)
REDACTED = "[redacted]"


def redact_link_tokens(text: str) -> str:
    """`text` with the token of any emailed link's path replaced (Django's "Bad Request: <path>",
    a request's repr, an access log line)."""
    return _LINK_TOKEN.sub(rf"\1{REDACTED}", text)
