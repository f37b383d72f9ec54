from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from lms_graphql.models.base import Base, TenantOwned, created_at_column

DOCUMENT_ID_LENGTH = 200


class _Registered:
    """A GraphQL document registered ahead of use (a client's persisted-query manifest): parsed,
    validated and costed once, when registered. Clients send ``document_id`` instead of it."""

    document_id: Mapped[str] = mapped_column(String(DOCUMENT_ID_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    # The named operations it holds ('' for an anonymous one), and what each is.
    operation_names: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    operation_kinds: Mapped[list[str]] = mapped_column(ARRAY(String(12)))
    # Its estimated cost (at its variables' defaults), and the schema it was validated against.
    cost: Mapped[int]
    schema_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200), server_default=text("''"))
    created_at: Mapped[datetime] = created_at_column()


class TrustedDocument(TenantOwned, _Registered, Base):
    """A document one tenant's clients may send by id."""

    __tablename__ = "trusted_documents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document_id"),
        CheckConstraint("length(document_id) > 0", name="document_id_not_blank"),
    )


class PlatformDocument(_Registered, Base):
    """A document every tenant's clients may send by id (the platform's own apps). A reference
    table: no tenant data in it."""

    __tablename__ = "platform_documents"
    __table_args__ = (CheckConstraint("length(document_id) > 0", name="document_id_not_blank"),)

    document_id: Mapped[str] = mapped_column(String(DOCUMENT_ID_LENGTH), primary_key=True)
