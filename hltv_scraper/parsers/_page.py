"""What every page parser needs: the parse error, the content section, chart JSON."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from parsel import Selector

if TYPE_CHECKING:
    from parsel import SelectorList
    from scrapy.http import TextResponse

#: Stored with every row a parser produced; bump it when a parser's output changes.
PARSER_VERSION = "1.3.0"

# HLTV pages are ~6 MB, almost all site chrome around one `.contentCol`. Building a
# tree of just that section is what makes re-parsing a whole archive affordable. It is
# found in the raw bytes and only it is decoded: decoding the page costs more than
# parsing the section.
_CONTENT_START = re.compile(rb'<div\b[^>]*\bclass\s*=\s*["\']contentCol\b')
_CONTENT_END = re.compile(rb"<aside\b|<footer\b")


class ParseError(ValueError):
    """The page is there but a required piece is missing or malformed."""


def content_selector(response: TextResponse, root_css: str) -> Selector:
    """A selector over the page's content section, or the whole page as a fallback.

    The section is used only when ``root_css`` matches inside it, so a page laid out
    differently costs time, never data. Name the last piece of the page the parser
    needs: a section cut short then falls back to the whole page.
    """
    selector = section_selector(response)
    if selector is not None and selector.css(root_css):
        return selector
    page = page_selector(response)
    if not page.css(root_css):
        raise ParseError(f"no {root_css} on the page")
    return page


def section_selector(response: TextResponse) -> Selector | None:
    """A selector over the content section alone; ``None`` if none is found."""
    section = _content_section(response)
    return None if section is None else Selector(text=section)


def page_selector(response: TextResponse) -> Selector:
    """A selector over the whole page: what reading a page costs when the section fails."""
    return Selector(text=response.text)


def _content_section(response: TextResponse) -> str | None:
    """The decoded text from the ``<div class="contentCol`` tag to the next aside or footer.

    ``bytes.find`` of the class name finds the candidate tags ten times faster than
    the regular expression scanning megabytes of chrome. In an encoding where ASCII
    is not ASCII (UTF-16) nothing is found, and the caller falls back to the page.
    """
    body = response.body
    at = body.find(b"contentCol")
    while at != -1:
        tag = body.rfind(b"<div", 0, at)
        if tag != -1 and _CONTENT_START.match(body, tag):
            end = _CONTENT_END.search(body, tag)
            section = body[tag : end.start() if end else len(body)]
            return section.decode(response.encoding, "replace")
        at = body.find(b"contentCol", at + 1)
    return None


def chart_config(element: Selector, what: str) -> dict[str, Any]:
    """The JSON of a ``data-fusionchart-config`` attribute (already HTML-unescaped)."""
    raw = element.attrib.get("data-fusionchart-config")
    if raw is None:
        raise ParseError(f"{what}: no data-fusionchart-config")
    try:
        config = json.loads(raw)
    except ValueError as exc:
        raise ParseError(f"{what}: chart JSON is malformed ({exc})") from None
    if not isinstance(config, dict) or not isinstance(config.get("dataSource"), dict):
        raise ParseError(f"{what}: chart JSON has no dataSource")
    return config


def id_from_href(href: str | None, kind: str) -> int | None:
    """The numeric id in ``/{kind}/{id}/{slug}`` (e.g. kind ``stats/players``)."""
    if not href:
        return None
    # at most 18 digits: an id fits SQLite's integers (and int() never refuses it)
    match = re.search(rf"/{kind}/(\d{{1,18}})(?:/|$|\?)", href)
    return int(match.group(1)) if match else None


def whole_number(text: str | None, what: str, *, digits: int = 18) -> int | None:
    """A count or id as the page writes it ("13", " 2 "); ``None`` for nothing or "-".

    At most ``digits`` ASCII digits: a longer number is no id or count a page means
    (and fits no SQLite integer), so it is a :class:`ParseError` naming ``what``.
    """
    text = clean_text(text)
    if text is None or text == "-":
        return None
    if not re.fullmatch(rf"[0-9]{{1,{digits}}}", text):
        raise ParseError(f"{what}: not a number of at most {digits} digits: {text[:40]!r}")
    return int(text)


def node_text(node: Selector | SelectorList) -> str | None:
    """All the text inside, whitespace folded; ``None`` for none."""
    return clean_text("".join(node.css("::text").getall()))


def clean_text(text: str | None) -> str | None:
    """Whitespace folded; ``None`` for nothing at all."""
    if text is None:
        return None
    folded = " ".join(text.split())
    return folded or None
