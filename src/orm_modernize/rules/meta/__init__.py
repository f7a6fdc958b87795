"""ORM9xx: about the tool itself: its `# noqa` comments."""
