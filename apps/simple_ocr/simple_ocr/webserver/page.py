"""The HTML page. Every value from the Repository is OCR output, untrusted: all of it is escaped."""

from __future__ import annotations

import time
from html import escape

from ..records import TextRecord


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def _row(record: TextRecord) -> str:
    return (
        f'<tr data-camera="{escape(record.camera)}"><td>{escape(record.camera)}</td>'
        f'<td class="text">{escape(record.text)}</td>'
        f'<td class="confidence">{record.confidence:.0f}</td>'
        f'<td class="time">{_utc(record.time)}</td></tr>'
    )


def _table(table_id: str, records: list[TextRecord]) -> str:
    rows = "".join(_row(record) for record in records)
    return (
        f'<table id="{table_id}"><thead><tr><th>Camera</th><th>Text</th><th>Confidence</th>'
        f"<th>Read at (UTC)</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render_page(latest: list[TextRecord], q: str, results: list[TextRecord] | None) -> str:
    search = ""
    if results is not None:
        search = f"<h2>{len(results)} result(s) for “{escape(q)}”</h2>" + _table("results", results)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>simple_ocr</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<h1>Text read by the cameras</h1>
<p id="status">live updates: connecting</p>
{_table("latest", latest)}
<form method="get" action="/">
<label>Search text <input name="q" value="{escape(q)}"></label>
<button type="submit">Search</button>
</form>
{search}
</body>
</html>
"""
