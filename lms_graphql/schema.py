"""The GraphQL schema. `lms-graphql export-schema` prints it; schema.graphql is that output."""

from __future__ import annotations

import strawberry

from lms_graphql import __version__


@strawberry.type
class Query:
    @strawberry.field(description="Version of the lms-graphql server answering.")
    def server_version(self) -> str:
        return __version__


schema = strawberry.Schema(query=Query)


def export_schema() -> str:
    return schema.as_str() + "\n"
