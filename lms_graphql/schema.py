"""The GraphQL schema. `lms-graphql export-schema` prints it; schema.graphql is that output."""

from __future__ import annotations

import re
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection
from strawberry.schema.config import StrawberryConfig
from strawberry.types.execution import ExecutionContext

from lms_graphql import __version__
from lms_graphql.administration.graphql import AdministrationMutations, AdministrationQueries
from lms_graphql.analytics.graphql import AnalyticsQueries
from lms_graphql.assessments.graphql import AssessmentMutations, AssessmentQueries
from lms_graphql.audit.graphql import AuditQueries
from lms_graphql.auth.graphql import AuthMutations
from lms_graphql.authoring.graphql import AuthoringMutations
from lms_graphql.compiled.graphql import CompiledReads
from lms_graphql.courses.graphql import CourseMutations, CourseQueries
from lms_graphql.dashboard.graphql import DashboardQueries
from lms_graphql.documents.graphql import DocumentQueries
from lms_graphql.enrollments.graphql import EnrollmentMutations, EnrollmentQueries
from lms_graphql.events.graphql import LiveSubscriptions
from lms_graphql.kit.graphql import DocumentCache
from lms_graphql.kit.shared_execution import LmsExecutionContext
from lms_graphql.limits.extension import QueryLimits
from lms_graphql.notifications.graphql import NotificationMutations, NotificationQueries
from lms_graphql.operations.input_checks import StorableInput
from lms_graphql.paths.graphql import PathMutations
from lms_graphql.privacy.graphql import PrivacyMutations, PrivacyQueries
from lms_graphql.storage.graphql import StorageMutations
from lms_graphql.tenancy.graphql import TenantMutations, TenantQueries
from lms_graphql.users.graphql import UserMutations, UserQueries


@strawberry.type(
    description="Reads. Everything but tenant, me, serverVersion and verifyCertificate needs a bearer token; any "
    "operation may also answer RATE_LIMITED, QUERY_TOO_COMPLEX or INTERNAL."
)
class Query(
    CourseQueries,
    DashboardQueries,
    AnalyticsQueries,
    UserQueries,
    TenantQueries,
    EnrollmentQueries,
    AssessmentQueries,
    NotificationQueries,
    AuditQueries,
    DocumentQueries,
    PrivacyQueries,
    AdministrationQueries,
):
    @strawberry.field(description="Version of the lms-graphql server answering.")
    def server_version(self) -> str:
        return __version__


@strawberry.type(
    description="Writes. Each runs all or nothing, is recorded in the tenant's audit log, and may be sent with an "
    "Idempotency-Key header (the same key with another request answers CONFLICT). Besides the error codes each "
    "mutation lists, any may answer RATE_LIMITED, QUERY_TOO_COMPLEX or INTERNAL."
)
class Mutation(
    AuthMutations,
    EnrollmentMutations,
    AssessmentMutations,
    CourseMutations,
    AuthoringMutations,
    PathMutations,
    UserMutations,
    NotificationMutations,
    TenantMutations,
    StorageMutations,
    PrivacyMutations,
    AdministrationMutations,
):
    pass


# graphql-core's "did you mean" text: " Did you mean 'a', 'b', or 'c'?", " Did you mean the enum
# value 'X'?", " Did you mean 'field { ... }'?". Schema names never contain a question mark.
SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


class LmsSchema(strawberry.Schema):
    def __init__(self, *args: Any, hide_suggestions: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # strawberry passes every result's errors through here (validation, variable coercion,
        # execution, subscription events) before extensions see them: the one place to remove
        # suggestions, whichever graphql-core rule or coercion wrote them.
        if self.hide_suggestions:
            for error in errors:
                error.message = SUGGESTION.sub("", error.message)
        # OperationRunner and the websocket handlers code every error and log the unexpected
        # ones with the request id; expected errors (NOT_FOUND, FORBIDDEN...) are not server errors.


@strawberry.type(
    description="Live updates over a websocket (graphql-transport-ws or graphql-ws), authenticated like HTTP. Each "
    "item carries an eventId: pass the last one as afterEventId after a reconnect to miss nothing."
)
class Subscription(LiveSubscriptions):
    pass


def build_schema(*, introspection: bool = True) -> LmsSchema:
    """The schema as served: storable input, limits, the document caches; without introspection
    (LMS_INTROSPECTION=false) "did you mean" suggestions are off too, so errors reveal no names
    of fields, arguments, input fields, types or enum values the client did not write."""
    # QueryLimits sets the parser's token limit, so it goes before DocumentCache; StorableInput
    # refuses unstorable literals before QueryLimits charges anything; CompiledReads answers
    # only what QueryLimits let through.
    extensions: list[Any] = [StorableInput, QueryLimits, DocumentCache, CompiledReads]
    if not introspection:
        extensions.append(DisableIntrospection)
    return LmsSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not introspection),
        hide_suggestions=not introspection,
        execution_context_class=LmsExecutionContext,
    )


schema = build_schema()


def export_schema() -> str:
    return schema.as_str() + "\n"
