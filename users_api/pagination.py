from rest_framework.pagination import PageNumberPagination


class UserPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (capped at 100; a larger value is taken as 100)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
