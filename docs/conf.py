"""Sphinx configuration for the aioexpect documentation.

Build with ``nox -s docs`` or ``python3 -m sphinx -W -b html docs build/html``;
warnings are errors.  No network access is needed (intersphinx is off).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # document the source next to these docs

import aioexpect  # noqa: E402

project = "aioexpect"
author = "The aioexpect developers"
copyright = "the aioexpect developers; GPL-3.0-or-later"
release = aioexpect.__version__
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.autodoc"]

source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
nitpicky = False
default_role = "code"
highlight_language = "python3"
pygments_style = "sphinx"
pygments_dark_style = "monokai"

autodoc_member_order = "bysource"
autodoc_typehints = "none"  # signatures stay readable; types are in the source (py.typed)
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True}
autodoc_inherit_docstrings = True

html_theme = "furo"
html_title = f"aioexpect {release}"
html_static_path: list[str] = []
html_theme_options = {"navigation_with_keys": True}


#: Classes whose objects aioexpect hands out (an opener's result, a served
#: console or device): their constructors are no API, so no signature shows.
HANDED_OUT = {"aioexpect.Opener", "aioexpect.ConsoleServer", "aioexpect.testing.DeviceServer"}


def _signature(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: str | None, annotation: Any
) -> tuple[str, Any] | None:
    """Signatures as a caller reads them: a default named after a module's
    constant (``timeout=DEFAULT_TIMEOUT``) shows its value, and parameters
    whose names start with ``_`` (private) are left out."""
    if name in HANDED_OUT:
        return "", annotation
    if not signature:
        return None
    module = sys.modules.get(getattr(obj, "__module__", "") or "")

    def value(m: re.Match[str]) -> str:
        return repr(getattr(module, m.group(), None)) if hasattr(module, m.group()) else m.group()

    signature = re.sub(r"\bDEFAULT_[A-Z_]+\b", value, signature)
    signature = re.sub(r",\s*_\w+=[^,()]*", "", signature)
    return signature, annotation


def setup(app: Any) -> None:
    app.connect("autodoc-process-signature", _signature)
