"""Builds the egg that ``scrapyd-deploy`` uploads to scrapyd (``make scrapyd``).

scrapyd-deploy runs ``setup.py bdist_egg`` (it writes a setup.py of its own only when
there is none, and that one would pack every package it finds, tests included). The
package list, the SQL migrations (package data, read with ``importlib.resources`` so
they work from the zipped egg) and the ``scrapy`` entry point naming the settings
module all come from ``pyproject.toml``.

Check what goes in: ``.venv/bin/scrapyd-deploy --build-egg /tmp/hltv.egg`` and
``python -m zipfile -l /tmp/hltv.egg`` (``tests/test_scrapyd.py`` does this).
"""

from setuptools import setup

# The migrations are read as resources, which works from a zip; say so explicitly
# rather than leave it to bdist_egg's guess.
setup(zip_safe=True)
