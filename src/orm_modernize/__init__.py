"""orm-modernize: find legacy SQLAlchemy 1.x code and rewrite it to 2.0 style."""

__version__ = "0.1.0"
