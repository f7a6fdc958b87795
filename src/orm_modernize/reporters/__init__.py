"""Output formats: each is `report(results, out, settings)` and only formats."""

from __future__ import annotations

from orm_modernize.reporters import json, text

REPORTERS = {"text": text.report, "json": json.report}
