"""ORM3xx: Core constructs."""
