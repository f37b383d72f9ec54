"""Helpers shared by the tests: people and tenants, a GraphQL client, servers, data builders."""
