import django_filters
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter

from accounts.models import User


class UserFilter(django_filters.FilterSet):
    class Meta:
        model = User
        fields = ("is_active", "is_staff", "email_verified")


class UserSearchFilter(SearchFilter):
    """`?search=` over email and names; NUL bytes are a 400, not a database error."""

    def get_search_terms(self, request):
        terms = super().get_search_terms(request)
        if any("\x00" in term for term in terms):
            raise ValidationError({"search": ["Null characters are not allowed."]})
        return terms


class UserOrderingFilter(OrderingFilter):
    """DRF's ordering, made total: `id` breaks ties so pages never repeat or skip a row."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(field.lstrip("-") == "id" for field in ordering):
            ordering.append("id")
        return ordering
