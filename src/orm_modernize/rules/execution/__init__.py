"""ORM2xx: Engine and Connection execution."""
