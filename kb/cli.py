"""The command line: thin commands over KnowledgeBase. Domain errors become one line."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kb.chunking import unmark
from kb.errors import ArticleError, ConfigError, IndexMismatchError, KBError
from kb.settings import Settings

if TYPE_CHECKING:  # the CLI imports the pipeline lazily, so that --help stays fast
    from kb.core import IngestReport, KnowledgeBase


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]  # type: ignore[no-any-return]


def _open(  # type: ignore[no-untyped-def]
    ctx: click.Context, *, check: bool = True, must_exist: bool = False
):
    """The knowledge base of ``--index``. ``must_exist``: for commands that only read or
    remove, where creating an empty index at a mistyped path would hide the typo."""
    from kb.core import KnowledgeBase
    from kb.errors import NotFoundError

    settings = _settings(ctx)
    if must_exist and not (settings.index_dir / "kb.sqlite").exists():
        raise NotFoundError(
            f"no index at {settings.index_dir}; build one with `kb ingest` (or check "
            "--index / KB_INDEX_DIR)"
        )
    return KnowledgeBase.open(settings=settings, check=check)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into one clear line on stderr and exit status 1. With
    ``--json``, the line is the API's error body on stdout instead,
    ``{"ok": false, "error", "status"}``. The ids close to a missing one follow on stderr."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            # A database damaged inside shows up only when a query reads the damaged
            # pages: said as opening it says it (QA24a F4: a 54-line traceback, and
            # nothing on stdout with --json). Any other database error is a bug: raised.
            if (damage := _damaged(exc)) is None:
                raise
            _fail(damage, as_json=bool(kwargs.get("as_json")))
        except KBError as exc:
            _fail(exc, as_json=bool(kwargs.get("as_json")))

    return wrapper


def _damaged(exc: sqlite3.DatabaseError) -> KBError | None:
    from kb.store import damaged

    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    if not obj:
        return None
    return damaged(exc, obj["settings"].index_dir / "kb.sqlite")


def _fail(exc: KBError, *, as_json: bool) -> None:
    """The one translation of a domain error: a line on stderr (the API's JSON body on
    stdout with --json), the ids close to a missing one, exit status 1."""
    if as_json:
        click.echo(json.dumps(exc.to_dict(), ensure_ascii=False))
    else:
        click.echo(f"error: {exc.message}", err=True)
    close = getattr(exc, "suggestions", ())
    if close:
        click.echo("did you mean:\n" + "\n".join(f"  {i}  {t}" for i, t in close), err=True)
    sys.exit(1)


_UNITS = {"preparing": "article", "analyzing": "article", "embedding": "text",
          "indexing": "step"}


def _width() -> int:
    """The terminal's columns; 0 when it does not say (a pty made by `script`, some
    CI runners): tqdm then drew nothing but blank lines until the end (QA13)."""
    import os

    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


LINE_EVERY = 30.0  # s between progress lines in a log


@contextmanager
def progress_bar(desc: str) -> Iterator[Callable[[str, int, int], None]]:
    """tqdm bars on stderr fed by KnowledgeBase progress callbacks, one per stage.

    When stderr is not a terminal (a log file, CI, ``make run`` piped), redrawn bars
    would fill the log with carriage returns; each stage then prints one line as it ends,
    and one every ``LINE_EVERY`` s while it runs (QA23a F2: embedding a 2 MB text, a log
    showed nothing for half an hour).
    """
    from tqdm import tqdm

    live = sys.stderr.isatty() and _width() > 0
    bar: tqdm | None = None  # type: ignore[type-arg]
    current: tuple[str, int] | None = None
    done_so_far, started = 0, time.perf_counter()
    said = started  # when a line was last printed

    def finish() -> None:
        if bar is not None:
            bar.close()
        elif current is not None:
            stage, total = current
            unit = _UNITS.get(stage, "item")
            took = time.perf_counter() - started
            click.echo(f"{desc}: {stage} {done_so_far}/{total} {unit}(s) in {took:.1f}s",
                       err=True)

    def update(stage: str, done: int, total: int) -> None:
        nonlocal bar, current, done_so_far, started, said
        if (stage, total) != current:
            finish()
            current, started, bar = (stage, total), time.perf_counter(), None
            said = started
            if live:
                unit = _UNITS.get(stage, "item")
                bar = tqdm(total=total, desc=f"{desc}: {stage}", unit=unit, file=sys.stderr)
        done_so_far = done
        if bar is not None:
            bar.n = done
            bar.refresh()
        elif 0 < done < total and (now := time.perf_counter()) - said >= LINE_EVERY:
            said = now
            unit = _UNITS.get(stage, "item")
            click.echo(f"{desc}: {stage} {done}/{total} {unit}(s), {now - started:.0f}s so "
                       "far", err=True)

    try:
        yield update
    finally:
        finish()


class _Commands(click.Group):
    """The command group; with ``--json``, a usage error (a missing QUERY, an unknown
    option) is the same JSON error body on stdout as every other failure, so a script
    that reads stdout gets JSON either way (exit status 2, as click's usage errors)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["kb.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if not ctx.meta.get("kb.json"):
                raise
            click.echo(json.dumps({"ok": False, "error": exc.format_message(), "status": 400},
                                  ensure_ascii=False))
            ctx.exit(exc.exit_code)


_EPILOG = """\b
Examples:
  kb ingest corpus/                      build or update the index from a folder
  kb search "churn" --lang de,en -k 5    passages in German and English
  kb ask "크로스셀링이란?"               a cited answer, in any of the four languages
  kb ask --stdin --json < questions.txt  many questions, one model load, JSON lines
  kb serve --port 8000                   the web UI and the JSON API

\b
--index, --model and -v go before the command: kb -v --index /tmp/idx search upselling.
Each command loads the model (a few seconds); for many queries use --stdin, or the
server's API.

\b
Environment: KB_INDEX_DIR (the index), KB_CORPUS_DIR (the articles and glossary.yaml),
KB_MODEL, KB_ENCODER_BACKEND, KB_ADMIN_TOKEN (writes over HTTP), NO_COLOR (no bold).
Exit status: 0 done, 1 an error (one line on stderr, or JSON with --json), 2 a usage
error.
"""


@click.group(cls=_Commands, epilog=_EPILOG,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kb", message="kb %(version)s")
@click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    envvar="KB_INDEX_DIR",
    help=f"Index directory (default: $KB_INDEX_DIR, else {Settings().index_dir}).",
)
@click.option(
    "--model",
    envvar="KB_MODEL",
    help="'embedded' (default), or any sentence-transformers model id or directory.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what the pipeline does.")
@click.pass_context
def cli(ctx: click.Context, index_dir: Path | None, model: str | None, verbose: bool) -> None:
    """kb: a multilingual (ko/en/de/vi) marketing knowledge base."""
    import logging

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # faiss says at INFO which of its builds it loads, and a ModuleNotFoundError on the
    # way that reads like a failure (QA23b F12): not what -v is for.
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    try:
        ctx.obj = {"settings": Settings.from_env(index_dir=index_dir, model=model)}
    except KBError as exc:  # a bad KB_* value: one line, like every other error
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-families", is_flag=True, help="Skip translation-family detection.")
@click.option(
    "--reindex-if-stale",
    is_flag=True,
    help="If the index was built with another model, encoder or chunker, rebuild it "
    "from the corpus directory first instead of stopping; if its derived indexes do not "
    "load, rebuild them from the database.",
)
@click.pass_context
@handle_errors
def ingest(
    ctx: click.Context, paths: tuple[Path, ...], no_families: bool, reindex_if_stale: bool
) -> None:
    """Add or update articles from files or directories (default: the corpus directory)."""
    from kb import adding

    settings = _settings(ctx)
    targets = list(paths) or [settings.corpus_dir]
    kb = None
    try:
        # Opening checks the chunker, analyzer and format versions; loading the model
        # checks that the index was built with it.
        kb = _open(ctx)
        _ = kb.encoder
    except IndexMismatchError as exc:
        # `make run` passes the flag, so an index left by an older kb (another encoder
        # default or analyzer, say) is rebuilt on start rather than refused. It never
        # prunes: an article ingested from outside the corpus directory is rebuilt from
        # the text the index holds.
        if not reindex_if_stale:
            raise
        click.echo(f"stale index: {exc}\nrebuilding it from {settings.corpus_dir}", err=True)
        if kb is not None:  # None: opening itself refused
            kb.close()
        kb = _open(ctx, check=False)
        _reindex(kb, [settings.corpus_dir], families=not no_families)  # errors: see below
        kb.close()
        kb = _open(ctx)
    # A published derived index that does not load (deleted, truncated) is stale too:
    # repaired on disk here, or every process rebuilds it in memory at every start
    # (QA24a F8). `make run` passes the flag.
    if reindex_if_stale and kb.repair_derived():
        click.echo(f"repaired the derived indexes of {settings.index_dir} (rebuilt from the "
                   "database)", err=True)
    adding.recover_pending(kb)  # a save a crash cut short (it logs what it does)
    with progress_bar("ingest") as progress:
        report = kb.ingest_paths(targets, progress=progress)
    for err in report.errors:
        click.echo(f"error: {err}", err=True)
    click.echo(
        f"ingested {len(report.added)} new, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged article(s); {_embedded(report)} in "
        f"{report.seconds:.1f}s; {len(report.errors)} error(s)"
    )
    for note in adding.same_text_notes(kb, report.added):
        click.echo(f"note: {note}", err=True)
    if not no_families and (report.added or report.updated):
        for a, b, score in adding.link_new(kb, report.added + report.updated):
            click.echo(f"translation family: {a} ~ {b} ({_link_score(score)})")
    if report.errors:
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-families", is_flag=True, help="Skip translation-family detection.")
@click.option(
    "--prune",
    is_flag=True,
    help="Drop indexed articles that are not in PATHS (default: kept, rebuilt from the "
    "text the index stored).",
)
@click.pass_context
@handle_errors
def reindex(ctx: click.Context, paths: tuple[Path, ...], no_families: bool, prune: bool) -> None:
    """Rebuild the whole index from the corpus (after a model or chunker change)."""
    kb = _open(ctx, check=False)
    report = _reindex(
        kb, list(paths) or [_settings(ctx).corpus_dir], families=not no_families, prune=prune
    )
    for err in report.errors:
        click.echo(f"error: {err}", err=True)
    if report.errors:
        sys.exit(1)


def _reindex(
    kb: KnowledgeBase, paths: list[Path], *, families: bool, prune: bool = False
) -> IngestReport:
    """Rebuild from ``paths``, then find translation families again: a rebuild gives
    every chunk a new id, so the old links (which pair chunk ids) are gone."""
    from kb import adding

    with progress_bar("reindex") as progress:
        report = kb.reindex(paths, prune=prune, progress=progress)
    click.echo(
        f"reindexed {len(report.added) + len(report.updated)} article(s); "
        f"{_embedded(report)} in {report.seconds:.1f}s; {len(report.errors)} error(s)"
    )
    where = ", ".join(str(p) for p in paths)
    if report.kept:
        click.echo(
            f"kept {len(report.kept)} article(s) not found in {where}, or whose file did "
            f"not read (see the errors), rebuilt from the text the index holds: "
            f"{_ids(report.kept)} (`kb reindex --prune` drops them, `kb remove ID` one of them)"
        )
    if report.removed:
        click.echo(f"dropped {len(report.removed)} article(s) not in {where}: "
                   f"{_ids(report.removed)}")
    if families:
        for a, b, score in adding.detect_all(kb):
            click.echo(f"translation family: {a} ~ {b} ({_link_score(score)})")
    return report


def _link_score(score: float) -> str:
    from kb.families import is_partial_link

    if is_partial_link(score):
        return f"partial translation, score {score:.2f}"
    return f"translation score {score:.2f}"


def _embedded(report: IngestReport) -> str:
    """What a write embedded: a rebuild that embeds nothing said "embedded 0 chunk(s)",
    which read as if nothing was indexed (QA)."""
    if not report.chunks_embedded and not report.sentences_embedded:
        return "nothing to embed (the stored vectors of unchanged texts were reused)"
    return (f"embedded {report.chunks_embedded} chunk(s) and {report.sentences_embedded} "
            "sentence(s)")


def _ids(ids: list[str], show: int = 10) -> str:
    more = len(ids) - show
    return ", ".join(ids[:show]) + (f" and {more} more" if more > 0 else "")


def _read_as(result: dict[str, Any]) -> str:
    """The query's language in words: QA read "(lang de)" as the language filter, which
    is ``--lang`` and searches every language unless given."""
    from kb.language import LANG_NAMES

    return f"read as {LANG_NAMES.get(result['lang'], result['lang'])}"


_timed = [0]  # queries shown so far by this process


def _took(result: dict[str, Any]) -> str:
    """The query's time; the first one also loaded the model, the index and Kiwi (QA9:
    "3139 ms" for a search that takes 3 ms once loaded)."""
    _timed[0] += 1
    return f"{result['took_ms']:.0f} ms" + (", loading included" if _timed[0] == 1 else "")


def _print_restored(result: dict[str, Any]) -> None:
    """What the query was searched as, when it was rewritten (and how to stop that)."""
    if result.get("restored"):
        click.echo(f"searched as: {result['restored']}  (Vietnamese diacritics restored; "
                   "--exact searches as typed)")
    if result.get("corrected"):
        click.echo(f"searched for: {result['corrected']}  (spelling corrected; --exact "
                   "searches as typed)")


def _print_hits(result: dict[str, Any]) -> None:
    click.echo(f"query: {result['query']}  ({_read_as(result)}, {_took(result)})")
    _print_restored(result)
    if not result["hits"]:
        click.echo("no passages found")
    elif result.get("found") is False:
        click.echo("no passage clearly matches this query; the closest:")
    for i, h in enumerate(result["hits"], result.get("offset", 0) + 1):
        # The section of the sentence shown, not the one the passage starts in (QA18:
        # "§ 상류 마케팅" over a sentence on downstream marketing): the JSON's own.
        section = h.get("snippet_section") or h["section"] or ""
        where = f"{h['article_id']} [{h['lang']}]" + (f" § {section}" if section else "")
        click.echo(f"\n{i}. {h['title']} — {where}  score {h['score']:.4f}")
        click.echo("   " + _snippet(h))
        if h.get("translations"):
            also = ", ".join(f"{t['article_id']} [{t['lang']}]" for t in h["translations"])
            click.echo(f"   translated in: {also}")
        if h.get("copies"):
            copies = ", ".join(f"{t['article_id']} [{t['lang']}]" for t in h["copies"])
            click.echo(f"   same text in: {copies}")
    if result.get("more"):
        click.echo(f"\nmore: --offset {result['offset'] + len(result['hits'])}")


def _bold() -> bool:
    """Whether the query's words may be bold: not under NO_COLOR (no-color.org: any
    value) or TERM=dumb (QA23b F14). click drops the escapes when stdout is no tty."""
    import os

    return not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _snippet(hit: dict[str, Any], limit: int = 300) -> str:
    """The hit's best sentence (its start when it has none), on one line, the query's
    words in bold on a terminal; without Markdown's heading marks, as the web shows
    passages (QA: "# Auswahl")."""
    from kb.snippets import marked  # numpy and the analyzers: not at the CLI's import

    text = hit["text"]
    span = hit.get("snippet") or {"start": 0, "end": len(text)}
    a, b = span["start"], min(span["end"], span["start"] + limit)
    marks = [(m["start"], m["end"]) for m in hit.get("marks", ())]
    bold = _bold()
    parts = [click.style(piece, bold=True) if mark and bold else piece
             for piece, mark in marked(text, marks, a, b)]
    line = " ".join(unmark("".join(parts)).split())
    return ("… " if a > 0 else "") + line + (" …" if b < len(text) else "")


def _query_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options `search` and `ask` share."""
    for option in reversed([
        click.option("--lang", "langs", help="Only passages in these languages, e.g. ko,de."),
        click.option("--tag", "tags", multiple=True,
                     help="Only passages of articles with this tag (repeat it for any of "
                          "several; case-insensitive, as `kb list --tag`)."),
        click.option("--article", "articles", multiple=True,
                     help="Only passages of this article id (repeat it for several)."),
        click.option("--query-lang", help="Override the detected language of the query."),
        click.option("--exact", is_flag=True,
                     help="Search the query as typed: no misspelled word corrected, no "
                          "Vietnamese diacritics restored."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        click.option(
            "--stdin",
            "from_stdin",
            is_flag=True,
            help="Read one query per line from stdin; with --json, print one object per "
                 "input line (a blank line gives {\"skipped\": \"blank line\"}).",
        ),
    ]):
        fn = option(fn)
    return fn


def _each_query(
    query: str | None,
    from_stdin: bool,
    as_json: bool,
    run: Callable[[str], dict[str, Any]],
    show: Callable[[dict[str, Any]], None],
    failed: dict[str, Any],
    name: str = "QUERY",
) -> None:
    """Run ``run`` on QUERY, or on each non-blank line of stdin. A bad line is reported
    (as ``failed`` plus the error, in JSON) and the next lines still run; in JSON a blank
    line gives ``failed`` marked as skipped, not a failure. ``name``: the argument's
    name, for usage errors."""
    if from_stdin and query is not None:
        raise click.UsageError(f"give a {name} or --stdin, not both")
    if not from_stdin:
        if query is None:
            raise click.UsageError(f"give a {name}, or --stdin")
        try:
            res = run(query)
        except KBError as exc:
            if not as_json:
                raise
            # The object a failed --stdin line gives: a script reads one shape.
            click.echo(json.dumps(_failure(query, exc, failed), ensure_ascii=False, indent=2))
            raise SystemExit(1) from None
        if as_json:
            click.echo(json.dumps(res, ensure_ascii=False, indent=2))
        else:
            show(res)
        return
    bad = shown = 0
    # Bytes, decoded here: a line that is not UTF-8 must fail alone, not end the run.
    lines = (raw.decode("utf-8", "surrogateescape") for raw in sys.stdin.buffer)
    for line in lines:
        if not line.strip():
            # JSON keeps one object per input line, so that a script can pair them
            # (QA: skipped blank lines shifted every answer after them).
            if as_json:
                click.echo(json.dumps({"query": "", "skipped": "blank line", **failed}))
            continue
        try:
            res = run(line.strip())
        except KBError as exc:
            bad += 1
            res = _failure(line.strip(), exc, failed)
        if as_json:
            click.echo(json.dumps(res, ensure_ascii=False))
        elif "error" in res:
            click.echo(f"error: {res['query']}: {res['error']}", err=True)
        else:
            # A rule between results, and no "more: --offset" (QA23b F16: one answer's
            # sources ran into the next question, and the offset applies to no batch).
            click.echo(("\n" + "─" * 40 + "\n") if shown else "", nl=False)
            show({**res, "more": False})
            shown += 1
    if bad:
        raise SystemExit(1)  # the other lines' results are out; the run still failed


def _failure(query: str, exc: KBError, failed: dict[str, Any]) -> dict[str, Any]:
    """A query that failed, in JSON: the API's error body plus the query and ``failed``
    (the empty result: no hits, no answer)."""
    # Echoed back as it can be printed: bytes that were not UTF-8 become U+FFFD.
    shown = query.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return {"ok": False, "query": shown, **exc.to_dict(), **failed}


def _lang_list(langs: str | None) -> list[str] | None:
    """``--lang ko,de`` to checked, sorted codes; no option, no filter. A value with no
    language in it ("", ",,") is an error, not "every language"."""
    from kb.errors import BadInputError
    from kb.language import SUPPORTED, check_lang

    if langs is None:
        return None
    codes = sorted({check_lang(x) for x in langs.split(",") if x.strip()})
    if not codes:
        raise BadInputError(f"--lang needs at least one language: {', '.join(SUPPORTED)}")
    return codes


@cli.command()
@click.argument("query", required=False)
@click.option("-k", default=5, show_default=True, type=click.IntRange(1, 100),
              help="Number of passages (1-100).")
@_query_options
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, 99),
              help="Skip this many passages (the next page); offset + k is at most 100.")
@click.option("--translations", type=click.Choice(["fold", "keep"]), default="fold",
              show_default=True,
              help="fold: leave out a passage that translates one ranked above it (it is "
                   "listed under that one); keep: list every passage.")
@click.pass_context
@handle_errors
def search(
    ctx: click.Context,
    query: str | None,
    k: int,
    langs: str | None,
    tags: tuple[str, ...],
    articles: tuple[str, ...],
    query_lang: str | None,
    exact: bool,
    as_json: bool,
    from_stdin: bool,
    offset: int,
    translations: str,
) -> None:
    """Search the knowledge base: the passages that best match QUERY.

    For many queries, --stdin reads one a line and loads the model once."""
    lang_list = _lang_list(langs)
    kb = _open(ctx, must_exist=True)
    kb.within(tags, articles)  # an unknown tag or id: one error, not one per --stdin line

    def run(q: str) -> dict[str, Any]:
        return kb.search(q, k=k, langs=lang_list, query_lang=query_lang,
                         translations=translations, offset=offset, explain=True,
                         exact=exact, tags=tags, articles=articles).to_dict()

    _each_query(query, from_stdin, as_json, run, _print_hits, {"hits": []})


@cli.command()
@click.argument("question", required=False)
@_query_options
@click.pass_context
@handle_errors
def ask(
    ctx: click.Context,
    question: str | None,
    langs: str | None,
    tags: tuple[str, ...],
    articles: tuple[str, ...],
    query_lang: str | None,
    exact: bool,
    as_json: bool,
    from_stdin: bool,
) -> None:
    """Answer QUESTION with the articles' own sentences, each cited to its passage
    (what the web UI's ask page and /api/ask give).

    For many questions, --stdin reads one a line and loads the model once."""
    lang_list = _lang_list(langs)
    kb = _open(ctx, must_exist=True)
    kb.within(tags, articles)  # an unknown tag or id: one error, not one per --stdin line

    def run(q: str) -> dict[str, Any]:
        started = time.perf_counter()
        out = kb.ask(q, langs=lang_list, query_lang=query_lang, exact=exact, tags=tags,
                     articles=articles).to_dict()
        out["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return out

    _each_query(question, from_stdin, as_json, run, _print_answer, {"found": False},
                name="QUESTION")


def _print_answer(res: dict[str, Any]) -> None:
    click.echo(f"question: {res['query']}  ({_read_as(res)}, {_took(res)})")
    _print_restored(res)
    click.echo()
    if not res["found"]:
        click.echo(res["message"])
        return
    if res.get("note"):
        click.echo(f"note: {res['note']}\n")
    if res.get("languages"):  # before the answer, as the Ask page says it (QA19 F8)
        langs = res["languages"]
        click.echo(f"languages: {langs['text']}")
        for b in langs["bridges"]:  # the asker's own name first, as the Ask page has it
            names = sorted(b["names"], key=lambda n: n["lang"] != langs["lang"])
            click.echo("  " + " = ".join(n["name"] for n in names)
                       + f"  (kb concepts show {b['concept_id']})")
        click.echo()
    for s in res["answer"]:
        cites = "".join(f"[{n}]" for n in s["citations"])
        # A later sentence of a list item, indented under it (QA: it read as a new point).
        indent = "  " if s.get("in_item") else ""
        click.echo(f"{indent}{' '.join(s['text'].split())} {cites}")
    click.echo(f"\n{res['message']}\n\nSources:")
    for c in res["citations"]:
        # Every heading a quoted sentence sits under, as the Ask page's card names them.
        names = list(dict.fromkeys(sp["section"] for sp in c["spans"] if sp["section"]))
        where = f"{c['article_id']} [{c['lang']}]" + (f" § {' → '.join(names)}" if names else "")
        click.echo(f"[{c['n']}] {c['title']} — {where}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
@handle_errors
def stats(ctx: click.Context, as_json: bool) -> None:
    """Articles, chunks per language, the model and the index size."""
    s = _open(ctx, must_exist=True).stats()
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"index:    {s['index_dir']} (version {s['version']}, {s['index_bytes'] / 1e6:.1f} MB)"
    )
    click.echo(f"model:    {s['model']} (dim {s['dim']}, {s['model_fingerprint']})")
    click.echo(
        f"articles: {s['articles']}  "
        + ", ".join(f"{k}: {v}" for k, v in sorted(s["articles_per_lang"].items()))
    )
    click.echo(
        f"chunks:   {s['chunks']}  "
        + ", ".join(f"{k}: {v}" for k, v in sorted(s["chunks_per_lang"].items()))
    )


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(
    path_type=Path, exists=True, dir_okay=False, allow_dash=True))
@click.option("--title", help="Title (default: from the file).")
@click.option("--lang", help="Language ko/en/de/vi (default: detected).")
@click.option("--source", help="Source URL.")
@click.option("--tags", help="Comma-separated tags ('' clears them on a --replace).")
@click.option("--id", "article_id", help="The article's id (one file only; default: from "
              "the file name).")
@click.option("--replace", is_flag=True, help="Replace an existing article with the same id.")
@click.option("--preview", is_flag=True, help="Show what would be added; change nothing.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object a file, as POST /api/articles answers (errors too).")
@click.pass_context
@handle_errors
def add(ctx: click.Context, files: tuple[Path, ...], title: str | None, lang: str | None,
        source: str | None, tags: str | None, article_id: str | None, replace: bool,
        preview: bool, as_json: bool) -> None:
    """Add articles (.txt .md .html .docx .pdf) to the corpus and index them at once.
    A FILE of '-' reads one article from stdin, as text pasted on the web's Add page
    (its id then comes from the title)."""
    from kb import adding

    if article_id is not None and len(files) != 1:
        raise click.UsageError("--id names one article: give one file with it")
    if sum(str(f) == "-" for f in files) > 1:
        raise click.UsageError("stdin ('-') holds one article: give '-' once")
    kb = _open(ctx)
    tag_tuple = (tuple(t.strip() for t in tags.split(",") if t.strip()) if tags is not None
                 else None)  # "" is given: it clears the tags on a replace
    failed = 0
    for f in files:
        pasted = str(f) == "-"
        try:
            if pasted:
                data, filename = _read_stdin(), None  # None: pasted text, as on the web
            elif not f.is_file():  # reading a named pipe or a device would wait forever
                raise ArticleError(str(f), "not a regular file")
            else:
                data, filename = f.read_bytes(), f.name
            article, kind = adding.prepare(kb, data, filename=filename, title=title,
                                           lang=lang, source=source, tags=tag_tuple,
                                           article_id=article_id)
            if preview:
                dry = adding.dry_run(kb, article, kind=kind, replace=replace)
                if as_json:
                    click.echo(json.dumps({"ok": True, **dry.to_dict(with_text=True)},
                                          ensure_ascii=False))
                    continue
                label = adding.PASTED if pasted else f
                click.echo(f"{label}: id {article.id}, {kind}, lang {article.lang}, "
                           f"{dry.chunks} chunk(s), title {article.title!r}")
                for warning in dry.warnings:
                    click.echo(f"warning: {warning}", err=True)
                click.echo(article.text)
                continue
            with progress_bar("add") as progress:
                res = adding.add(kb, article, kind=kind, replace=replace, progress=progress)
        except KBError as exc:
            if as_json:  # one line a file: the API's error body, and which file
                click.echo(json.dumps({**exc.to_dict(), "file": str(f)}, ensure_ascii=False))
            else:
                click.echo(f"error: {exc.message}", err=True)
            failed += 1
            continue
        if as_json:
            click.echo(json.dumps({"ok": True, **res.to_dict()}, ensure_ascii=False))
            continue
        fam = ", ".join(f"{x['article_id']} ({x['score']:.2f}"
                        f"{', partial' if x.get('partial') else ''})" for x in res.family)
        done = "unchanged" if res.unchanged else "replaced" if res.exists else "added"
        click.echo(f"{done} {res.article_id} [{res.lang}] {res.chunks} chunk(s) in "
                   f"{res.seconds:.1f}s" + (f"; translation of {fam}" if fam else ""))
        for warning in res.warnings:
            click.echo(f"warning: {warning}", err=True)
    if failed:
        sys.exit(1)


def _read_stdin() -> bytes:
    """The article on stdin, as bytes: the upload path finds the encoding, as for a file."""
    if sys.stdin.isatty():
        click.echo("kb add: paste the article, then press Ctrl-D on a line of its own",
                   err=True)
    return sys.stdin.buffer.read()


@cli.command("list")
@click.option("--lang", "langs", help="Only articles in these languages, e.g. ko,de.")
@click.option("--tag", help="Only articles with this tag (case-insensitive).")
@click.option("--json", "as_json", is_flag=True,
              help="Print what GET /api/articles returns for the same filters.")
@click.option("--ids", "-q", "ids_only", is_flag=True,
              help="Print only the ids, one a line, for scripts: "
                   "kb list --tag old -q | xargs -n1 kb remove")
@click.pass_context
@handle_errors
def list_(ctx: click.Context, langs: str | None, tag: str | None, as_json: bool,
          ids_only: bool) -> None:
    """The library: one line per article with its id, language, passages, date added,
    title and tags (what the web's Library page lists), under a header and over a count."""
    lang_list = _lang_list(langs)
    kb = _open(ctx, must_exist=True)
    items = kb.articles(langs=lang_list, tag=tag)
    if as_json:
        click.echo(json.dumps({"count": len(items), "articles": items}, ensure_ascii=False,
                              indent=2))
        return
    if ids_only:  # QA23b F16: `kb list | wc -l` counted the header and the count too
        for a in items:
            click.echo(a["id"])
        return
    filtered = bool(lang_list or tag)
    if not items:
        click.echo("no article matches these filters (`kb list` shows them all)" if filtered
                   else "the library is empty: add articles with `kb add` or `kb ingest`")
        return
    width = max(len(str(a["id"])) for a in items)
    click.echo(f"{'id':<{width}}  lang  passages  added       title  [tags]")
    for a in items:
        tags = f"  [{', '.join(a['tags'])}]" if a["tags"] else ""  # type: ignore[arg-type]
        click.echo(f"{a['id']!s:<{width}}  {a['lang']!s:<4}  {a['chunks']!s:>8}  "
                   f"{str(a['added_at'] or '')[:10]:<10}  {a['title']}{tags}")
    total = len(kb.articles()) if filtered else len(items)
    click.echo(f"{len(items)} of {total} article(s)" if filtered else f"{total} article(s)")


@cli.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True,
              help="Print what GET /api/articles/{id} returns.")
@click.pass_context
@handle_errors
def show(ctx: click.Context, article_id: str, as_json: bool) -> None:
    """One article: its metadata, its translations in other languages, and its text."""
    from kb import adding
    from kb.errors import NotFoundError
    from kb.language import LANG_NAMES

    kb = _open(ctx, must_exist=True)
    try:
        art = kb.article(article_id)
    except NotFoundError as exc:
        if as_json or exc.suggestions:  # JSON: the API's message; else the close ids
            raise
        raise NotFoundError(f"{exc.message}; `kb list` shows every article's id") from None
    family = adding.family_of(kb, str(art["id"]))
    if as_json:
        click.echo(json.dumps({**art, "family": family}, ensure_ascii=False, indent=2))
        return
    text = str(art["text"])
    added, updated = (str(art[k] or "")[:10] for k in ("added_at", "updated_at"))
    click.echo(f"{art['title']}\n")
    click.echo(f"id:       {art['id']}")
    click.echo(f"lang:     {art['lang']} ({LANG_NAMES.get(str(art['lang']), art['lang'])})")
    click.echo(f"source:   {art['source'] or '(none)'}")
    click.echo(f"tags:     {', '.join(art['tags']) or '(none)'}")  # type: ignore[arg-type]
    click.echo(f"added:    {added}" + (f" (updated {updated})" if updated != added else ""))
    click.echo(f"size:     {len(art['chunks'])} passage(s), "  # type: ignore[arg-type]
               f"{len(text):,} characters")
    also = [f"{x['lang']} {x['article_id']} ({x['title']})" for x in family]
    click.echo("also in:  " + ("\n          ".join(also) or "(no translation found)"))
    click.echo(f"\n{text}")


@cli.command()
@click.argument("article_id")
@click.option("--title", help="The new title.")
@click.option("--tags", help="The new tags, comma-separated ('' clears them).")
@click.option("--source", help="The new source.")
@click.option("--lang", help="The article's language (ko, en, de, vi).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, as PATCH answers.")
@click.pass_context
@handle_errors
def edit(ctx: click.Context, article_id: str, title: str | None, tags: str | None,
         source: str | None, lang: str | None, as_json: bool) -> None:
    """Change an article's title, tags, source or language; its text stays as it is
    (to change the text: kb add --replace)."""
    from kb import adding

    tag_list = [t for t in tags.split(",") if t.strip()] if tags is not None else None
    res = adding.edit(_open(ctx, must_exist=True), article_id, title=title, source=source,
                      tags=tag_list, lang=lang)
    if as_json:
        click.echo(json.dumps({"ok": True, **res.to_dict()}, ensure_ascii=False, indent=2))
        return
    # QA: an edit that changed nothing said "edited" all the same.
    done = "unchanged" if res.identical else "edited"
    click.echo(f"{done} {res.article_id} [{res.lang}]: title {res.title!r}, tags "
               f"{', '.join(res.tags) or '(none)'}, source {res.source or '(none)'}")
    for warning in res.warnings:
        click.echo(f"warning: {warning}", err=True)


@cli.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, as DELETE answers.")
@click.pass_context
@handle_errors
def remove(ctx: click.Context, article_id: str, as_json: bool) -> None:
    """Remove an article from the index (its file moves to corpus/.removed/)."""
    from kb import adding

    adding.remove(_open(ctx, must_exist=True), article_id)
    click.echo(json.dumps({"ok": True, "deleted": article_id}) if as_json
               else f"removed {article_id}")


@cli.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@handle_errors
def restore(ctx: click.Context, article_id: str, as_json: bool) -> None:
    """Put a removed article back: its last file in corpus/.removed/ returns to the
    corpus as it was, and is indexed again."""
    from kb import adding

    res = adding.restore(_open(ctx, must_exist=True), article_id)
    if as_json:
        click.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"restored {res.article_id} from {res.removed_file} to {res.file} "
               f"({res.chunks} passage{'s' if res.chunks != 1 else ''})")
    for f in res.family:
        click.echo(f"  translation: {f['article_id']} [{f['lang']}]")


@cli.command()
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.pass_context
@handle_errors
def backup(ctx: click.Context, dest: Path) -> None:
    """Copy the index's database into the directory DEST (created), consistently and
    safely while a server runs, with the writes still in kb.sqlite-wal.

    The derived indexes (derived-*/) are not copied: the first kb command on the copy
    rebuilds them from the database. To restore: stop kb, move the index directory
    aside, copy DEST in its place (KB_INDEX_DIR), start kb."""
    from kb.backup import backup as back_up

    settings = _settings(ctx)
    report = back_up(settings.index_dir, dest)
    click.echo(f"backed up {settings.index_dir / 'kb.sqlite'} (version {report.version}, "
               f"{report.articles} article(s), {report.size / 1e6:.1f} MB) to "
               f"{report.database}" + (" with manifest.json" if report.manifest else "")
               + f" in {report.seconds:.1f}s")
    click.echo("derived indexes not copied: the first kb command on the copy rebuilds "
               "them from the database (no re-embedding)", err=True)


@cli.command()
@click.option("--detect", is_flag=True, help="Run detection for every article first.")
@click.pass_context
@handle_errors
def families(ctx: click.Context, detect: bool) -> None:
    """Show the translation links between articles."""
    from kb import adding

    kb = _open(ctx, must_exist=True)
    if detect:
        adding.detect_all(kb)
    rows = kb.store.links()
    if not rows:
        click.echo("no translation links")
    for r in rows:
        click.echo(f"{r['a']} ~ {r['b']}: {r['kind']} score {r['score']:.2f}")


@cli.command("eval")
@click.option(
    "--suite",
    "suites",
    multiple=True,
    type=click.Choice(["seeds", "xquad-mono", "xquad-cross", "xquad-mixed", "xquad-split",
                       "korquad"]),
    help="Suites to run (default: all).",
)
@click.option(
    "--shared",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=lambda: str(Path(__file__).resolve().parent.parent.parent / "shared"),
    show_default="../shared",
    help="Directory holding eval/ and bench/.",
)
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    help="Keep the eval indexes here and reuse them (default: a temporary dir).",
)
@click.option("--sample", type=int, help="At most N questions per index, for a quick run.")
@click.option("--json-out", type=click.Path(path_type=Path), help="Write the results as JSON.")
@click.pass_context
@handle_errors
def eval_(
    ctx: click.Context,
    suites: tuple[str, ...],
    shared: Path,
    workdir: Path | None,
    sample: int | None,
    json_out: Path | None,
) -> None:
    """Measure retrieval quality: lexical, dense and the shipped hybrid, side by side."""
    import tempfile

    from kb import evaluation

    settings = _settings(ctx)
    chosen = list(suites) or list(evaluation.SUITES)
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
        ev = evaluation.Evaluator(
            shared,
            workdir or Path(tmp),
            settings=settings,
            sample=sample,
            log=lambda m: click.echo(m, err=True),
        )
        try:
            report = evaluation.run(chosen, ev, settings.corpus_dir)
        except FileNotFoundError as exc:
            if not str(exc.filename or "").startswith(str(shared)):
                raise
            raise ConfigError(
                f"{exc.filename}: not found; --shared must hold eval/ and bench/ as "
                "../shared does") from None
        finally:
            ev.close()
    click.echo(evaluation.markdown(report))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False))


class _EnvOption(click.Option):
    """An option that a ``KB_*`` variable can also set: a bad value taken from the
    variable is reported under the variable's name, and ``--help`` names the variable
    (QA24a F10: ``KB_PORT=abc`` said "Invalid value for '--port'", though no --port was
    given, and the help did not mention KB_PORT)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("show_envvar", True)
        super().__init__(*args, **kwargs)

    def get_error_hint(self, ctx: click.Context) -> str:
        from click.core import ParameterSource

        if ctx.get_parameter_source(self.name or "") is ParameterSource.ENVIRONMENT:
            return f"{self.envvar} (from the environment; {self.opts[0]} overrides it)"
        return super().get_error_hint(ctx)


def _given_as(ctx: click.Context, name: str, option: str, variable: str) -> str:
    """How the user set a serve option, to name it in a message: its variable or its option."""
    from click.core import ParameterSource

    return variable if ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT else option


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="KB_HOST",
              cls=_EnvOption, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              envvar="KB_PORT", cls=_EnvOption, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              envvar="KB_WORKERS", cls=_EnvOption,
              help="Worker processes. Each loads its own model and index (about 1 GB "
                   "resident with onnx-int8 and the seeds); they share the index "
                   "directory and pick up each other's writes.")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web UI and the JSON API (OpenAPI at /docs) with uvicorn.

    The log (stderr) has the time on every line (KB_LOG_FORMAT changes the format) and
    one line per write made over the web."""
    import logging.config
    import os

    import uvicorn

    from web import logs
    from web.app import create_app, open_kb

    settings = _settings(ctx)
    # before the model loads: a busy port fails at once
    _check_port(host, port, _given_as(ctx, "host", "--host", "KB_HOST"),
                _given_as(ctx, "port", "--port", "KB_PORT"))
    # One format from the first line on, the model load's included; uvicorn applies the
    # same in each worker process (QA24a F6).
    log_config = logs.config(settings.log_format,
                             verbose=bool(ctx.find_root().params.get("verbose")))
    logging.config.dictConfig(log_config)
    click.echo(f"kb: loading the model and index, then serving on http://{host}:{port}", err=True)
    if workers == 1:
        # Opened here, before uvicorn starts, rather than in its lifespan: an index built
        # by another encoder, an unknown KB_ENCODER_BACKEND or a damaged database is then
        # one error: line and exit status 1 (handle_errors), as a KB_MODEL mismatch is,
        # not a 47-line uvicorn traceback and exit status 3 (QA24a F5).
        kb = open_kb(settings)
        try:
            uvicorn.run(create_app(settings, kb=kb), host=host, port=port, log_level="info",
                        log_config=log_config)
        finally:
            kb.close()
        return
    # Worker processes open their own knowledge base, each in its lifespan, where a
    # failure is uvicorn's traceback in every worker and then an exit status of 0 from
    # this parent. So the model is loaded and checked against the index first (QA24a
    # F5), in a process of its own: loaded here, it left the parent ~350 MB larger for
    # as long as the server runs.
    _open(ctx).close()  # a KB_MODEL mismatch or a damaged database: at once
    _check_in_child(settings)
    # Worker processes build the app themselves, from the environment.
    os.environ.update(KB_INDEX_DIR=str(settings.index_dir), KB_MODEL=settings.model,
                      KB_ENCODER_BACKEND=settings.encoder_backend,
                      KB_SERVE_PARENT=str(os.getpid()))
    # uvicorn kills and restarts a worker that misses a health check for 5 s. A worker
    # loading its model on a busy machine can (a third worker was started in a test run
    # beside two other test processes on two cores): give it as long as a cold start.
    uvicorn.run("web.app:create_app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="info", log_config=log_config,
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_S)


WORKER_HEALTHCHECK_S = 30


def _check_in_child(settings: Settings) -> None:
    """Load the model in a short-lived process and check it fits the index; raise its
    KBError (message and status) here."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # as uvicorn starts its workers
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        problem = pool.submit(_start_problem, settings).result()
    if problem is not None:
        error = KBError(problem[0])
        error.status = problem[1]
        raise error


def _start_problem(settings: Settings) -> tuple[str, int] | None:
    """What would stop a worker from starting (in the child of _check_in_child)."""
    from kb.core import KnowledgeBase

    try:
        kb = KnowledgeBase.open(settings=settings)
        try:
            _ = kb.encoder
        finally:
            kb.close()
    except KBError as exc:
        return exc.message, exc.status
    return None


def _check_port(host: str, port: int, host_is: str = "--host",
                port_is: str = "--port") -> None:
    """Fail now if uvicorn could not listen there; ``host_is``, ``port_is``: how the
    user gave them (``KB_HOST`` or ``--host``), for the hint."""
    import errno
    import socket

    # The family uvicorn binds with: IPv6 only for an address with ':' in it.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except socket.gaierror as exc:  # not an address or a name this machine resolves
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} ({host_is} takes an "
                "address of this machine, such as 127.0.0.1 or 0.0.0.0)") from None
        except OSError as exc:
            hint = (f"is another server running there? choose another {port_is}"
                    if exc.errno == errno.EADDRINUSE else
                    f"{host_is} takes an address of this machine, such as 127.0.0.1 or 0.0.0.0"
                    if exc.errno == errno.EADDRNOTAVAIL else "")
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                              + (f" ({hint})" if hint else "")) from None


@cli.group()
def concepts() -> None:
    """The concept glossary (corpus/glossary.yaml): list, show, add or remove concepts.

    A concept's terms in several languages let a question in one language find articles
    in another ("Abwanderungsrate" reaches an English article on churn). Edits count from
    the next query, in a running server too."""


@concepts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print what GET /api/concepts returns.")
@click.pass_context
@handle_errors
def concepts_list(ctx: click.Context, as_json: bool) -> None:
    """Every concept with its terms per language (the glossary's words and brand names
    are not listed)."""
    from kb.glossary import load_glossary

    glossary = load_glossary(_settings(ctx).corpus_dir / "glossary.yaml")
    cards = [c.to_dict() for c in glossary.cards]
    if as_json:
        click.echo(json.dumps({"concepts": cards}, ensure_ascii=False, indent=2))
        return
    for c in cards:
        click.echo(c["id"])
        for lang, terms in c["terms"].items():
            click.echo(f"  {lang}  {', '.join(terms)}")
    click.echo(f"{len(cards)} concept(s)", err=True)


@concepts.command("show")
@click.argument("concept_id")
@click.option("--json", "as_json", is_flag=True,
              help="Print what GET /api/concepts/{id}/card returns.")
@click.pass_context
@handle_errors
def concepts_show(ctx: click.Context, concept_id: str, as_json: bool) -> None:
    """A concept's card, as the Concepts page shows it: its terms, its definition quoted
    from the articles, and in each language the sentence about it or the gap."""
    from kb.concepts import card_of
    from kb.links import card_json  # the page's links, as the API gives them

    kb = _open(ctx, must_exist=True)
    try:
        card = card_json(card_of(kb, concept_id))
    finally:
        kb.close()
    if as_json:
        click.echo(json.dumps(card, ensure_ascii=False, indent=2))
        return
    click.echo(f"{card['name']}  ({card['id']})")
    for lang, terms in card["terms"].items():
        click.echo(f"  {lang}  {', '.join(terms)}")
    d = card["definition"]
    click.echo("\ndefinition: " + (f"{d['text']}\n  — {d['title']} [{d['lang']}]  {d['href']}"
                                   if d else "no sentence in the articles defines it yet"))
    click.echo("\nsources:")
    for s in card["sources"]:
        if s["gap"]:
            click.echo(f"  {s['lang']}  {s['message']}")
            continue
        hit, where = s["passage"], s["sentence"]["section"]
        click.echo(f"  {s['lang']}  {hit['title']}" + (f" § {where}" if where else ""))
        click.echo(f"      {_snippet(hit)}")
        click.echo(f"      {s['href']}")
    click.echo("\nask: " + " · ".join(q["text"] for q in card["questions"]))


@concepts.command("add")
@click.argument("concept_id", required=False)
@click.option("--en", help="English terms, comma-separated; the first is its name.")
@click.option("--ko", help="Korean terms, comma-separated.")
@click.option("--de", help="German terms, comma-separated.")
@click.option("--vi", help="Vietnamese terms, comma-separated.")
@click.option("--replace", is_flag=True, help="Replace the concept with this id (its "
              "terms become these).")
@click.option("--extend", is_flag=True, help="Add these terms to the concept with this id.")
@click.option("--json", "as_json", is_flag=True, help="Print the saved concept as JSON.")
@click.pass_context
@handle_errors
def concepts_add(ctx: click.Context, concept_id: str | None, en: str | None, ko: str | None,
                 de: str | None, vi: str | None, replace: bool, extend: bool,
                 as_json: bool) -> None:
    """Add a concept (CONCEPT_ID: default from its English or first Latin term), e.g.
    kb concepts add churn --en "churn, churn rate" --de "Abwanderung, Kündigungsrate".
    With --extend, add terms to an existing one: kb concepts add churn --extend --vi
    "tỷ lệ rời bỏ"."""
    from kb.errors import BadInputError
    from kb.glossary_edit import concept_edit, write_concept

    if replace and extend:
        raise BadInputError("--replace or --extend, not both")
    if extend and not concept_id:
        raise BadInputError("--extend needs the id of the concept to extend")
    edit = concept_edit(concept_id, {"en": en, "ko": ko, "de": de, "vi": vi})
    concept = write_concept(_settings(ctx).corpus_dir / "glossary.yaml", edit,
                            replace=replace, extend=extend)
    if as_json:
        click.echo(json.dumps({"ok": True, **concept.to_dict()}, ensure_ascii=False))
        return
    langs = ", ".join(lang for lang, t in concept.terms.items() if t)
    done = "extended" if extend else "replaced" if replace else "added"
    click.echo(f"{done} concept {concept.id} ({langs}); it counts from the next search")
    if len([t for t in concept.terms.values() if t]) < 2:
        click.echo("note: terms in one language only carry no question across languages; "
                   "add them in the others too (--ko, --en, --de, --vi)", err=True)


@concepts.command("match")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print the matches as JSON.")
@click.pass_context
@handle_errors
def concepts_match(ctx: click.Context, query: str, as_json: bool) -> None:
    """Which glossary entries QUERY names, as search matches them: to check a new
    concept's terms before relying on them (QA14: "고객 이탈" also matched questions on
    cart abandonment, "장바구니 이탈 고객", and a German "Messe" matched "messen")."""
    from kb.glossary import load_glossary

    glossary = load_glossary(_settings(ctx).corpus_dir / "glossary.yaml")
    matched = [c.to_dict() for c in glossary.match(query)]
    if as_json:
        click.echo(json.dumps({"query": query, "matches": matched}, ensure_ascii=False))
        return
    for c in matched:
        click.echo(f"{c['id']} ({c['kind']})")
    if not matched:
        click.echo("no glossary entry is named in it", err=True)


@concepts.command("remove")
@click.argument("concept_id")
@click.pass_context
@handle_errors
def concepts_remove(ctx: click.Context, concept_id: str) -> None:
    """Take a concept out of the glossary."""
    from kb.glossary_edit import REMOVED_FILE, delete_concept

    concept = delete_concept(_settings(ctx).corpus_dir / "glossary.yaml", concept_id)
    click.echo(f"removed concept {concept.id}")
    click.echo(f"(its entry is kept in {_settings(ctx).corpus_dir / REMOVED_FILE})", err=True)


def main() -> None:
    cli(prog_name="kb")


if __name__ == "__main__":
    main()
