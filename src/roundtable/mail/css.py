"""CSS inlining for mail templates, done once on the template source, not per message.

Many mail clients (Gmail's app, Outlook) ignore or strip ``<style>`` blocks, so the
look must live in ``style`` attributes. Templates are written with classes; the
rules for those classes live in one small stylesheet of plain ``.class { … }``
rules, and the loader writes them into every tag that names a class before Jinja
compiles the template. Classes stay in place for the media queries (mobile, dark
mode) kept in the layout's ``<style>`` block, for the clients that honour it.
"""

from __future__ import annotations

import re
from pathlib import Path

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_RULE = re.compile(r"\.([A-Za-z][\w-]*)\s*\{([^{}]*)\}")
#: an opening tag whose attributes are all quoted (Jinja may appear inside the quotes)
_TAG = re.compile(r"<([A-Za-z][\w-]*)((?:\s+[\w:-]+(?:\s*=\s*\"[^\"]*\")?)*)\s*(/?)>")
_ATTRIBUTE = re.compile(r"([\w:-]+)(?:\s*=\s*\"([^\"]*)\")?")


class StylesheetError(ValueError):
    """The stylesheet or a template uses CSS the inliner does not understand."""


def parse_stylesheet(text: str) -> dict[str, str]:
    """``.name { declarations }`` rules, and nothing else, as {class: "declarations"}.

    Anything else (element selectors, combinators, at-rules) is refused rather than
    silently skipped: those belong in the layout's ``<style>`` block.
    """
    text = _COMMENT.sub("", text)
    rules: dict[str, str] = {}
    for match in _RULE.finditer(text):
        name, body = match.group(1), match.group(2)
        if name in rules:
            raise StylesheetError(f"class .{name} is defined twice")
        if '"' in body:
            raise StylesheetError(f'.{name}: use single quotes, the rule goes into style="…"')
        declarations = [" ".join(part.split()) for part in body.split(";")]
        rules[name] = "; ".join(part for part in declarations if part)
    leftover = _RULE.sub("", text).strip()
    if leftover:
        raise StylesheetError(f"only '.class {{ … }}' rules can be inlined, not {leftover[:60]!r}")
    return rules


def load_stylesheet(path: Path) -> dict[str, str]:
    return parse_stylesheet(path.read_text(encoding="utf-8"))


def inline_classes(source: str, rules: dict[str, str], name: str = "<template>") -> str:
    """``source`` with each tag's class rules written into its ``style`` attribute.

    Rules apply in the order the classes are listed; a ``style`` already on the
    tag comes last and so wins. An unknown class is an error (usually a typo).
    """

    def rewrite(tag: re.Match[str]) -> str:
        element, attributes_text, self_closing = tag.group(1), tag.group(2), tag.group(3)
        attributes = [(m.group(1), m.group(2)) for m in _ATTRIBUTE.finditer(attributes_text)]
        classes = next((value for key, value in attributes if key == "class"), None)
        if classes is None:
            return tag.group(0)
        if "{" in classes:
            raise StylesheetError(f"{name}: a class attribute cannot use Jinja: {classes!r}")
        declarations = []
        for class_name in classes.split():
            if class_name not in rules:
                raise StylesheetError(f"{name}: class {class_name!r} is not in the stylesheet")
            if rules[class_name]:
                declarations.append(rules[class_name])
        existing = next((value for key, value in attributes if key == "style"), None)
        if existing:
            declarations.append(existing.strip().rstrip(";"))
        written = []
        for key, value in attributes:
            if key == "style":
                continue
            written.append(key if value is None else f'{key}="{value}"')
            if key == "class" and declarations:
                written.append('style="{}"'.format("; ".join(declarations)))
        closing = " /" if self_closing else ""
        return "<{} {}{}>".format(element, " ".join(written), closing)

    result = _TAG.sub(rewrite, source)
    if result.count(' class="') != _count_inlined(result):
        raise StylesheetError(f"{name}: a tag with a class could not be read for inlining")
    return result


def _count_inlined(html: str) -> int:
    """Class attributes that went through the inliner (their tag matched the tag pattern)."""
    return sum(1 for tag in _TAG.finditer(html) if ' class="' in tag.group(0))
