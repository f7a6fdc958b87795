"""ORM4xx: declarative mapping and relationships."""
