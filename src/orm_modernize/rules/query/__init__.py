"""ORM0xx: the legacy `Query` API."""
