"""What DRF renders a response with, where the negotiated renderer cannot render it."""

from rest_framework.renderers import JSONRenderer


def render_as_json(request):
    """Have DRF render this request's response as JSON: a problem (or OPTIONS's metadata) is
    JSON whatever renderer the view was negotiated to (a template page, the YAML schema), or
    failed to negotiate (DRF then falls back to the view's first renderer)."""
    if request is not None and not isinstance(
        getattr(request, "accepted_renderer", None), JSONRenderer
    ):
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
