"""Editing the concept glossary (corpus/glossary.yaml) from the CLI and over HTTP.

A concept's terms in several languages are what let a question in one language reach
an article in another: search carries the terms into the other languages' BM25 indexes,
and answers count them as found. QA13 added an English article on churn; German and
Vietnamese questions about it got "no good answer" until the glossary named churn in
their languages, and nothing in kb said so or let an editor do it without editing the
YAML by hand and restarting the server.

The file is edited in place with ruamel.yaml's round trip, so its comments, order and
layout stay as they were; a write is atomic, and a running server reads the new file
on its next query (:attr:`kb.core.KnowledgeBase.glossary`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import BadInputError, ConflictError, NotFoundError, StaleError
from kb.glossary import Concept, Glossary, fold, load_glossary, split_terms
from kb.language import LANG_NAMES, SUPPORTED
from kb.store import atomic_write_text

MAX_TERMS = 12  # per language
_FILE_ORDER = ("en", "ko", "de", "vi")  # as the shipped file lists them
MAX_TERM_CHARS = 80
MAX_ID_CHARS = 60
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HEADER = (
    "# Concept glossary: each marketing concept with its terms in ko/en/de/vi.\n"
    "# `names` is the display name, `terms` the surface forms to match and expand\n"
    "# (first term = the preferred one).\n"
)


@dataclass(frozen=True)
class ConceptEdit:
    """A concept as an editor gives it: its id and its terms per language, the first
    term of each language being its name there."""

    id: str
    terms: dict[str, list[str]]
    names: dict[str, str] = field(default_factory=dict)

    def to_concept(self) -> Concept:
        names = {lang: self.names.get(lang) or _display((self.terms.get(lang) or [""])[0])
                 for lang in SUPPORTED}
        return Concept(id=self.id, names=names,
                       terms={lang: list(self.terms.get(lang, [])) for lang in SUPPORTED})


def _display(term: str) -> str:
    """A term as a card's name: "double opt-in" → "Double opt-in", as the shipped cards
    read ("Email marketing"); "iPhone", "KPIs" and Hangul stay as they are (QA14)."""
    first = term.split(maxsplit=1)[0] if term else ""
    if first[:1].islower() and first.islower():
        return term[:1].upper() + term[1:]
    return term


def concept_edit(concept_id: str | None, terms: dict[str, Any],
                 names: dict[str, Any] | None = None) -> ConceptEdit:
    """A checked :class:`ConceptEdit`.

    Raises:
        BadInputError: no term at all, a language kb does not know, a term that is too
            long or holds a line break, too many terms, or an id that is no slug.
    """
    unknown = sorted(set(terms) - set(SUPPORTED)) + sorted(set(names or {}) - set(SUPPORTED))
    if unknown:
        raise BadInputError(f"unknown language {unknown[0]!r}: supported languages are "
                            f"{', '.join(SUPPORTED)}",
                            fields=("terms" if unknown[0] in terms else "names",))
    clean: dict[str, list[str]] = {}
    for lang in SUPPORTED:
        seen: set[str] = set()
        out = []
        for term in split_terms(terms.get(lang)):
            # NFKC: a full-width "ＫＰＩ" or a ligature "ﬁ" is the same term as "KPI" or
            # "fi", and as typed it matched no question (QA15).
            term = unicodedata.normalize("NFKC", term)
            if "," in term:
                # Forms and the CLI separate terms with commas: one inside a term was
                # split in two by the next save from the edit form (QA15).
                raise BadInputError(f"the {LANG_NAMES[lang]} term {term!r} holds a comma; "
                                    "terms are separated by commas", fields=(f"terms.{lang}",))
            if len(term) > MAX_TERM_CHARS:
                raise BadInputError(f"the {LANG_NAMES[lang]} term {term[:30]!r}… is "
                                    f"{len(term)} characters long; the limit is "
                                    f"{MAX_TERM_CHARS}", fields=(f"terms.{lang}",))
            if any(unicodedata.category(ch).startswith("C") for ch in term):
                raise BadInputError(f"the {LANG_NAMES[lang]} term {term!r} holds a control "
                                    "character", fields=(f"terms.{lang}",))
            if "<" in term or ">" in term:
                # Search drops markup from a question, and with it such a term: its
                # card's search was then "the query is empty" (QA15).
                raise BadInputError(f"the {LANG_NAMES[lang]} term {term!r} holds < or >; "
                                    "a term is plain text", fields=(f"terms.{lang}",))
            if not any(ch.isalnum() for ch in term):
                raise BadInputError(f"the {LANG_NAMES[lang]} term {term!r} has no letter "
                                    "or digit", fields=(f"terms.{lang}",))
            if fold(term) not in seen:
                seen.add(fold(term))
                out.append(term)
        if len(out) > MAX_TERMS:
            raise BadInputError(f"{len(out)} {LANG_NAMES[lang]} terms; the limit is "
                                f"{MAX_TERMS} a language", fields=(f"terms.{lang}",))
        if out:
            clean[lang] = out
    if not clean:
        raise BadInputError("a concept needs at least one term, in any of ko, en, de, vi "
                            "(comma-separated: \"churn, churn rate\")", fields=("terms",))
    given = {lang: " ".join(str(v).split()) for lang, v in (names or {}).items()
             if str(v or "").strip()}
    for lang, name in given.items():
        if "<" in name or ">" in name:
            raise BadInputError(f"the {LANG_NAMES[lang]} name holds < or >; a name is plain "
                                "text", fields=(f"names.{lang}",))
        if len(name) > MAX_TERM_CHARS:
            raise BadInputError(f"the {LANG_NAMES[lang]} name is {len(name)} characters "
                                f"long; the limit is {MAX_TERM_CHARS}", fields=(f"names.{lang}",))
    cid = (concept_id or "").strip() or concept_slug(clean)
    if not _ID.match(cid) or len(cid) > MAX_ID_CHARS:
        raise BadInputError(f"a concept id is lower-case letters, digits and single "
                            f"hyphens, at most {MAX_ID_CHARS} characters ({cid!r} is not)",
                            fields=("id",))
    return ConceptEdit(cid, clean, given)


def concept_slug(terms: dict[str, list[str]]) -> str:
    """An id from the English term, else the first Latin-script one, folded to ASCII
    ("Kündigungsrate" → "kuendigungsrate"); "concept-" and a hash of the first term when
    there is none."""
    for lang in ("en", "de", "vi", "ko"):
        for term in terms.get(lang, []):
            text = fold(term).replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
            text = text.replace("ß", "ss").replace("đ", "d")
            ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
            slug = re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")[:MAX_ID_CHARS].strip("-")
            if slug:
                return slug
    # Hangul only: no letters to spell an id with; one per term, so that a second
    # Korean concept is no clash with the first (QA15: both were "concept").
    first = next(t for lang in ("ko", "en", "de", "vi") for t in terms.get(lang, []))
    return "concept-" + hashlib.sha1(fold(first).encode()).hexdigest()[:8]


def clashes(glossary: Glossary, edit: ConceptEdit, *, replace: bool) -> None:
    """Refuse an id that exists (unless ``replace``) or is missing (when it is), and a
    term another entry of the glossary already has in that language: a term belongs
    to one concept, or a query naming it would name both.

    Raises:
        ConflictError: the id exists, or a term is taken.
        NotFoundError: ``replace`` of an id the glossary does not have.
    """
    mine = next((c for c in glossary.concepts if c.id == edit.id), None)
    if mine is not None and not replace:
        raise ConflictError(f"the glossary has a concept {edit.id!r} already; replace it "
                            "(kb concepts add --replace, PUT /api/concepts/{id}) or choose "
                            "another id", fields=("id",))
    if mine is None and replace:
        raise NotFoundError(f"the glossary has no concept {edit.id!r} to replace",
                            fields=("id",))
    if mine is not None and mine.kind != "concept":
        raise ConflictError(f"{edit.id!r} is one of the glossary's {mine.kind}s, not a "
                            "concept; edit corpus/glossary.yaml to change it", fields=("id",))
    taken, where = [], []
    for other in glossary.concepts:
        if other.id == edit.id:
            continue
        for lang, terms in edit.terms.items():
            theirs = {fold(t) for t in other.terms.get(lang, [])}
            clash = [term for term in terms if fold(term) in theirs]
            taken += [f"the {LANG_NAMES[lang]} term {term!r} belongs to "
                      f"{_KINDS[other.kind]} {other.id!r}" for term in clash]
            where += [f"terms.{lang}"] if clash and f"terms.{lang}" not in where else []
    if taken:  # all at once: one call to fix them, not one a call (QA14)
        raise ConflictError("; ".join(taken) + " already; a term names one concept",
                            fields=tuple(where))


_KINDS = {"concept": "the concept", "topic": "the glossary's topic",
          "word": "the glossary's question word", "name": "the glossary's brand name"}


def extended(glossary: Glossary, edit: ConceptEdit) -> ConceptEdit:
    """``edit``'s terms added to those of the concept with its id, which it then
    replaces: a term or a language more, without typing the others again (QA14).

    Raises:
        NotFoundError: the glossary has no concept with that id.
    """
    mine = next((c for c in glossary.concepts if c.id == edit.id and c.kind == "concept"),
                None)
    if mine is None:
        raise NotFoundError(f"the glossary has no concept {edit.id!r} to extend",
                            fields=("id",))
    terms = {}
    for lang in SUPPORTED:
        both = [*mine.terms.get(lang, []), *edit.terms.get(lang, [])]
        first: dict[str, str] = {}
        for t in both:  # the preferred (first) term stays first (QA15)
            first.setdefault(fold(t), t)
        terms[lang] = list(first.values())
    names = {lang: n for lang, n in mine.names.items() if n and mine.terms.get(lang)}
    return concept_edit(edit.id, terms, {**names, **edit.names})


def _kept_names(glossary: Glossary, edit: ConceptEdit) -> ConceptEdit:
    """``edit`` with the display names of the concept it replaces, where it gives none
    and that language's first term stays: editing a card's terms on the Concepts page
    turned "KPIs (key performance indicators)" into "KPI"."""
    mine = next((c for c in glossary.concepts if c.id == edit.id), None)
    if mine is None:
        return edit
    kept = {lang: mine.names[lang] for lang in SUPPORTED
            if lang not in edit.names and mine.names.get(lang) and edit.terms.get(lang)
            and mine.terms.get(lang) and fold(mine.terms[lang][0]) == fold(edit.terms[lang][0])}
    return dataclasses.replace(edit, names={**kept, **edit.names}) if kept else edit


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096  # one concept a line, as the file is written by hand
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _entry(edit: ConceptEdit) -> Any:
    """The concept as the file writes its others: names as one flow mapping, each
    language's terms as one flow sequence."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    concept = edit.to_concept()
    names = CommentedMap((lang, _text(concept.names[lang])) for lang in _FILE_ORDER
                         if edit.terms.get(lang) or edit.names.get(lang))
    names.fa.set_flow_style()
    terms = CommentedMap()
    for lang in _FILE_ORDER:
        if edit.terms.get(lang):
            seq = CommentedSeq(_text(t) for t in edit.terms[lang])
            seq.fa.set_flow_style()
            terms[lang] = seq
    return CommentedMap([("id", _text(edit.id)), ("names", names), ("terms", terms)])


def _text(value: str) -> Any:
    """``value`` quoted when the reader would take it for something else. ruamel writes
    YAML 1.2, and the glossary is read with PyYAML's YAML 1.1, where `no`, `on` and
    `Yes` are booleans and `9:30` is 570 (QA15: the concept `no` came back as "False",
    and could then be neither removed nor replaced)."""
    import yaml
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    try:
        plain = yaml.safe_load(value) == value and not value.startswith(("'", '"'))
    except yaml.YAMLError:
        plain = False
    return value if plain else SingleQuotedScalarString(value)


def _load(path: Path) -> Any:
    y = _yaml()
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER + "concepts:\n"
    data = y.load(text)
    if data is None:
        data = y.load(_HEADER + "concepts:\n")
    if not hasattr(data, "get"):
        raise BadInputError(f"{path}: the glossary is not a mapping of concepts, words "
                            "and names; fix it by hand first")
    if data.get("concepts") is None:
        from ruamel.yaml.comments import CommentedSeq

        data["concepts"] = CommentedSeq()
    return data


def _dump(path: Path, data: Any) -> None:
    out = io.StringIO()
    _yaml().dump(data, out)
    atomic_write_text(path, out.getvalue())


def write_concept(path: Path, edit: ConceptEdit, *, replace: bool = False,
                  extend: bool = False, expect: str | None = None) -> Concept:
    """Add ``edit`` to the glossary file (or replace the concept with its id, in
    place; ``extend``: add its terms to that concept's), after :func:`clashes`. Returns
    the concept as search will read it. ``expect``: the version of the concept the
    editor read (``Concept.version``); a replace of any other is refused.

    Raises:
        KBError: the file does not parse (a hand edit to fix first), or what
            :func:`clashes` raises.
        StaleError: the concept is no longer at version ``expect``.
    """
    with _locked(path):
        glossary = load_glossary(path)
        if expect is not None:
            _check_version(glossary, edit.id, expect)
        if extend:
            edit, replace = extended(glossary, edit), True
        clashes(glossary, edit, replace=replace)
        if replace:
            edit = _kept_names(glossary, edit)
        data = _load(path)
        items = data["concepts"]
        at = next((i for i, item in enumerate(items) if str(item.get("id")) == edit.id), None)
        if at is None:
            items.append(_entry(edit))
        else:
            items[at] = _entry(edit)
        _dump(path, data)
    return edit.to_concept()


def delete_concept(path: Path, concept_id: str, *, expect: str | None = None) -> Concept:
    """Take the concept ``concept_id`` out of the glossary file (``expect``: as for
    :func:`write_concept`).

    Raises:
        NotFoundError: the glossary has no such concept.
        ConflictError: it is one of the glossary's topics, words or names, not a concept.
        StaleError: it is no longer at version ``expect``.
    """
    with _locked(path):
        glossary = load_glossary(path)
        mine = next((c for c in glossary.concepts if c.id == concept_id), None)
        if mine is None:
            raise NotFoundError(f"the glossary has no concept {concept_id!r}")
        if expect is not None:
            _check_version(glossary, concept_id, expect)
        if mine.kind != "concept":
            raise ConflictError(f"{concept_id!r} is one of the glossary's {mine.kind}s, not "
                                "a concept; edit corpus/glossary.yaml to change it",
                                fields=("id",))
        data = _load(path)
        items = data["concepts"]
        at = next((i for i, item in enumerate(items) if str(item.get("id")) == concept_id),
                  None)
        if at is None:  # a hand-written id that YAML reads otherwise ("no": False)
            raise ConflictError(f"the concept {concept_id!r} is written in the glossary "
                                "file in a way kb cannot edit; edit the file by hand")
        _keep_removed(path, items[at])
        del items[at]
        _dump(path, data)
    return mine


def _check_version(glossary: Glossary, concept_id: str, expect: str) -> None:
    """Refuse an edit made from another version of the concept than the stored one
    (``*``: any; a concept that is gone is left to the caller's 404)."""
    mine = next((c for c in glossary.concepts if c.id == concept_id), None)
    if mine is not None and expect not in ("*", mine.version):
        terms = "; ".join(f"{lang}: {', '.join(t)}" for lang, t in mine.terms.items() if t)
        raise StaleError(
            f"the concept {concept_id!r} was changed since you read it (your version "
            f"{expect}, now {mine.version}; its terms now: {terms}); nothing was saved, so "
            "that change is not undone. Merge your change into its terms, and save again",
            current=mine.version)


REMOVED_FILE = Path(".removed") / "glossary-removed.yaml"  # under the corpus directory


def _keep_removed(path: Path, item: Any) -> None:
    """Append a removed concept's entry, as the file had it, to
    ``.removed/glossary-removed.yaml`` beside the glossary: a removed article's file
    goes to ``.removed/`` too, and a removed concept was gone for good (QA15)."""
    import time

    from ruamel.yaml.comments import CommentedSeq

    kept = path.parent / REMOVED_FILE
    kept.parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    _yaml().dump(CommentedSeq([item]), out)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with kept.open("a", encoding="utf-8") as f:  # held under the glossary's lock
        f.write(f"# removed {stamp}; to restore, copy it back under `concepts:`\n")
        f.write(out.getvalue())


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One edit at a time, across processes: two servers (or a server and the CLI)
    adding a concept each must not write over each other's."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(path.with_name(f".{path.name}.lock")), timeout=30):
            yield
    except Timeout:
        raise ConflictError("another edit of the glossary is running; try again") from None
