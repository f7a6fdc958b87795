"""One module in, findings and fixes out (`lint_source`): the batched pass over
the rules, applying and verifying fixes, import and text edits. Imports `rules`
and the layers below."""
