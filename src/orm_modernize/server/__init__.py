"""The language server: the checks and fixes of one editor's documents, over
stdio (LSP). Above the workspace, below the command line that starts it."""
