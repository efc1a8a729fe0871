"""Markdown to HTML for protocol documents, safe to put in a page.

markdown-it-py (CommonMark) with raw HTML off: a `<script>` or `<img onerror=…>` typed into a
document comes out as text. Its link check refuses `javascript:`, `vbscript:`, `file:` and
`data:` targets; images are switched off altogether (a document is text, and an image would be a
request to someone else's host). Links get `rel="nofollow noopener"`.
"""

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_md.disable("image")


def _link_open(renderer, tokens, index, options, env):
    tokens[index].attrSet("rel", "nofollow noopener")
    return renderer.renderToken(tokens, index, options, env)


_md.add_render_rule("link_open", _link_open)


def render_markdown(text: str) -> SafeString:
    """The document's HTML. Everything the writer typed is escaped except Markdown's own marks."""
    return mark_safe(_md.render(text or ""))  # noqa: S308 (html off, links validated: see module docstring)
