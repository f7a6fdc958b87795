"""ORM1xx: sessions and transactions."""
