"""lms-graphql: a multi-tenant learning platform backend."""

__version__ = "0.1.0"
