"""Paging that stays fast at a million users.

- `?page=` and `?page_size=` (capped at 100) for the first pages, as DRF does.
- Past `KEYSET_AFTER_ROWS` rows, the `next` link switches to an opaque `?cursor=`: keyset paging
  (`WHERE (field, id) > (last seen)`), one index range scan however deep. `?page=` still works
  at any depth, at the cost of an OFFSET scan.
- `count`: exact, except for the unfiltered list of a huge table on PostgreSQL, where it is the
  planner's estimate (`UserQuerySet.count_estimated`).
"""

import base64
import json
from datetime import UTC, datetime
from uuid import UUID

from django.core.paginator import Paginator
from django.db.models import Q
from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

KEYSET_AFTER_ROWS = 1_000
# Orderings a cursor can follow: non-null columns, so a row comparison is a total order.
KEYSET_FIELDS = {"id", "date_joined", "email", "first_name", "last_name"}


def estimated_count(queryset):
    """The users' estimate where the queryset has one; a plain count for any other model (the
    class is the API's default paginator, so other lists land here too)."""
    estimate = getattr(queryset, "count_estimated", None)
    return estimate() if estimate is not None else queryset.count()


class CountingPaginator(Paginator):
    @cached_property
    def count(self):
        return estimated_count(self.object_list)


MAX_CURSOR_LENGTH = 2_048
MAX_CURSOR_VALUE_LENGTH = 320


class InvalidCursor(ValidationError):
    """A cursor Roster did not make (or made for another ordering): a 400 on `cursor`."""

    def __init__(self, detail="Invalid cursor."):
        super().__init__({"cursor": [detail]}, code="invalid_cursor")


class UserPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
    cursor_query_param = "cursor"
    django_paginator_class = CountingPaginator

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.ordering = [str(field) for field in queryset.query.order_by]
        self.cursor_rows = None
        raw_cursor = request.query_params.get(self.cursor_query_param)
        if raw_cursor is None:
            return super().paginate_queryset(queryset, request, view)
        return self._paginate_by_cursor(queryset, raw_cursor)

    # --- keyset paging ------------------------------------------------------------------------

    def _keyset_ok(self):
        return len(self.ordering) == 2 and all(
            field.lstrip("-") in KEYSET_FIELDS for field in self.ordering
        )

    def _paginate_by_cursor(self, queryset, raw_cursor):
        if not self._keyset_ok():
            raise InvalidCursor("Cursors work with orderings on non-null fields only.")
        values, backwards = self._decode_cursor(raw_cursor)
        self.page_size_now = self.get_page_size(self.request)
        self.count = estimated_count(queryset)
        ordering = self.ordering
        if backwards:
            ordering = [f[1:] if f.startswith("-") else f"-{f}" for f in ordering]
        rows = list(
            queryset.filter(self._after(ordering, values)).order_by(*ordering)[
                : self.page_size_now + 1
            ]
        )
        more = len(rows) > self.page_size_now
        rows = rows[: self.page_size_now]
        if backwards:
            rows.reverse()
        # Walking forwards there is always a way back, and walking backwards a way forwards.
        self.has_next_rows = more if not backwards else True
        self.has_previous_rows = more if backwards else True
        self.cursor_rows = rows
        return rows

    @staticmethod
    def _after(ordering, values):
        """Rows strictly after `values` in `ordering`: (a > x) OR (a = x AND id > y)."""
        (first, tiebreak), (first_value, id_value) = ordering, values
        first_name, tiebreak_name = first.lstrip("-"), tiebreak.lstrip("-")
        first_op = "lt" if first.startswith("-") else "gt"
        tiebreak_op = "lt" if tiebreak.startswith("-") else "gt"
        if first_name == tiebreak_name:
            return Q(**{f"{first_name}__{first_op}": first_value})
        # The redundant first bound gives the planner an index range to scan.
        return Q(**{f"{first_name}__{first_op}e": first_value}) & (
            Q(**{f"{first_name}__{first_op}": first_value})
            | Q(**{first_name: first_value, f"{tiebreak_name}__{tiebreak_op}": id_value})
        )

    def _encode_cursor(self, row, *, backwards):
        values = [self._plain(row[field.lstrip("-")]) for field in self.ordering]
        payload = json.dumps({"o": self.ordering, "v": values, "b": backwards})
        token = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, token)

    def _decode_cursor(self, raw):
        if len(raw) > MAX_CURSOR_LENGTH:
            raise InvalidCursor()
        try:
            padded = raw + "=" * (-len(raw) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            if not isinstance(payload, dict):
                raise InvalidCursor()
            if payload.get("o") != self.ordering:
                raise InvalidCursor("This cursor belongs to another ordering.")
            first, tiebreak = payload["v"]
            values = [self._typed(self.ordering[0], first), self._typed(self.ordering[1], tiebreak)]
            return values, payload.get("b") is True
        # OverflowError: a time zone that pushes year 1 or 9999 out of range when made UTC;
        # RecursionError: a cursor of nested JSON arrays.
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
            raise InvalidCursor() from exc

    @staticmethod
    def _plain(value):
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value)

    @staticmethod
    def _typed(field, value):
        """The cursor's value as the column's type: strings a database can store, aware
        datetimes in UTC, UUIDs; anything else is a ValueError."""
        name = field.lstrip("-")
        if not isinstance(value, str) or "\x00" in value or len(value) > MAX_CURSOR_VALUE_LENGTH:
            raise ValueError("cursor value")
        value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError
        if name == "date_joined":
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("a cursor's time carries its offset")
            return moment.astimezone(UTC)
        if name == "id":
            return UUID(value)
        return value

    # --- links and envelope -------------------------------------------------------------------

    def get_next_link(self):
        if self.cursor_rows is not None:
            if not (self.has_next_rows and self.cursor_rows):
                return None
            return self._encode_cursor(self.cursor_rows[-1], backwards=False)
        if not self.page.has_next():
            return None
        deep = self.page.end_index() >= KEYSET_AFTER_ROWS
        if deep and self._keyset_ok() and self.page.object_list:
            return self._encode_cursor(self.page.object_list[-1], backwards=False)
        return super().get_next_link()

    def get_previous_link(self):
        if self.cursor_rows is not None:
            if not (self.has_previous_rows and self.cursor_rows):
                return None
            return self._encode_cursor(self.cursor_rows[0], backwards=True)
        return super().get_previous_link()

    def get_paginated_response(self, data):
        count = self.count if self.cursor_rows is not None else self.page.paginator.count
        return Response(
            {
                "count": count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["next"]["description"] = (
            "The next page: a `page` link for the first pages, then an opaque `cursor` link."
        )
        return response

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque cursor from a `next` or `previous` link (deep paging).",
                "schema": {"type": "string"},
            },
        ]
