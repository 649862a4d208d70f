"""Rendering a mail kind for one context into a subject, a text part and an HTML part.

One Jinja2 environment per process: templates are loaded, CSS-inlined and compiled
once, then reused for every message. HTML templates are autoescaped, text ones are
not, and an undefined name is an error rather than an empty string. Translations
are chosen per message from the context's language, so one environment serves
every language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    nodes,
    pass_context,
    select_autoescape,
)
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2.runtime import Context
from markupsafe import Markup

from roundtable.mail.context import MailContext
from roundtable.mail.css import inline_classes, load_stylesheet
from roundtable.paths import project_root
from roundtable.presentation import i18n
from roundtable.presentation.event import EventView

STYLESHEET = "_inline.css"

_BREAKS = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def templates_dir() -> Path:
    """Where ``templates/emails`` is: at the project root (see :mod:`roundtable.paths`)."""
    return project_root() / "templates" / "emails"


class InliningLoader(FileSystemLoader):
    """Loads templates from a folder and inlines the stylesheet into the HTML ones."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.rules = load_stylesheet(folder / STYLESHEET)

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        if template.endswith(".html.j2"):
            source = inline_classes(source, self.rules, name=template)
        return source, filename, uptodate


def render(kind: str, ctx: MailContext) -> RenderedMail:
    """The three texts of one message; the subject on one line, the text part tidied."""
    env = environment()
    subject = one_line(env.get_template(f"{kind}/subject.txt.j2").render(ctx=ctx))
    text = env.get_template(f"{kind}/body.txt.j2").render(ctx=ctx, subject=subject)
    html = env.get_template(f"{kind}/body.html.j2").render(ctx=ctx, subject=subject)
    language = ctx.language
    return RenderedMail(
        subject=i18n.typeset(language, subject),
        text=i18n.typeset(language, tidy_text(text)),
        html=i18n.typeset(language, tidy_html(html)),
    )


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The process's template environment, built on first use."""
    return build_environment(InliningLoader(templates_dir()))


def warm_up() -> None:
    """Compile every template and read every catalog and locale now, not on first send.

    A worker calls this before it forks its children, so they share the result;
    the first message of each child otherwise took some 70 ms instead of 1.
    """
    env = environment()
    for name in env.list_templates(extensions=["j2"]):
        env.get_template(name)
    for language in i18n.BABEL_LOCALES:
        i18n.translations(language)
        i18n.text_direction(language)  # reads the locale's data, which Babel loads lazily


def build_environment(loader: BaseLoader) -> Environment:
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n", SharedBlocks],
    )
    # Collapse the whitespace of {% trans %} blocks, so catalog entries are single lines.
    env.policies["ext.i18n.trimmed"] = True
    env.filters["bdi"] = i18n.bdi
    env.filters["isolate"] = _isolate
    env.filters["label"] = _label
    # Newstyle gettext (a translation is always a format string, escaped in HTML), installed
    # directly: Jinja's own wrappers reach the catalog through three calls per message
    # string, each with the template runtime's cost, which was a tenth of writing a message.
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(
        _=_gettext, gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext
    )
    return env


@dataclass(frozen=True)
class EventWide:
    """All a shared block may read as ``ctx``: an attribute it lacks is an error at render."""

    kind: str
    language: str
    direction: str
    event: EventView


class SharedBlocks(Extension):
    """``{% shared "_agenda.html.j2" %}``: an include that shows only the event.

    The event's details, programme, description, contact and closing read nothing of
    the invitee, so a batch renders each once per kind, language and presentation of
    the event (``MailContext.blocks``) and pastes it into every message. The block
    sees :class:`EventWide` as ``ctx``, so a block that starts reading the invitee
    fails at once instead of showing one invitee's words to the next.
    """

    tags = {"shared"}

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        name = parser.parse_expression()
        call = self.call_method("_render", [name, nodes.ContextReference()], lineno=lineno)
        return nodes.Output([call], lineno=lineno)

    def _render(self, name: str, context: Context) -> str:
        ctx: MailContext = context["ctx"]
        key = (name, ctx.kind, ctx.language, id(ctx.event))
        found = ctx.blocks.get(key)
        if found is not None and found[0] is ctx.event:
            text = found[1]
        else:
            wide = EventWide(ctx.kind, ctx.language, ctx.direction, ctx.event)
            text = self.environment.get_template(name).render(ctx=wide)
            ctx.blocks[key] = (ctx.event, text)  # keeps the view alive, so its id is not reused
        # The block was rendered (and escaped) by its own template.
        return Markup(text) if context.eval_ctx.autoescape else text  # noqa: S704


def one_line(text: str) -> str:
    """A header-safe line: runs of spaces, line breaks and control characters become one space.

    A no-break space is kept: French puts one before a colon.
    """
    return _BREAKS.sub(" ", text).strip(" ")


def tidy_text(text: str) -> str:
    """No trailing spaces or tabs, at most one blank line in a row, one final newline.

    Line by line: the two regular expressions this replaced tried a match at every
    space of the text, a twentieth of composing a message.
    """
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.rstrip(" \t")
        if line or not kept or kept[-1]:
            kept.append(line)
    return "\n".join(kept).strip() + "\n"


def tidy_html(html: str) -> str:
    """Template indentation's blank lines removed; the markup itself untouched."""
    return "\n".join(line for line in html.splitlines() if line.strip()) + "\n"


def _words(context: Context) -> Any:
    return i18n.translations(context["ctx"].language)


@pass_context
def _label(context: Context, text: str) -> str:
    return i18n.label(context["ctx"].language, text)


@pass_context
def _isolate(context: Context, value: object) -> str:
    return i18n.isolate(context["ctx"].language, value)


def _formatted(context: Context, text: str, variables: dict[str, Any]) -> str:
    """What Jinja's newstyle gettext returns: markup in an HTML template, formatted with the
    variables (a text with none and no ``%`` reads the same unformatted, and is returned so)."""
    translated = Markup(text) if context.eval_ctx.autoescape else text  # noqa: S704 (a catalog's)
    if not variables and "%" not in text:
        return translated  # what formatting would give, without its cost (most strings)
    return translated % variables


# Positional-only, so that a template's own variables (``name=…``, ``message=…``) never
# collide with a parameter.
@pass_context
def _gettext(context: Context, message: str, /, **variables: Any) -> str:
    return _formatted(context, _words(context).gettext(message), variables)


@pass_context
def _ngettext(
    context: Context, singular: str, plural: str, number: int, /, **variables: Any
) -> str:
    variables.setdefault("num", number)
    return _formatted(context, _words(context).ngettext(singular, plural, number), variables)


@pass_context
def _pgettext(context: Context, message_context: str, message: str, /, **variables: Any) -> str:
    variables.setdefault("context", message_context)
    return _formatted(context, _words(context).pgettext(message_context, message), variables)


@pass_context
def _npgettext(
    context: Context,
    message_context: str,
    singular: str,
    plural: str,
    number: int,
    /,
    **variables: Any,
) -> str:
    variables.setdefault("context", message_context)
    variables.setdefault("num", number)
    translated = _words(context).npgettext(message_context, singular, plural, number)
    return _formatted(context, translated, variables)
