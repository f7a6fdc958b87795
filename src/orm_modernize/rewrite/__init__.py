"""Builders that turn legacy constructs into 2.0 ones: Query -> select(), queries
built over several statements, shared query helpers, clauses, parameters, string
paths, aliased joins, connection blocks, mapped types, backrefs. Imports
`analysis`, `syntax` and `data`."""
