"""Learning paths: what a learner must complete before a course opens to them."""
