"""Screenshots that browser tests save, for before-and-after comparisons of pages.

Files go to ``KB_SCREENSHOT_DIR`` (default ``screenshots/`` in the checkout,
which git ignores), one PNG per page and width: ``<name>-<width>.png``.
"""
from __future__ import annotations

import os
from pathlib import Path

from .axe import ROOT

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
WIDTHS = (PHONE, DESKTOP)


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("KB_SCREENSHOT_DIR") or ROOT / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshot(page, name: str) -> Path:
    """Save the whole page as ``<name>-<viewport width>.png`` and return the path."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = screenshot_dir() / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
