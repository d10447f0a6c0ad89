"""The CLI: thin commands, one clear line per error, non-zero exits, JSON output."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from click.testing import CliRunner

from kb.cli import cli


def test_ingest_bad_files_one_line_each_and_good_files_still_ingested(run, tmp_path):
    d = tmp_path / "incoming"
    d.mkdir()
    (d / "empty.md").write_bytes(b"")
    (d / "picture.md").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (d / "latin1.txt").write_bytes("Préférences des clients et stratégie.".encode("latin-1"))
    (d / "good.txt").write_text("Retail media networks sell ads on store websites and apps.")
    (tmp_path / "nothing").mkdir()
    res = run("ingest", str(d), str(tmp_path / "nothing"))
    assert res.exit_code == 1
    err_lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(err_lines) == 4
    assert any("empty.md" in ln and "empty" in ln for ln in err_lines)
    assert any("picture.md" in ln and "binary" in ln for ln in err_lines)
    assert any("latin1.txt" in ln and "UTF-8" in ln and "`kb add`" in ln for ln in err_lines)
    assert any("nothing" in ln and "has no articles (.txt, .md" in ln for ln in err_lines)
    assert "1 new" in res.stdout
    assert re.search(r"embedded 1 chunk\(s\) and \d+ sentence\(s\)", res.stdout)
    # stderr is not a terminal here: one line per stage instead of redrawn bars.
    assert "\r" not in res.stderr
    for stage in ("preparing", "analyzing", "embedding", "indexing"):
        assert re.search(rf"^ingest: {stage} \d+/\d+ \w+\(s\) in [\d.]+s$", res.stderr, re.M), stage
    hits = json.loads(run("search", "retail media ads", "--json").stdout)["hits"]
    assert hits[0]["article_id"] == "good"
    # The seed articles are still there and searchable.
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["articles"] == 6


def test_search_json_hit_fields(run):
    res = run("search", "cross-selling", "-k", "3", "--json")
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert set(out) == {"query", "restored", "corrected", "lang", "hits", "offset", "more",
                        "found", "evidence", "took_ms"} and len(out["hits"]) == 3
    for h in out["hits"]:
        assert {"article_id", "title", "lang", "section", "text", "start", "end", "score",
                "chunk_id"} <= set(h)


def test_search_labels_a_hit_as_its_json_does(run):
    """QA21 F9: `kb search` labels a hit with its snippet's section (QA18); the JSON
    says the same in `snippet_section`, so that a script can too."""
    hits = json.loads(run("search", "upselling", "-k", "10", "--json").stdout)["hits"]
    text = run("search", "upselling", "-k", "10").stdout
    labels = re.findall(r"^\d+\. .* — (\S+) \[\w+\](?: § (.*?))?  score", text, re.M)
    assert [(h["article_id"], h["snippet_section"] or "") for h in hits] == labels
    assert any(h["snippet_section"] != h["section"] for h in hits)


def test_search_offset_numbers_the_next_page(run):
    first = run("search", "marketing", "-k", "3")
    assert first.exit_code == 0 and "\nmore: --offset 3" in first.stdout
    page = run("search", "marketing", "-k", "3", "--offset", "3")
    assert page.exit_code == 0 and "\n4. " in page.stdout and "\n1. " not in page.stdout
    assert "more: --offset 6" in page.stdout


def test_search_stdin_one_json_object_per_line(run):
    res = run("search", "--json", "--stdin", stdin="upselling\n\nBündelung\n")
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert [x["query"] for x in lines] == ["upselling", "", "Bündelung"]  # line for line
    assert [len(x["hits"]) for x in lines] == [5, 0, 5] and lines[1]["skipped"]
    assert res.exit_code == 0  # a blank line is no failure


def test_ask_prints_a_cited_answer_or_says_there_is_none(run, fake_kb_dir):
    res = run("ask", "크로스셀링 KPI")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert out.startswith("question: 크로스셀링 KPI  (read as Korean,")
    body, sources = out.split("\nSources:\n")
    # Every sentence ends with its citation numbers, and every number has a source line.
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    listed = re.findall(r"^\[(\d+)\] (.+) — (\S+) \[(\w\w)\]", sources, re.M)
    assert cited and cited == {int(n) for n, *_ in listed}
    assert {a for _, _, a, _ in listed} == {"ko-cross-selling-existing-customers"}

    res = run("ask", "weather in Paris")
    assert res.exit_code == 0 and "No good answer" in res.stdout and "Sources" not in res.stdout


def test_ask_json_is_what_the_api_returns(run, fake_kb_dir):
    from kb.core import KnowledgeBase

    res = json.loads(run("ask", "What is upselling?", "--json").stdout)
    kb = KnowledgeBase.open()
    expected = kb.ask("What is upselling?").to_dict()
    kb.close()
    assert res.pop("took_ms") >= 0 and res == expected and res["found"]

    stdin = "What is upselling?\n\n" + "x" * 600 + "\n"
    res = run("ask", "--json", "--stdin", stdin=stdin)
    first, blank, bad = (json.loads(x) for x in res.stdout.splitlines())  # one per line
    assert first["query"] == "What is upselling?" and first["citations"]
    assert blank == {"query": "", "skipped": "blank line", "found": False}
    assert bad["found"] is False and bad["error"].startswith("the query")
    assert bad["ok"] is False and res.exit_code == 1  # a failed line fails the run
    res = run("ask", "marketing", "--lang", "ko,xx")
    assert res.exit_code == 1 and "unknown language 'xx'" in res.stderr


def test_search_says_how_it_read_the_query_not_a_filter(run):
    """QA read "(lang de)" in `kb search`'s first line as the language filter."""
    out = run("search", "Wie arbeiten Marketing und Vertrieb zusammen?").stdout
    assert out.startswith("query: Wie arbeiten Marketing und Vertrieb zusammen?  (read as "
                          "German,")


@pytest.mark.parametrize("query", ["", "x" * 600, "???", "\x00\x1f", "upselling\udcff"])
def test_bad_query_is_one_line_not_a_traceback(run, query):
    res = run("search", query)
    assert res.exit_code == 1
    assert res.stderr.startswith("error: the query") and "Traceback" not in res.stderr


@pytest.mark.parametrize("command", ["search", "ask"])
@pytest.mark.parametrize("query", ["", "???", "x" * 600, "upselling\udcff"])
def test_a_bad_query_with_json_is_the_json_error_of_a_stdin_line(run, command, query):
    """`--stdin --json` printed a JSON error object per bad line, but a bad QUERY with
    --json printed a plain-text error."""
    res = run(command, "--json", query)
    assert res.exit_code == 1 and res.stderr == ""
    out = json.loads(res.stdout)
    assert out["ok"] is False and out["error"].startswith("the query") and out["status"] == 400
    assert out == ({"hits": []} if command == "search" else {"found": False}) | out
    if query.strip():  # a blank --stdin line is skipped, not an error
        res = CliRunner().invoke(cli, [command, "--json", "--stdin"],
                                 input=query.encode("utf-8", "surrogateescape") + b"\n")
        assert json.loads(res.stdout) == out and res.exit_code == 1


@pytest.mark.parametrize("command", ["search", "ask"])
@pytest.mark.parametrize("langs", [",,", "", " , "])
def test_a_lang_option_without_a_language_is_an_error(run, command, langs):
    """`--lang ,,` was read as no filter at all: every language."""
    message = "--lang needs at least one language: ko, en, de, vi"
    res = run(command, "upselling", "--lang", langs)
    assert res.exit_code == 1 and res.stderr == f"error: {message}\n" and res.stdout == ""
    res = run(command, "upselling", "--lang", langs, "--json")
    assert res.exit_code == 1
    assert json.loads(res.stdout) == {"ok": False, "error": message, "status": 400}


def test_a_query_and_stdin_together_are_a_usage_error(run):
    res = CliRunner().invoke(cli, ["search", "upselling", "--stdin"], input="bundling\n")
    assert res.exit_code == 2 and "not both" in res.stderr


def test_search_and_ask_filter_by_tag_and_article(run):
    """QA21 F7: `kb search --tag --article`, as /api/search's tag= and article=."""
    res = run("search", "upselling", "-k", "6", "--tag", "Sales Alignment", "--json")
    assert res.exit_code == 0, res.output
    hits = json.loads(res.stdout)["hits"]
    assert len(hits) == 6 and {h["article_id"] for h in hits} == {
        "de-upstream-downstream-marketingleiter", "vi-thuong-nguon-ha-nguon-tiep-thi"}
    en = "en-upstream-vs-downstream-marketing"
    res = run("search", "upselling", "-k", "3", "--article", en)
    assert res.exit_code == 0 and res.stdout.count(f"— {en} [en]") == 3
    res = run("ask", "What is upselling?", "--tag", "upselling", "--json")
    assert {c["article_id"] for c in json.loads(res.stdout)["citations"]} == {
        "ko-cross-selling-existing-customers"}
    # An unknown tag or id is one error line, also before a --stdin run.
    res = run("search", "upselling", "--tag", "pricing")
    assert res.exit_code == 1 and res.stderr.startswith("error: no article is tagged 'pricing'")
    res = run("search", "--stdin", "--article", "nope", "--json", stdin="upselling\nbundling\n")
    assert res.exit_code == 1
    assert json.loads(res.stdout)["error"].startswith("no article with id 'nope'")


def test_unknown_language_filter(run):
    res = run("search", "marketing", "--lang", "ko,xx")
    assert res.exit_code == 1 and "unknown language 'xx'" in res.stderr


def test_a_stale_rebuild_keeps_articles_ingested_from_outside_the_corpus(run, tmp_path):
    """`make run` rebuilds a stale index from corpus/; an article ingested from
    elsewhere must survive it (it did not: the rebuild synced the index to corpus/)."""
    from kb.core import KnowledgeBase

    outside = tmp_path / "elsewhere" / "retail-media.txt"
    outside.parent.mkdir()
    outside.write_text("Retail media networks sell ads on store websites and apps.")
    assert run("ingest", str(outside), "--no-families").exit_code == 0
    kb = KnowledgeBase.open(check=False)
    kb.store.set_meta("analyzer_version", "0")
    kb.close()

    res = run("ingest", "--reindex-if-stale", "--no-families")
    assert res.exit_code == 0, res.output
    assert "reindexed 6 article(s)" in res.stdout
    assert "kept 1 article(s)" in res.stdout and "retail-media" in res.stdout
    hits = json.loads(run("search", "retail media networks", "--json").stdout)["hits"]
    assert hits[0]["article_id"] == "retail-media"

    # An explicit prune drops it, and says so.
    res = run("reindex", "--prune", "--no-families")
    assert res.exit_code == 0 and "dropped 1 article(s)" in res.stdout
    # QA: a rebuild that reuses every vector said "embedded 0 chunk(s)".
    assert "nothing to embed (the stored vectors of unchanged texts were reused)" in res.stdout
    assert "retail-media" in res.stdout
    hits = json.loads(run("search", "retail media", "--json").stdout)["hits"]
    assert "retail-media" not in {h["article_id"] for h in hits}


@pytest.mark.parametrize(
    "args", [("search", "upselling"), ("ask", "upselling"), ("stats",), ("families",),
             ("remove", "x"), ("list",), ("show", "x")])
def test_reading_commands_refuse_a_missing_index_instead_of_creating_one(
    tmp_path, monkeypatch, args
):
    typo = tmp_path / "indx"
    monkeypatch.setenv("KB_MODEL", "fake")
    res = CliRunner().invoke(cli, ["--index", str(typo), *args])
    assert res.exit_code == 1 and res.stderr.startswith(f"error: no index at {typo}")
    assert not typo.exists()


def test_search_on_an_empty_index_says_nothing_was_found(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "fake")
    empty = tmp_path / "index"
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    KnowledgeBase.open(empty, settings=Settings(index_dir=empty, model="fake")).close()
    res = CliRunner().invoke(cli, ["--index", str(empty), "search", "upselling"])
    assert res.exit_code == 0 and "no passages found" in res.stdout


def test_add_reports_added_replaced_and_errors(run, tmp_path, monkeypatch):
    from .conftest import CORPUS

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    monkeypatch.setenv("KB_CORPUS_DIR", str(corpus))
    f = tmp_path / "retail-media.txt"
    f.write_text("Retail media networks sell ads on store websites and apps to brands.")
    res = run("add", str(f))
    assert res.exit_code == 0 and res.stdout.startswith("added retail-media [en]")
    assert (corpus / "retail-media.md").exists()

    res = run("add", str(f))  # the same file again
    assert res.exit_code == 1 and "with this exact text: nothing to add" in res.stderr
    f.write_text("Retail media networks sell ads on store websites and apps to shops.")
    res = run("add", str(f))  # the same id, another text
    assert res.exit_code == 1 and "already exists" in res.stderr
    f.write_text("Retail media networks sell ads on store websites, apps and screens in shops.")
    res = run("add", str(f), "--replace")
    assert res.exit_code == 0 and res.stdout.startswith("replaced retail-media [en]")
    # The same tag limits as the web's Add page, with the same words.
    res = run("add", str(f), "--replace", "--tags", ",".join(f"t{i}" for i in range(21)))
    assert res.exit_code == 1 and "at most 20 tags of at most 60 characters" in res.stderr
    # A field sent empty clears it, tags too (they were kept).
    run("add", str(f), "--replace", "--tags", "media,retail")
    assert "tags:\n- media\n- retail\n" in (corpus / "retail-media.md").read_text()
    res = run("add", str(f), "--replace", "--tags", "")
    assert res.exit_code == 0 and "keeps the tags" not in res.stdout + res.stderr
    assert "tags:" not in (corpus / "retail-media.md").read_text()
    # QA: two files of the same name could not both be added (no --id).
    other = tmp_path / "other" / "retail-media.txt"
    other.parent.mkdir()
    other.write_text("Retail media screens in supermarkets show offers next to the shelf.")
    res = run("add", str(other), "--id", "retail-screens")
    assert res.exit_code == 0 and res.stdout.startswith("added retail-screens [en]")
    assert (corpus / "retail-screens.md").exists() and (corpus / "retail-media.md").exists()
    res = run("add", str(f), str(other), "--id", "both")
    assert res.exit_code == 2 and "give one file with it" in res.stderr
    res = run("search", "retail", "-k", "101")
    assert res.exit_code == 2 and "1<=x<=100" in res.stderr
    hits = json.loads(run("search", "screens in shops", "--json").stdout)["hits"]
    assert hits[0]["article_id"] == "retail-media" and "screens" in hits[0]["text"]


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [("KB_MAX_UPLOAD_BYTES", "lots", "KB_MAX_UPLOAD_BYTES must be a size"),
     ("KB_VECTOR_INDEX", "bogus", "unknown vector index kind 'bogus'"),
     ("KB_VECTOR_NPROBE", "abc", "KB_VECTOR_NPROBE must be an integer")])
def test_a_bad_setting_is_one_line_not_a_traceback(run, monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    res = CliRunner().invoke(cli, ["stats"])
    assert res.exit_code == 1 and res.stderr.startswith(f"error: {message}")


def test_sizes_in_settings_take_units(monkeypatch):
    from kb.settings import Settings

    for value, size in (("10MB", 10 * 2**20), ("10 MiB", 10 * 2**20), ("500k", 500 * 1024),
                        ("1_000_000", 1_000_000), ("1.5G", 3 * 2**29)):
        monkeypatch.setenv("KB_MAX_UPLOAD_BYTES", value)
        assert Settings.from_env().max_upload_bytes == size, value


def test_stats(run):
    res = run("stats")
    assert "model:    fake" in res.stdout and "ko:" in res.stdout


def test_index_option_and_model_mismatch(run, fake_kb_dir):
    res = CliRunner().invoke(cli, ["--index", str(fake_kb_dir), "--model", "other", "stats"])
    # The command it names must parse: --index is a group option, before "reindex".
    assert res.exit_code == 1 and f"`kb --index {fake_kb_dir} reindex`" in res.stderr


@pytest.mark.parametrize(
    ("key", "old", "refusal"),
    [
        ("model_fingerprint", "fake-v0", "different weights"),  # an older encoder
        # Checked when the index is opened, before the encoder loads: `make run` stopped
        # here after an analyzer change instead of rebuilding.
        ("analyzer_version", "0", "analyzer_version 0"),
        ("chunker_version", "0", "chunker_version 0"),
    ],
)
def test_ingest_rebuilds_a_stale_index_only_when_asked(run, key, old, refusal):
    from kb.core import KnowledgeBase

    kb = KnowledgeBase.open(check=False)  # KB_INDEX_DIR: the run fixture's copy
    kb.store.set_meta(key, old)
    kb.close()
    res = CliRunner().invoke(cli, ["ingest"])
    assert res.exit_code == 1 and refusal in res.stderr

    res = run("ingest", "--reindex-if-stale", "--no-families")
    assert res.exit_code == 0, res.output
    assert "stale index" in res.stderr and "reindexed 5 article(s)" in res.stdout
    assert "0 new, 0 updated, 5 unchanged" in res.stdout  # then an ordinary ingest
    assert run("ingest").exit_code == 0  # the index is current again
    assert json.loads(run("search", "cross-selling", "--json").stdout)["hits"]


def test_ingest_on_a_terminal_draws_progress_bars(tmp_path, fake_kb_dir):
    """On a terminal the stages are live tqdm bars (checked through a real pty)."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    index = tmp_path / "index"
    shutil.copytree(fake_kb_dir, index)
    doc = tmp_path / "new.txt"
    doc.write_text("Retail media networks sell ads on store websites and apps.")
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # rows, cols
    env = dict(os.environ, KB_MODEL="fake", KB_INDEX_DIR=str(index))
    argv = [sys.executable, "-c", "from kb.cli import main; main()", "ingest", str(doc)]
    proc = subprocess.run(argv, stderr=follower, stdout=subprocess.PIPE, env=env, timeout=120)
    os.close(follower)
    err = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the pty is drained and closed
            break
        if not chunk:
            break
        err += chunk
    os.close(leader)
    assert proc.returncode == 0, err
    text = err.decode()
    assert "\r" in text and "ingest: embedding" in text and "100%|" in text


def test_an_outside_file_cannot_take_over_a_corpus_articles_id(run, tmp_path):
    """Ids come from file names: `kb ingest elsewhere/<stem>.txt` overwrote the corpus
    article of that name, and the next corpus ingest silently put it back."""
    victim = json.loads(run("search", "cross-selling KPI", "--json").stdout)["hits"][0]
    outside = tmp_path / "elsewhere" / f"{victim['article_id']}.txt"
    outside.parent.mkdir()
    outside.write_text("Webinars generate leads when the topic answers a buyer's question.")
    res = run("ingest", str(outside), "--no-families")
    assert res.exit_code == 1
    assert f"the article id '{victim['article_id']}' belongs to" in res.stderr
    assert "--replace" in res.stderr and "0 new, 0 updated" in res.stdout
    hits = json.loads(run("search", "cross-selling KPI", "--json").stdout)["hits"]
    assert hits[0]["article_id"] == victim["article_id"]
    assert hits[0]["text"] == victim["text"]
    # With an id of its own, the same file is a new article.
    outside.write_text("---\nid: webinars\n---\nWebinars generate leads for B2B teams.")
    res = run("ingest", str(outside), "--no-families")
    assert res.exit_code == 0 and "1 new" in res.stdout


def test_stdin_lines_that_are_not_utf8_fail_alone(run):
    """A cp949 line crashed the run with a tokenizer TypeError and a traceback."""
    stdin = "업셀링이란?".encode("cp949") + b"\n" + "업셀링이란?\n".encode()
    res = CliRunner().invoke(cli, ["search", "--stdin", "--json"], input=stdin)
    bad, good = (json.loads(x) for x in res.stdout.splitlines())
    assert bad["error"].startswith("the query is not UTF-8") and bad["hits"] == []
    assert "\ufffd" in bad["query"] and good["query"] == "업셀링이란?" and good["hits"]
    assert res.exit_code == 1 and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["ask"])
    assert res.exit_code == 2 and "give a QUESTION, or --stdin" in res.stderr


def test_reindex_and_families_of_an_empty_knowledge_base(run, tmp_path, monkeypatch):
    """After the last article is removed, `kb reindex` and `kb families --detect`
    crashed in the centroid average (AxisError)."""
    from kb.core import KnowledgeBase

    kb = KnowledgeBase.open()
    for a in kb.articles():
        kb.remove(a["id"])
    kb.close()
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    monkeypatch.setenv("KB_CORPUS_DIR", str(empty))
    res = run("families", "--detect")
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    res = run("reindex")
    assert "Traceback" not in res.output and "reindexed 0 article(s)" in res.stdout


def test_ingest_reads_html_in_a_directory_as_uploads_do(run, tmp_path):
    """A directory's .html files were skipped without a word, and one named on the
    command line was indexed with its markup as text."""
    d = tmp_path / "incoming"
    d.mkdir()
    (d / "seo-basics.html").write_text(
        "<html><head><title>SEO basics</title></head><body><h1>SEO basics</h1><p>Search "
        "engine optimisation helps pages rank for the words buyers type.</p>"
        "<script>alert(1)</script></body></html>")
    res = run("ingest", str(d), "--no-families")
    assert res.exit_code == 0 and "1 new" in res.stdout, res.output
    hit = json.loads(run("search", "search engine optimisation", "--json").stdout)["hits"][0]
    assert (hit["article_id"], hit["title"]) == ("seo-basics", "SEO basics")
    assert "<" not in hit["text"] and "alert" not in hit["text"]


def test_add_refuses_what_is_not_a_regular_file(run, tmp_path):
    """`kb add fifo.txt` waited forever on the pipe."""
    import os

    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    res = run("add", str(fifo))
    assert res.exit_code == 1 and "not a regular file" in res.stderr


def test_serve_on_a_busy_port_fails_before_loading_anything(run, monkeypatch):
    import socket

    def no_open(ctx):  # the model must not load for a server that cannot listen
        raise AssertionError("opened the knowledge base")

    monkeypatch.setattr("kb.cli._open", no_open)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = run("serve", "--port", str(port))
    assert res.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in res.stderr and "another --port" in res.stderr


@pytest.mark.parametrize("host", ["999.1.1.1", "no-such-host.invalid"])
def test_serve_on_a_host_that_is_not_here_says_what_host_takes(run, monkeypatch, host):
    """QA: --host 999.1.1.1 said "Name or service not known (is another server running
    there? choose another --port)"."""
    monkeypatch.setattr("kb.cli._open", lambda ctx: pytest.fail("opened the knowledge base"))
    res = run("serve", "--host", host, "--port", "8797")
    assert res.exit_code == 1
    assert f"cannot listen on {host}:8797" in res.stderr and "--host takes an address" in res.stderr
    assert "another --port" not in res.stderr


def test_eval_with_a_shared_dir_without_its_data_is_one_line(run, tmp_path):
    res = run("eval", "--suite", "seeds", "--shared", str(tmp_path), "--sample", "1")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "--shared must hold eval/ and bench/" in res.stderr


def test_edit_changes_metadata_and_keeps_the_text(run, tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    monkeypatch.setenv("KB_CORPUS_DIR", str(corpus))
    (tmp_path / "retail-media.txt").write_text(
        "Retail media networks sell ads on store websites and apps.")
    assert run("add", str(tmp_path / "retail-media.txt")).exit_code == 0
    res = run("edit", "retail-media", "--title", "Retail media", "--tags", "ads,Ads,retail")
    assert res.exit_code == 0, res.output
    assert "edited retail-media [en]: title 'Retail media', tags ads, retail" in res.stdout
    hit = json.loads(run("search", "retail media networks", "--json").stdout)["hits"][0]
    assert hit["title"] == "Retail media" and hit["text"].startswith("Retail media networks")
    assert "title: Retail media" in (corpus / "retail-media.md").read_text()
    again = run("edit", "retail-media", "--title", "Retail media")  # QA: said "edited"
    assert again.stdout.startswith("unchanged retail-media [en]: title 'Retail media'")
    same = run("add", str(tmp_path / "retail-media.txt"), "--replace", "--id", "retail-media")
    assert same.exit_code == 0 and same.stdout.startswith("unchanged retail-media"), same.output
    assert run("edit", "retail-media").stderr.startswith("error: nothing to change")
    assert run("edit", "nope", "--title", "x").exit_code == 1
    assert "unknown language" in run("edit", "retail-media", "--lang", "fr").stderr


def test_corpus_files_are_never_refused_their_own_id(run, tmp_path, monkeypatch):
    """An upload indexed before uploads were stored under their corpus path has the name
    it was uploaded with ("report.txt"); a file of that name in the working directory
    must not make the corpus's own file look like an intruder."""
    from kb.core import KnowledgeBase

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    monkeypatch.setenv("KB_CORPUS_DIR", str(corpus))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.txt").write_text("Retail media networks sell ads on store sites.")
    assert run("add", "report.txt").exit_code == 0
    kb = KnowledgeBase.open()
    with kb.store.transaction() as conn:  # as an older version stored it
        conn.execute("UPDATE articles SET path = 'report.txt' WHERE id = 'report'")
    kb.close()
    (corpus / "report.md").write_text("Retail media networks sell ads on store websites.")
    res = run("ingest", str(corpus), "--no-families")
    assert res.exit_code == 0 and "1 updated" in res.stdout, res.output


def test_an_outside_file_cannot_take_an_old_uploads_id_either(run, tmp_path, monkeypatch):
    """An upload indexed before uploads were stored under their corpus path has only its
    upload name as its path; its corpus file still owns the id."""
    from kb.core import KnowledgeBase

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    monkeypatch.setenv("KB_CORPUS_DIR", str(corpus))
    (tmp_path / "report.txt").write_text("Retail media networks sell ads on store sites.")
    assert run("add", str(tmp_path / "report.txt")).exit_code == 0
    kb = KnowledgeBase.open()
    with kb.store.transaction() as conn:  # as an older version stored it
        conn.execute("UPDATE articles SET path = 'report.txt' WHERE id = 'report'")
    kb.close()
    outside = tmp_path / "elsewhere" / "report.txt"
    outside.parent.mkdir()
    outside.write_text("Webinars generate leads for business teams when the topic answers a "
                       "question that buyers already ask, week after week.")
    res = run("ingest", str(outside), "--no-families")
    assert res.exit_code == 1 and "belongs to" in res.stderr and "report.md" in res.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["search", "--json"], "give a QUERY, or --stdin"),
    (["ask", "upselling", "--json", "--bogus"], "No such option '--bogus'."),
    (["nope", "--json"], "No such command 'nope'."),
])
def test_a_usage_error_with_json_is_a_json_error(run, args, message):
    """QA: with --json, click's usage errors were its plain-text usage on stderr, while
    every other failure was a JSON body on stdout."""
    res = run(*args)
    assert res.exit_code == 2
    assert json.loads(res.stdout) == {"ok": False, "error": message, "status": 400}
    plain = run(*[a for a in args if a != "--json"])
    assert plain.exit_code == 2 and plain.stdout == "" and message in plain.stderr


def test_search_prints_passages_without_markdown_heading_marks(run, tmp_path, monkeypatch):
    """QA: "# Influencer-Marketing: Leitfaden Influencer-Marketing wirkt …"."""
    monkeypatch.setenv("KB_CORPUS_DIR", str(tmp_path / "corpus"))
    (tmp_path / "influencer.md").write_text(
        "# Influencer marketing\n\nMicro influencers reach engaged niche audiences.\n\n"
        "## Choosing partners\n\nCheck reach, engagement and credibility before a deal.")
    assert run("add", str(tmp_path / "influencer.md")).exit_code == 0
    out = run("search", "influencer partners engagement credibility", "-k", "1").stdout
    assert "Check reach, engagement and credibility" in out and "#" not in out.split("\n", 2)[2]
    # Labelled with the section of the sentence shown, not the one the passage starts
    # in (QA18: "§ 상류 마케팅" over a sentence on downstream marketing).
    assert "§ Choosing partners" in out


def test_search_shows_the_sentence_that_holds_the_query_words(run, tmp_path, monkeypatch):
    """QA16: the CLI printed a passage's first 300 characters, and the words that matched
    came later in 11 of 16 keyword searches (`kb search "Nike 플라이니트"` showed no Nike)."""
    monkeypatch.setenv("KB_CORPUS_DIR", str(tmp_path / "corpus"))
    filler = " ".join(f"Sentence {i} talks about budgets and planning cycles." for i in range(9))
    (tmp_path / "retail.md").write_text(
        f"# Retail notes\n\n{filler} Zalando tested a loyalty tier in Berlin. "
        "The rest is about budgets again.")
    assert run("add", str(tmp_path / "retail.md")).exit_code == 0
    out = run("search", "Zalando", "-k", "1").stdout
    assert "… Zalando tested a loyalty tier in Berlin. …" in out
    hit = json.loads(run("search", "Zalando", "-k", "1", "--json").stdout)["hits"][0]
    marked = [hit["text"][m["start"]:m["end"]] for m in hit["marks"]]
    snippet = hit["text"][hit["snippet"]["start"]:hit["snippet"]["end"]]
    assert marked == ["Zalando"] and snippet == "Zalando tested a loyalty tier in Berlin."


def test_concepts_add_list_remove(run, tmp_path, monkeypatch):
    """`kb concepts` edits the glossary of the corpus directory."""
    from .conftest import CORPUS

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    monkeypatch.setenv("KB_CORPUS_DIR", str(corpus))
    res = run("concepts", "add", "--en", "retail media, retail media network",
              "--de", "Retail Media, Handelsmedien")
    assert res.exit_code == 0 and "added concept retail-media (en, de)" in res.stdout
    listed = json.loads(run("concepts", "list", "--json").stdout)["concepts"]
    mine = next(c for c in listed if c["id"] == "retail-media")
    assert mine["terms"] == {"en": ["retail media", "retail media network"],
                             "de": ["Retail Media", "Handelsmedien"]}
    assert "kpi" in {c["id"] for c in listed} and "example" not in {c["id"] for c in listed}
    again = run("concepts", "add", "retail-media", "--en", "retail media")
    assert again.exit_code == 1 and "has a concept 'retail-media' already" in again.stderr
    one = run("concepts", "add", "loyalty-card", "--en", "loyalty card")
    assert one.exit_code == 0 and "terms in one language only" in one.stderr
    bad = run("concepts", "add", "--json")
    assert bad.exit_code == 1 and json.loads(bad.stdout)["status"] == 400
    more = run("concepts", "add", "retail-media", "--extend", "--ko", "리테일 미디어")
    assert more.exit_code == 0 and "extended concept retail-media (ko, en, de)" in more.stdout
    both = run("concepts", "add", "retail-media", "--extend", "--replace", "--en", "x")
    assert both.exit_code == 1 and "not both" in both.stderr
    matched = run("concepts", "match", "Was kosten Handelsmedien im Vergleich zu KPIs?")
    assert matched.stdout == "kpi (concept)\nretail-media (concept)\n"
    assert "no glossary entry" in run("concepts", "match", "weather").stderr
    assert run("concepts", "remove", "retail-media").stdout == "removed concept retail-media\n"
    gone = run("concepts", "remove", "retail-media")
    assert gone.exit_code == 1 and "no concept 'retail-media'" in gone.stderr


def test_progress_on_a_terminal_of_unknown_width_prints_lines(monkeypatch):
    """QA13: on a pty that reports 0 columns (`script -qc`), tqdm drew only blank lines
    until the end; such a terminal gets the one line per stage that a log gets."""
    import io
    import sys

    from kb import cli as cli_module

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

        def fileno(self) -> int:
            raise io.UnsupportedOperation("no real terminal")

    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    with cli_module.progress_bar("ingest") as update:
        update("embedding", 0, 4)
        update("embedding", 4, 4)
    assert re.search(r"^ingest: embedding 4/4 text\(s\) in [\d.]+s$", err.getvalue(), re.M)
    assert "\r" not in err.getvalue()


def test_progress_in_a_log_says_how_far_a_long_stage_has_got(monkeypatch):
    """QA23a F2: without a terminal each stage printed one line as it ended, so a log
    showed nothing while a 2 MB text was embedded for half an hour. A line now follows
    every LINE_EVERY seconds of a stage."""
    import io
    import sys

    from kb import cli as cli_module

    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(cli_module, "LINE_EVERY", 0.0)
    with cli_module.progress_bar("add") as update:
        update("embedding", 0, 3)
        update("embedding", 1, 3)
        update("embedding", 2, 3)
        update("embedding", 3, 3)
    lines = err.getvalue().splitlines()
    assert [ln.split(",")[0] for ln in lines[:2]] == ["add: embedding 1/3 text(s)",
                                                     "add: embedding 2/3 text(s)"]
    assert re.fullmatch(r"add: embedding 3/3 text\(s\) in [\d.]+s", lines[-1])


def test_ingest_says_when_a_new_article_has_the_text_of_another(run, tmp_path, monkeypatch):
    """QA17 F7: a corpus file renamed and ingested again became a second article, with
    "1 new, 0 errors" and both searched."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    monkeypatch.setenv("KB_CORPUS_DIR", str(corpus))
    text = ("# Referral notes\n\nReferred customers stay longer and buy more often than "
            "others, so a reward for both sides pays for itself within a year.\n")
    (corpus / "referral-notes.md").write_text(text)
    assert "note:" not in run("ingest").stderr
    (corpus / "referral-notes.md").rename(corpus / "referrals.md")
    res = run("ingest")
    assert res.exit_code == 0
    assert ("note: referrals has the very text of referral-notes, whose file "
            in res.stderr and "is gone: a renamed file?" in res.stderr)
    (corpus / "copy.md").write_text(text)
    assert "two copies" in run("ingest").stderr



def test_help_version_examples_and_no_color(run, monkeypatch):
    """QA23b F12-F15: no -h, no --version, no example, the environment and exit codes
    written nowhere, and NO_COLOR left the query's words bold on a terminal."""
    from kb import cli as cli_module

    for args in (["-h"], ["--help"]):
        out = run(*args)
        assert out.exit_code == 0 and "Examples:" in out.stdout
        assert "KB_CORPUS_DIR" in out.stdout and "Exit status" in out.stdout
    version = run("--version")
    assert version.exit_code == 0 and version.stdout.startswith("kb ")
    assert "--stdin" in run("search", "-h").stdout and "--stdin" in run("ask", "-h").stdout
    hit = {"text": "Upselling works.", "snippet": {"start": 0, "end": 16},
           "marks": [{"start": 0, "end": 9}]}
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert "\x1b[1m" in cli_module._snippet(hit)
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli_module._snippet(hit) == "Upselling works."


def test_stdin_results_are_ruled_apart_and_name_no_offset(run):
    """QA23b F16: with --stdin, one answer's "Sources:" ran into the next "question:"
    line, and each search ended in "more: --offset 1", which no batch can use."""
    out = run("search", "--stdin", "-k", "1", stdin="upstream marketing\nbundling\n")
    assert out.exit_code == 0, out.output
    assert out.stdout.count("─" * 40) == 1 and "more:" not in out.stdout
    first, second = out.stdout.split("─" * 40)
    assert first.startswith("query: upstream marketing") and "query: bundling" in second


def test_ask_names_every_heading_a_sources_quoted_sentences_sit_under(run, monkeypatch,
                                                                      nps_answer):
    """QA25 F10, as the Ask page's card: the formula sits under "How the score is
    calculated", after an opening sentence under the passage's first heading."""
    from kb.core import KnowledgeBase

    monkeypatch.setattr(KnowledgeBase, "ask", lambda self, q, **kw: nps_answer)
    out = run("ask", "How is NPS calculated?").output
    assert ("[1] Running NPS Surveys — en-nps [en] § Running NPS Surveys → How the score is "
            "calculated") in out, out
    assert "[2] Close the loop — en-loop [en] § Close the loop" in out
