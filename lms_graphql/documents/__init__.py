"""Registered GraphQL documents: trusted documents (an allow-list, per tenant or for the whole
platform) and automatic persisted queries (a cache clients fill themselves)."""
