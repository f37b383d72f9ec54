"""Query.courses for compiled reads: its arguments read in Python with the same rules as the
resolver (courses/graphql.py), the SQL from courses/json_repository.py. Arguments the
resolver would refuse take the ordinary path, which answers with its error."""

from __future__ import annotations

from typing import Any

from lms_graphql.auth.viewer import Viewer
from lms_graphql.courses import access
from lms_graphql.courses.json_repository import catalogue, catalogue_reading, one_course
from lms_graphql.errors import LmsError
from lms_graphql.kit.graphql import parse_id
from lms_graphql.kit.json_plan import Fallback, Reading, RootField
from lms_graphql.kit.pagination import decode_cursor, page_size


def read_catalogue(arguments: dict[str, Any], viewer: Viewer) -> Reading:
    search, status, pagination = arguments.get("search"), arguments.get("status"), arguments.get("pagination")
    if search is not None and len(search) > access.MAX_SEARCH:
        raise Fallback
    try:
        limit = page_size(pagination.get("first") if pagination is not None else None)
        after = pagination.get("after") if pagination is not None else None
        keyset = decode_cursor(after) if after else None
    except LmsError:
        raise Fallback from None
    course_filter = access.listing_filter(
        viewer, status=status.value if status is not None else None, search=(search or "").strip() or None
    )
    return catalogue_reading(course_filter, keyset, limit)


CATALOGUE = RootField(read_catalogue, catalogue)


def read_course(arguments: dict[str, Any], viewer: Viewer) -> Reading:
    course_id = parse_id(arguments["id"])
    if course_id is None:
        raise Fallback  # NOT_FOUND, as the resolver words it
    return Reading((), {"id": course_id})


COURSE = RootField(read_course, one_course)
