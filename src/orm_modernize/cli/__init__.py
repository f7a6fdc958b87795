"""The command line: click commands, output formats, rule docs. Imports
`workspace` and the layers below."""
