"""Tenant placements (kit/homes.py): making homes, migrating them, moving tenants between them."""
