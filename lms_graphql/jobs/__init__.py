"""The durable job queue (procrastinate, on PostgreSQL): jobs deferred in the transaction of the
change that needs them, run by `lms-graphql worker` or the worker inside `serve`."""
