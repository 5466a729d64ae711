"""Pure-Python domain: Arabic text rules, value types, vocabularies and business rules (no Qt, no SQLAlchemy)."""
