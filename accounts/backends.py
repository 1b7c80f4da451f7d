from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Django's ModelBackend, logging in by email ignoring case.

    Unknown emails still run the password hasher once (ModelBackend does), and inactive accounts
    are refused after the hash check, so all three failures take about the same time.
    """

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        return super().authenticate(
            request, username=email or username, password=password, **kwargs
        )
