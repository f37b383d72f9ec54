"""Compiled reads: a query over the read types answered by one SQL statement that writes its
JSON in PostgreSQL (planner.py), sent without being parsed or encoded again (graphql.py)."""
