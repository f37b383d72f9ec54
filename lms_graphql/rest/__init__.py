"""REST /api/v1 beside GraphQL: the same services, tenant rules, tokens and permissions."""
