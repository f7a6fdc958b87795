"""Plain data at the bottom: settings, findings and fixes, file results, evidence,
rule codes. Imports nothing of the package."""
