"""Maintenance scripts, run as files (`python3 scripts/NAME.py`); a package so mypy checks them."""
