"""The `briefbot` command: ingest, ask, chat, eval, reindex and serve."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from index.answer import CLOSEST_HEADING, answer_to_json
from index.conversation import Conversation
from index.engine import Engine
from index.errors import BriefbotError
from index.records import Answer, Citation

__all__ = ["main", "run"]

EXAMPLES = """examples:
  briefbot ingest data/articles
  BRIEFBOT_PRECISION=fp32 briefbot ingest data/articles   # force float32 (auto: int8/bf16 where the gate passed)
  BRIEFBOT_EMBED_BACKEND=torch briefbot ask "Geneva?"      # PyTorch instead of the OpenVINO export
  briefbot ask "What happened with Geneva?"
  briefbot ask --json -k 5 "Who controls rare earth processing?"
  briefbot ask --as-of 2025-09-26 "any news on rare earths this week?"
  briefbot ask --json --batch questions.jsonl      # {"id", "query", "history": [...], "as_of"?} per line
  briefbot chat
  briefbot eval tests/data/sample_questions.jsonl --compare   # lines may carry "as_of"/"date", "answer", "history"
  briefbot eval --titles --compare                 # self-supervised: each brief's first Highlight
  briefbot eval --timeline tests/data/stories_dev.jsonl --data-dir RTQA_DATA_DIR   # story timelines
  briefbot eval tests/data/followup_bare_questions.jsonl --corpus wikinews --data-dir WIKINEWS_DATA_DIR
  briefbot reindex --structure hnsw-sq8            # approximate vector index, no re-embedding
  briefbot serve                                   # needs TELEGRAM_BOT_TOKEN
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefbot", description="Cited answers from news briefs.",
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="data directory (env BRIEFBOT_DATA_DIR, default data/)")
    ingest = commands.add_parser("ingest", parents=[common], help="add .txt/.md/.html/.json/.jsonl briefs")
    ingest.add_argument("paths", nargs="+", type=Path)
    ask = commands.add_parser("ask", parents=[common], help="answer one question (or a batch)")
    ask.add_argument("question", nargs="?")
    ask.add_argument("-k", type=int, default=3, help="passages to show (default 3)")
    ask.add_argument("--json", action="store_true", help="one JSON object per answer")
    ask.add_argument("--batch", type=Path, help='JSONL file of {"id", "query", "history", "as_of"}')
    ask.add_argument("--as-of", type=_iso_day, metavar="YYYY-MM-DD",
                     help="answer from the index as it stood that day ('this week', 'latest' read against it)")
    commands.add_parser("chat", parents=[common], help="a conversation in the terminal")
    ev = commands.add_parser("eval", parents=[common], help="Recall@1/5/10 and MRR@10")
    ev.add_argument("queries", nargs="?", type=Path, help='JSONL of {"query", "gold_ids"}')
    ev.add_argument("--titles", action="store_true", help="self-supervised: each brief's first Highlight/title")
    ev.add_argument("--compare", action="store_true", help="dense-only, BM25-only and hybrid side by side")
    ev.add_argument("--corpus", metavar="NAME", help='only the lines whose "corpus" is NAME (news, wikinews, samples)')
    ev.add_argument("--timeline", type=Path, metavar="FILE",
                    help='story questions: JSONL of {"id", "query", "as_of", "gold": [{"id", "date"}], "near_miss"}')
    reindex = commands.add_parser("reindex", parents=[common], help="re-embed stored articles with the configured model, cleaned again")
    reindex.add_argument("--structure", choices=["auto", "flat", "hnsw-sq8"],
                         help="only change the vector index structure (no re-embedding); auto = by size")
    commands.add_parser("serve", parents=[common], help="run the Telegram bot (long polling)")
    return parser


def run() -> None:
    """The console script: `main`, and a one-shot `ask` leaves without the interpreter's teardown."""
    try:
        code = main()
    except BrokenPipeError:  # `briefbot ask … | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own flush at exit fails otherwise
        raise SystemExit(1) from None
    if sys.argv[1:2] == ["ask"]:
        # `ask` only reads, and all it owes is printed: finalising OpenVINO, FAISS and the heap took
        # 0.10-0.15 s more per one-shot answer (bench/answer_speed.py, "cold process").
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; engine errors become one-line messages and exit code 1."""
    args = _parser().parse_args(argv)
    from bot.config import ConfigError, EngineConfig

    try:
        if args.command == "serve":
            from bot.app import serve

            return serve(args.data_dir)
        try:
            config = EngineConfig.load()
        except ConfigError as error:
            print(error, file=sys.stderr)
            return 2
        return COMMANDS[args.command](config.engine(args.data_dir), args)
    except BriefbotError as error:
        print(f"briefbot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _ingest(engine: Engine, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    bar = tqdm(total=0, unit="passage", desc="embedding", disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    report = engine.ingest(args.paths, progress)
    bar.close()
    if report.rebuilt_from is not None:
        print(f"the index was in format {report.rebuilt_from}; brought every stored article to the current format first")
    print(f"added {len(report.added)} article(s) ({report.chunks} passages), "
          f"{len(report.duplicates)} duplicate(s) skipped, {report.unchanged_files} unchanged file(s), "
          f"{len(report.rejected)} rejected")
    for line in report.duplicates:
        print(f"  duplicate: {line}")
    for rejection in report.rejected:
        print(f"  rejected: {rejection}", file=sys.stderr)
    return 1 if report.rejected else 0


def _ask(engine: Engine, args: argparse.Namespace) -> int:
    if args.batch:
        return _ask_batch(engine, args.batch, args.k, args.as_of)
    if args.question is None:
        print("briefbot ask: give a QUESTION or --batch FILE", file=sys.stderr)
        return 2
    answer, _ = engine.ask(args.question, args.k, as_of=args.as_of)
    print(json.dumps(answer_to_json(answer), ensure_ascii=False) if args.json else render_text(answer))
    return 0


def _ask_batch(engine: Engine, path: Path, k: int, as_of: date | None) -> int:
    """One JSON line out per line in, in order; the model is loaded once. A line's "as_of" (or "date", as
    in eval files) wins over --as-of; "qid" stands in for a missing "id", so an eval file runs as is."""
    failed = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            conversation = Conversation()
            asked_on = request.get("as_of") or request.get("date")
            when = date.fromisoformat(asked_on) if asked_on else as_of
            for earlier in request.get("history") or []:
                engine.converse(conversation, str(earlier), k, when)
            answer, _ = engine.ask(str(request["query"]), k, conversation, when)
            print(json.dumps(answer_to_json(answer, request.get("id", request.get("qid"))), ensure_ascii=False), flush=True)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            failed += 1
            print(json.dumps({"id": None, "line": number, "error": f"{path}:{number}: {error}"}), flush=True)
    return 1 if failed else 0


_CHAT_HELP = """Ask about the briefs: "What happened with Geneva?", "latest on Lynas", "any news this week?".
Follow-ups work: "more", "and terbium?", "what did he say?", "what happened since then?".
/help shows this again; /quit or Ctrl-D leaves."""


def _chat(engine: Engine, args: argparse.Namespace) -> int:
    conversation = Conversation()
    print(_CHAT_HELP)
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            print()
            return 0
        command = question.lower()
        if command in ("/quit", "/exit", "quit", "exit"):
            return 0
        if command in ("/help", "/start", "help"):
            print(_CHAT_HELP)
        elif question:  # a blank line asks nothing
            print(render_text(engine.converse(conversation, question)))


def _eval(engine: Engine, args: argparse.Namespace) -> int:
    from dataclasses import replace

    from index.evaluate import MODES, evaluate, load_queries, title_queries

    if args.timeline:
        return _eval_timeline(engine, args.timeline)
    if not args.queries and not args.titles:
        print("briefbot eval: give QUERIES.jsonl or --titles", file=sys.stderr)
        return 2
    queries = load_queries(args.queries, args.corpus) if args.queries else title_queries(engine)
    for name in (["dense", "bm25", "hybrid"] if args.compare else ["hybrid"]):
        variant = engine.with_settings(replace(engine.settings, modes=MODES[name]))
        print(f"{name:7} {evaluate(variant, queries).row()}")
    return 0


def _eval_timeline(engine: Engine, path: Path) -> int:
    from index.story_eval import evaluate_stories, load_stories

    report = evaluate_stories(engine, load_stories(path))
    for score in report.scores:
        print(score.row())
    print(report.row())
    return 0


def _reindex(engine: Engine, args: argparse.Namespace) -> int:
    from index.ingest import rebuild, restructure, upgrade

    # An older format is brought up to date first; a structure asked for is still applied after it.
    if (upgraded := upgrade(engine.data_dir, engine.model_id)) is not None:
        print(f"upgraded: {upgraded.count} passages to index format {upgraded.format_version}; the BM25 index was "
              "rebuilt, nothing re-embedded")
    if args.structure:
        manifest = restructure(engine.data_dir, args.structure)
        print(f"restructured: {manifest.count} passages now in a '{manifest.vector_index}' index"
              f"{' (pinned)' if manifest.vector_index_pinned else ' (chosen by size)'}; nothing re-embedded")
        return 0
    if upgraded is not None:
        return 0
    manifest = rebuild(engine.data_dir, engine.rebuild_embedder())
    print(f"rebuilt: {manifest.articles} articles, {manifest.count} passages with {manifest.model}")
    return 0


def _iso_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2025-09-23") from error


COMMANDS = {"ingest": _ingest, "ask": _ask, "chat": _chat, "eval": _eval, "reindex": _reindex}


def render_text(answer: Answer) -> str:
    """Plain-text answer for the terminal: the brief, passages with the key sentence in »…«, sources."""
    sources = [f"[{i}] {_source_line(c)}" for i, c in enumerate(answer.citations, 1)]
    if answer.sources_only:  # "link?": the last answer's sources alone
        return "\n".join(["Sources:", *sources])
    if answer.no_answer:
        if answer.timeline:
            return timeline_text(answer)
        closest = [f"[{i}] {_source_line(h.citation)}" for i, h in enumerate(answer.closest, 1)]
        return "\n".join([answer.notice or "No answer.", *(["", CLOSEST_HEADING + ":", *closest] if closest else [])])
    cited = answer.citation_numbers()
    lines = [answer.notice] if answer.notice else []
    if answer.rewritten:
        lines.append(f"(searching for: {answer.resolved_query})")
    if answer.brief:
        lines.append(" ".join(f"{s.text} [{cited[s.rank]}]" for s in answer.brief) + "\n")
    if answer.timeline:
        lines.append(timeline_text(answer) + "\n")
    for p in answer.passages:
        text = p.hit.chunk.text.replace(p.highlight, f"»{p.highlight}«", 1)
        lines.append(f"{p.rank}. {text} [{cited[p.rank]}]\n")

    return "\n".join([*lines, "Sources:", *sources])


def _source_line(citation: Citation) -> str:
    """“Title · Publisher · 2025-09-23 · link or file name”."""
    parts = [citation.title, citation.source, citation.published_at.isoformat() if citation.published_at else None,
             citation.url or (os.path.basename(citation.path) if citation.path else None)]
    return " · ".join(p for p in parts if p)


def timeline_text(answer: Answer) -> str:
    """The story after the brief: "2025-09-23 · sentence [n]" per shown entry, oldest first."""
    assert answer.timeline is not None
    numbers = {c.article_id: i for i, c in enumerate(answer.citations, 1)}
    timeline = answer.timeline
    lines = [f"Timeline: {timeline.subject}"]
    lines += [f"{e.published_at.isoformat()} · {e.text} [{numbers.get(e.citation.article_id, '?')}]"
              for e in timeline.visible]
    if timeline.remaining:
        lines.append(f"… and {timeline.remaining} more briefs (ask \"more\")")
    return "\n".join(lines)


if __name__ == "__main__":
    run()
