"""How a message body is shown: sanitised HTML as stored, or text with line breaks, with quoted
history and signatures split off (the email parser's rule) so the page can fold them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup, escape

from closeloop.channels.email.parse import split_quoted


def text_to_html(text: str) -> Markup:
    """Escaped text with its line breaks kept."""
    return Markup("<br>\n").join(escape(line) for line in text.strip("\n").splitlines())


@dataclass(frozen=True, slots=True)
class ShownBody:
    """A message body as the page shows it: the new part, and what is folded away."""

    main: Markup
    folded: Markup | None


_CID_SOURCE = re.compile(r"""(src=["'])cid:([^"']+)(["'])""", re.IGNORECASE)


def with_inline_images(body_html: str, attachment_ids: Mapping[str, int]) -> str:
    """``<img src="cid:…">`` pointing at the message's inline attachments (the download URL)."""

    def replace(match: re.Match[str]) -> str:
        found = attachment_ids.get(match.group(2).strip("<>"))
        if found is None:
            return match.group(0)
        return f"{match.group(1)}/api/v1/attachments/{found}/content{match.group(3)}"

    return _CID_SOURCE.sub(replace, body_html)


def show_body(
    body_text: str, body_html: str | None, inline: Mapping[str, int] | None = None
) -> ShownBody:
    """``body_html`` is sanitised on the way in (nh3), so it is shown as it is (inline images
    resolved); otherwise the text, escaped, with quoted history and signature folded."""
    if body_html:
        shown = with_inline_images(body_html, inline) if inline else body_html
        return ShownBody(main=Markup(shown), folded=None)  # noqa: S704 (sanitised on input)
    new, rest = split_quoted(body_text)
    return ShownBody(main=text_to_html(new), folded=text_to_html(rest) if rest.strip() else None)
