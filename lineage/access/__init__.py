"""Access: API tokens and roles (:mod:`~lineage.access.tokens`)."""
