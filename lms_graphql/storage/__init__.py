"""Content storage: objects under tenant-scoped keys, in a local directory or an S3-compatible store."""
