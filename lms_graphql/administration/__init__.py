"""Administering tenants: their configuration (admins and operators), usage and reports."""
