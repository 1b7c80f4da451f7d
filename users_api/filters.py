import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import OrderingFilter, SearchFilter

from accounts.models import User


class StrictBooleanFilter(django_filters.ChoiceFilter):
    """`true` or `false`; anything else is a 400 rather than silently ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=[("true", "true"), ("false", "false")], **kwargs)

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        return qs.filter(**{self.field_name: value == "true"})


class UserFilter(django_filters.FilterSet):
    is_active = StrictBooleanFilter()
    is_staff = StrictBooleanFilter()
    email_verified = StrictBooleanFilter()

    class Meta:
        model = User
        fields = ("is_active", "is_staff", "email_verified")


class UserFilterBackend(DjangoFilterBackend):
    """django-filter, built only when a filter is asked for: the plain list skips its form."""

    def filter_queryset(self, request, queryset, view):
        if not any(name in request.query_params for name in UserFilter.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


class UserSearchFilter(SearchFilter):
    """`?search=` over email and names, every term ignoring case. On PostgreSQL the match runs on
    a trigram GIN index (see `accounts.managers.search_document`); the queryset's limits (terms,
    length, NUL) answer 400 through the exception handler."""

    def filter_queryset(self, request, queryset, view):
        terms = self.get_search_terms(request)
        return queryset.search(terms) if terms else queryset


class UserOrderingFilter(OrderingFilter):
    """DRF's ordering, made total: `id` breaks ties in the direction of the first field, so pages
    never repeat or skip a row and every ordering is one index scan, forwards or backwards."""

    def get_ordering(self, request, queryset, view):
        # Each field once: `?ordering=email,email,...` must not grow the ORDER BY without end.
        seen = set()
        ordering = []
        for field in super().get_ordering(request, queryset, view) or []:
            if field.lstrip("-") not in seen:
                seen.add(field.lstrip("-"))
                ordering.append(field)
        if not any(field.lstrip("-") == "id" for field in ordering):
            descending = bool(ordering) and ordering[0].startswith("-")
            ordering.append("-id" if descending else "id")
        return ordering
