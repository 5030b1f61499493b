"""Download links on the search page: the current search's published stories
as kb JSON Lines or CSV (the formats kb import reads)."""
from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context

from kb import search
from kb.web.params import query_text
from kb.errors import NotFound
from kb.importers.export import EXPORT_FORMATS, export, published_stories

bp = Blueprint("exports", __name__)


@bp.get("/search/export.<fmt>")
def search_export(fmt: str):
    """The stories the search with these parameters finds (published only), all
    of them, as a file. Same parameters as /search (q and the filters).

    :raise 404: for a format other than jsonl or csv.
    """
    if fmt not in EXPORT_FORMATS:
        raise NotFound("Stories can be downloaded as jsonl or csv.")
    q = query_text(request.args)
    filters = {name: request.args.getlist(name) for name in search.FILTERS}
    body = stream_with_context(export(fmt, published_stories(q, filters)))
    return Response(body, mimetype=EXPORT_FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="kb-stories.{fmt}"'})
