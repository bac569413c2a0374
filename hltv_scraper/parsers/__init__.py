"""Page parsers: each is a plain function of a response that returns one typed item.

No engine, no settings, no database: ``parse_performance(HtmlResponse(...))`` works in a
test or a notebook. A page that is not what it should be raises :class:`ParseError`
naming the missing piece.
"""

from hltv_scraper.parsers import _page
from hltv_scraper.parsers._page import PARSER_VERSION, ParseError

__all__ = ["PARSER_VERSION", "ParseError", "current_parser_version"]


def current_parser_version() -> str:
    """``PARSER_VERSION``, looked up when called: crawls and commands take it from here,
    so a test can stand in a newer version (monkeypatching ``_page.PARSER_VERSION``)."""
    return _page.PARSER_VERSION
