"""The source as a tree: parsing, the walk, positions, noqa comments, small CST
questions and builders, node replacement. Imports only `data`."""
