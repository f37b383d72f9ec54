"""A person's data: where it is (catalog), its export and its erasure."""
