"""The report rendered for people (markdown, terminal) and programs (JSON)."""

from __future__ import annotations

from monerosim_core.report.render.json import report_json
from monerosim_core.report.render.markdown import render_markdown
from monerosim_core.report.render.terminal import render_terminal

__all__ = ["render_markdown", "render_terminal", "report_json"]
