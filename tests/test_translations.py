"""English is complete: every project string in locale/en/LC_MESSAGES/django.po has a
translation that is not fuzzy, the compiled .mo says the same, and every Chinese string the
code marks for translation is in the .po (run ./scripts/messages, then translate, when this
fails)."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
PROJECT = ["weihai", "enterprises", "tickets", "reports", "api", "intake", "portal", "templates"]
CJK = re.compile(r"[\u3400-\u9fff]")


def _entries(text: str) -> list[dict]:
    """The .po's entries: {"flags": {...}, "msgid": …, "msgstr": … or "msgstr[0]": …}."""
    entries = []
    for block in text.split("\n\n"):
        entry, key = {"flags": set()}, None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
            else:
                key, _space, value = line.partition(" ")
                entry[key] = ast.literal_eval(value)
        if entry.get("msgid"):
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def entries():
    return _entries(PO.read_text(encoding="utf-8"))


def test_every_project_string_has_an_english_translation_that_is_not_fuzzy(entries):
    assert len(entries) > 500
    missing = [
        e["msgid"]
        for e in entries
        if "fuzzy" in e["flags"]
        or not all(value for key, value in e.items() if key.startswith("msgstr"))
    ]
    assert not missing, f"untranslated or fuzzy in {PO.name}: {missing}"


def test_the_compiled_catalogue_matches_the_po(entries):
    """The .mo was compiled from this .po (./scripts/messages), so English pages use it."""
    stale = []
    with translation.override("en"):
        for e in entries:
            if "msgctxt" in e or "msgid_plural" in e:
                continue
            if translation.gettext(e["msgid"]) != e["msgstr"]:
                stale.append(e["msgid"])
    assert not stale, f"django.mo is older than django.po for: {stale[:10]}"


# _("…"), gettext_lazy("…"), {% translate "…" %}: one literal, the common case. Strings built
# by implicit concatenation are covered by the first test once makemessages has run.
CALLS = re.compile(r"""(?<![\w.])(?:_|gettext|gettext_lazy|pgettext)\(\s*(["'])(.+?)\1\s*[,)]""")
TAGS = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")


def test_every_marked_chinese_string_is_in_the_po(entries):
    known = {e["msgid"] for e in entries}
    absent = set()
    for top in PROJECT:
        for path in (ROOT / top).rglob("*"):
            if path.suffix not in (".py", ".html") or "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for _quote, literal in [*CALLS.findall(text), *TAGS.findall(text)]:
                if path.suffix == ".py":
                    try:
                        literal = ast.literal_eval(f'"{literal}"')
                    except (SyntaxError, ValueError):
                        continue
                if CJK.search(literal) and literal not in known:
                    absent.add(f"{path.relative_to(ROOT)}: {literal}")
    assert not absent, "not in django.po (run ./scripts/messages): " + "; ".join(sorted(absent))
