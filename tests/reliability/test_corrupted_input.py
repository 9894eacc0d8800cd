"""Issue 6 §3: 100 damaged files mixed into a folder of good ones — each bad file is reported with its reason,
each good one indexed, and what was already indexed is unchanged. Both through `Engine.ingest` (the CLI) and
through the bot's inbox (bad files moved to rejected/ with a .reason note)."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

from bot.sources.inbox import process_inbox
from index.engine import Engine
from index.parse import MAX_FILE_BYTES
from tests.conftest import SAMPLES
from tests.reliability.conftest import Figures

COMMAND = ".venv/bin/pytest -q tests/reliability/test_corrupted_input.py"
PROSE = ("Lynas said output of separated rare earth oxides rose in the quarter as the Kalgoorlie plant ramped up, "
         "while prices for neodymium and praseodymium held near two-year highs.")


def good_record(i: int) -> dict[str, str]:
    return {"id": f"good-{i}", "title": f"Good brief number {i} on rare earths", "published_at": "2025-09-20",
            "source": "Test Wire", "body": f"Brief {i}: {PROSE} Figure {i * 7} tonnes was reported for site {i}."}


def make_damaged(folder: Path, rng: random.Random) -> dict[str, str]:
    """Exactly 100 damaged files; returns file name → kind of damage."""
    folder.mkdir(parents=True, exist_ok=True)
    kinds: dict[str, str] = {}
    good = json.dumps(good_record(999))

    def put(name: str, data: bytes, kind: str) -> None:
        (folder / name).write_bytes(data)
        kinds[name] = kind

    for i in range(15):  # truncated JSON at a random byte
        put(f"trunc-{i}.json", good.encode()[: rng.randint(1, len(good) - 2)], "truncated json")
    for i in range(10):  # truncated JSON lines: every line cut
        put(f"trunc-{i}.jsonl", "\n".join(json.dumps(good_record(900 + j))[:-rng.randint(2, 30)]
                                          for j in range(3)).encode(), "truncated jsonl")
    for i in range(15):  # random binary under text extensions
        ext = rng.choice([".txt", ".md", ".json", ".html", ".jsonl"])
        put(f"binary-{i}{ext}", bytes(rng.getrandbits(8) for _ in range(rng.randint(64, 4096))), "binary")
    for i, magic in enumerate([b"%PDF-1.7\n", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"\x1f\x8b\x08", b"\xff\xd8\xff\xe0"]):
        put(f"magic-{i}.txt", magic + bytes(rng.getrandbits(8) for _ in range(512)), "binary signature")
    for i in range(5):  # UTF-16 without a BOM (NULs everywhere)
        put(f"utf16-nobom-{i}.txt", ("Title\n\n" + PROSE).encode("utf-16-le"), "utf-16 without BOM")
    for i in range(5):  # UTF-16 with BOM, cut in the middle of a code unit
        data = ("Title\n\n" + PROSE).encode("utf-16")
        put(f"utf16-cut-{i}.txt", data[: len(data) - 1 - 2 * i], "broken utf-16")
    for i in range(5):  # (little-endian UTF-32 with a BOM reads as UTF-16 whose NULs are dropped: recovered, not damaged)
        put(f"utf32be-{i}.txt", b"\x00\x00\xfe\xff" + ("Title\n\n" + PROSE).encode("utf-32-be"), "utf-32 big-endian")
    for i in range(10):  # broken JSON of several shapes
        broken = ['{"title": "x", "body": ', "{'single': 'quotes'}", '{"body": "x",}', "[1, 2, 3]", '"just a string"',
                  "null", '{"title": "no body"}', "[]", '{"body": ""}', '{"body": {"nested": true}}'][i]
        put(f"broken-{i}.json", broken.encode(), "broken json")
    for i in range(3):
        put(f"deep-{i}.json", (b"[" * (100_000 + i)), "deeply nested json")
    put("deep-record.jsonl", b'{"body": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "deeply nested json")
    for i in range(6):
        put(f"empty-{i}{['.txt', '.md', '.json', '.jsonl', '.html', '.htm'][i]}", b"", "zero bytes")
    put("bom-only.txt", b"\xef\xbb\xbf", "BOM only")
    for i in range(4):
        put(f"blank-{i}.txt", b" \n\t\r\n " * (i + 1), "whitespace only")
    for i in range(3):  # gigantic: sparse files above the size limit (cheap to make, never read)
        path = folder / f"gigantic-{i}.txt"
        with path.open("wb") as handle:
            handle.truncate(MAX_FILE_BYTES + 1 + i * 1_000_000)
        kinds[path.name] = "gigantic"
    for i in range(4):
        put(f"unknown-{i}{['.odt', '.docx', '', '.exe'][i]}", PROSE.encode(), "unknown extension")
    for i in range(3):
        put(f"nobody-{i}.md", f"# Only a title {i}\n".encode(), "title without body")
    for i in range(3):
        put(f"noarticle-{i}.html", b"<html><body><nav><a href='/'>Home</a></nav><script>x()</script></body></html>",
            "html without article")
    for i in range(2):
        put(f"jsonl-all-bad-{i}.jsonl", b"not json\n{\"title\": 1}\n[]\n42\n", "jsonl with no good line")
    assert len(kinds) == 100, len(kinds)
    return kinds


def _index_state(engine: Engine) -> dict[str, tuple]:
    snap = engine.snapshot
    rows = snap.query("SELECT a.id, a.title, a.body, group_concat(c.text, '|') FROM articles a "
                      "JOIN chunks c ON c.article_seq = a.seq GROUP BY a.seq ORDER BY a.seq")
    return {r[0]: tuple(r[1:]) for r in rows}


def test_damaged_files_are_reported_and_good_ones_indexed(hash_engine_factory: Callable[..., Engine], tmp_path: Path,
                                                         figures: Figures) -> None:
    engine = hash_engine_factory()  # the two sample briefs
    before = _index_state(engine)
    folder = tmp_path / "mixed"
    kinds = make_damaged(folder, random.Random(6))
    goods = [good_record(i) for i in range(20)]
    for i, record in enumerate(goods):
        (folder / f"good-{i}.json").write_text(json.dumps(record), encoding="utf-8")
    shutil.copy(next(SAMPLES.glob("*")), folder / "sample-again.txt")  # already indexed: a duplicate, not an error
    report = engine.ingest([folder])
    reasons: dict[str, list[str]] = {}
    for rejection in report.rejected:
        reasons.setdefault(Path(rejection.path).name, []).append(rejection.reason)
    unreported = sorted(set(kinds) - set(reasons))
    false_alarms = sorted(set(reasons) - set(kinds))
    added = {a.id for a in report.added}
    after = _index_state(engine)
    changed = [k for k, v in before.items() if after.get(k) != v]
    answer, _ = engine.ask("Lynas Kalgoorlie output", 3)

    figures.add("corrupted input: damaged files reported with a reason", "100 / 100",
                f"{100 - len(unreported)} / 100", COMMAND, unreported={n: kinds[n] for n in unreported})
    figures.add("corrupted input: good files indexed", "20 / 20", f"{len(added & {g['id'] for g in goods})} / 20",
                COMMAND, false_alarms=false_alarms)
    figures.add("corrupted input: previously indexed articles changed", "0", len(changed), COMMAND)
    assert not unreported, {n: kinds[n] for n in unreported}
    assert not false_alarms
    assert all(r and all(len(x) > 8 for x in r) for r in reasons.values())
    assert added == {g["id"] for g in goods}
    assert not changed and set(before) <= set(after)
    assert answer.passages


def test_damaged_files_in_the_inbox_go_to_rejected_with_a_reason(hash_engine_factory: Callable[..., Engine],
                                                                tmp_path: Path, figures: Figures) -> None:
    engine = hash_engine_factory()
    inbox = tmp_path / "inbox"
    kinds = make_damaged(inbox, random.Random(7))
    for i in range(10):
        (inbox / f"good-{i}.json").write_text(json.dumps(good_record(100 + i)), encoding="utf-8")
    result = process_inbox(engine, inbox, tmp_path / "articles", settle_seconds=0)
    rejected = inbox / "rejected"
    notes = {p.name.removesuffix(".reason"): p.read_text() for p in rejected.glob("*.reason")}
    left = [p.name for p in inbox.iterdir() if p.is_file()]
    figures.add("corrupted input via inbox: moved to rejected/ with a .reason", "100 / 100",
                f"{len(set(kinds) & set(notes))} / 100", COMMAND, good_added=len(result.added), left_in_inbox=left)
    assert set(kinds) <= set(notes), sorted(set(kinds) - set(notes))
    assert all(note.strip() for note in notes.values())
    assert len(result.added) == 10 and not left
    # nothing is retried: a second pass finds nothing to do
    again = process_inbox(engine, inbox, tmp_path / "articles", settle_seconds=0)
    assert not again.added and not again.rejected
