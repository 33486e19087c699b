"""Chinese first: every English source string has its Simplified Chinese translation, the
translations keep the placeholders the code fills in, and a visitor who chose nothing reads
Chinese. A developer who wraps a new string without translating it gets a failing test that
names the string and where it is."""
from __future__ import annotations

import html
import os
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "qmevents" / "translations"
# As `pybabel extract -k _l` (gettext, _, ngettext:1,2 are defaults; a bare `-k ngettext` would
# replace ngettext:1,2 and drop every plural).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "ngettext": (1, 2)}
# %(name)s, %(num)d…: what the code passes in by name. A stray % breaks the formatting.
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")
SKIPPED_DIRS = {"node_modules", "instance", "venv"}


# Babel reads "zh_CN" as zh_Hans_CN and Flask-Babel looks for that folder, not zh_CN/.
ZH_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


@cache
def zh_catalogue() -> Catalog:
    with open(ZH_PO, "rb") as f:
        return read_po(f, locale="zh_CN")


def _key(msgid: str | tuple[str, ...]) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def _keep_dir(dirpath: str) -> bool:
    name = os.path.basename(dirpath)
    return not name.startswith((".", "_")) and name not in SKIPPED_DIRS


@cache
def source_strings() -> dict[str, tuple[str, str | None]]:
    """msgid -> ("file:line" of its first use, plural msgid or None), extracted now as babel.cfg
    says."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str, tuple[str, str | None]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_keep_dir):
        plural = message[1] if isinstance(message, tuple) else None
        found.setdefault(_key(message), (f"{filename}:{lineno}", plural))
    return found


def translations(message) -> tuple[str, ...]:
    return tuple(message.string) if message.pluralizable else (message.string,)


def test_every_source_string_has_a_chinese_translation():
    catalogue = zh_catalogue()
    untranslated = []
    for msgid, (where, _plural) in sorted(source_strings().items(), key=lambda item: item[1][0]):
        message = catalogue.get(msgid)
        if message is None or "fuzzy" in message.flags or not all(translations(message)):
            untranslated.append(f"{where}: {msgid!r}")
    assert not untranslated, (
        f"Not translated in {ZH_PO.relative_to(ROOT)} (`make translations`, translate them, "
        "compile again):\n" + "\n".join(untranslated))


def test_ngettext_strings_stay_plural_in_the_catalogue():
    """`pybabel extract -k ngettext` (without :1,2) drops the plural, and then ngettext shows
    English whatever the catalogue says."""
    catalogue = zh_catalogue()
    flattened = [
        f"{where}: {msgid!r}"
        for msgid, (where, plural) in source_strings().items()
        if plural and (message := catalogue.get(msgid)) is not None
        and (not message.pluralizable or message.id[1] != plural)
    ]
    assert not flattened, "Plural strings stored without their plural:\n" + "\n".join(flattened)


def test_chinese_catalogue_has_one_plural_form():
    assert zh_catalogue().num_plurals == 1


def test_translations_keep_the_placeholders_of_the_source():
    wrong = []
    for message in zh_catalogue():
        if not message.id:
            continue
        ids = message.id if message.pluralizable else (message.id,)
        wanted = sorted(set(PLACEHOLDER.findall(" ".join(ids))))
        formatted = message.pluralizable or bool(wanted)  # ngettext always applies % num
        for text in translations(message):
            if not text:
                continue
            stray = "%" in PLACEHOLDER.sub("", text).replace("%%", "") if formatted else False
            if sorted(set(PLACEHOLDER.findall(text))) != wanted or stray:
                wrong.append(f"{_key(message.id)!r} -> {text!r}")
    assert not wrong, "Placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


# --- what a visitor who chose no language reads ---------------------------------------------

class VisibleText(HTMLParser):
    """The words a person reads or hears: text, and the attributes browsers show or speak."""

    SPOKEN = {"aria-label", "title", "alt", "placeholder", "content"}
    BUTTONS = {"submit", "button", "reset"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") in self.BUTTONS:
            self.parts.append(attributes.get("value") or "")
        self.parts.extend(v for name, v in attrs if name in self.SPOKEN and v)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return html.unescape(" ".join(" ".join(parser.parts).split()))


def template_sentences(*names: str) -> set[str]:
    """The English strings the given templates translate, singular and plural."""
    found = set()
    for name in names:
        for _lineno, message, _comments, _context in extract_from_file(
                "jinja2", str(ROOT / "templates" / name), keywords=KEYWORDS):
            found.update(message if isinstance(message, tuple) else (message,))
    return {m for m in found if m}


def english_left(page: str) -> list[str]:
    text = visible_text(page)
    sentences = template_sentences("base.html", "public/index.html")
    return sorted(s for s in sentences if PLACEHOLDER.sub("", s).strip() in text)


def test_the_public_index_speaks_chinese_by_default(client, factory):
    factory.event()

    page = client.get("/").get_data(as_text=True)

    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert re.search(r"[\u4e00-\u9fff]", title), title
    assert not re.search(r"[A-Za-z]", html.unescape(title)), title
    assert '<html lang="zh-CN">' in page
    assert english_left(page) == []


def test_english_visitors_read_the_same_page_in_english(client, factory):
    """Proves the check above looks where the English would be."""
    factory.event()

    page = client.get("/?lang=en").get_data(as_text=True)

    assert "Privacy notice" in english_left(page)
    assert "Quality Month events" in english_left(page)
