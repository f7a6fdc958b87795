"""What code means: the whole-project model (index, pins, cross-module facts),
scopes and names, sessions, models and shapes, relationships, Core objects.
Imports `syntax` and `data`."""
