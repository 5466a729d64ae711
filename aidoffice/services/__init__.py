"""Use cases: each call opens its own unit of work and returns frozen dataclasses, never live ORM rows."""
