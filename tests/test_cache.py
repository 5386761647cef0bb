"""The on-disk caches: a compiled policy and England's bank holidays are reused only while
nothing they were built from has changed, and a damaged or foreign entry is never trusted."""
from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from compiler import cache
from compiler.core.diagnostics import ClauseError
from compiler.core import london as timeparse
from tests.loads import LARGE

RUNS = 20 if LARGE else 4  # racing runs on a cold cache: four already outnumber make test's two cores

SMALL = Path(__file__).resolve().parent / "data" / "policy_small"


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SMALL, tmp_path / "policy"))


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache folder, as a new process sees it (nothing remembered in memory)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CLAUSE_CACHE_DIR", str(folder))
    monkeypatch.delenv("CLAUSE_CACHE", raising=False)
    cache._recent.clear()
    return folder


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every real compile the cache falls back to."""
    calls: list[Path] = []
    real = cache.compile_policy

    def counting(root: Path):
        calls.append(root)
        return real(root)
    monkeypatch.setattr(cache, "compile_policy", counting)
    return calls


def new_process() -> None:
    cache._recent.clear()


def same(a, b) -> bool:
    return a.program.rules == b.program.rules and a.ast == b.ast and a.quotes == b.quotes and a.warnings == b.warnings \
        and a.normal == b.normal


def test_a_fresh_entry_is_read_back_instead_of_compiling(policy_dir, store, compiles):
    first = cache.load_policy_cached(policy_dir)
    new_process()
    second = cache.load_policy_cached(policy_dir)
    assert len(compiles) == 1 and same(first, second)
    assert [p.name.startswith("policy-") for p in store.glob("policy-*.pickle")] == [True]


def test_an_entry_gives_back_the_policy_whole(policy_dir, store, compiles):
    """Every field of every node, sources included: the nodes stored as calls of their classes come back
    equal and of the same class (a dataclass's == compares both)."""
    first = cache.load_policy_cached(policy_dir)
    new_process()
    second = cache.load_policy_cached(policy_dir)
    assert len(compiles) == 1 and second is not first and second == first


def test_the_compiler_digest_covers_its_sub_packages(tmp_path, monkeypatch):
    """compiler/core (the vocabulary, London time) shapes a compiled policy as much as compiler/ does."""
    copy = Path(shutil.copytree(cache.COMPILER, tmp_path / "compiler", ignore=shutil.ignore_patterns("__pycache__")))
    monkeypatch.setattr(cache, "COMPILER", copy)
    cache.compiler_digest.cache_clear()
    before = cache.compiler_digest()
    vocabulary = copy / "core" / "vocabulary.py"
    vocabulary.write_text(vocabulary.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    cache.compiler_digest.cache_clear()
    try:
        assert cache.compiler_digest() != before
    finally:
        cache.compiler_digest.cache_clear()


def test_the_same_process_gets_the_same_object_back(policy_dir, store, compiles):
    assert cache.load_policy_cached(policy_dir) is cache.load_policy_cached(policy_dir)
    assert len(compiles) == 1


def test_editing_a_clause_file_compiles_again(policy_dir, store, compiles):
    before = cache.load_policy_cached(policy_dir)
    rules = policy_dir / "rules.clause"
    rules.write_text(rules.read_text(encoding="utf-8").replace("must", "should", 1), encoding="utf-8")
    after = cache.load_policy_cached(policy_dir)
    assert len(compiles) == 2 and not same(before, after)


def test_editing_a_quoted_source_compiles_again_and_reports_what_broke(policy_dir, store, compiles):
    cache.load_policy_cached(policy_dir)
    (policy_dir / "sources" / "small.txt").write_text("Nothing the clauses quote.\n", encoding="utf-8")
    new_process()
    with pytest.raises(ClauseError):  # the quotes no longer match: the checks say so, not a stale entry
        cache.load_policy_cached(policy_dir)
    assert len(compiles) == 2


def test_a_damaged_entry_is_only_a_miss(policy_dir, store, compiles):
    cache.load_policy_cached(policy_dir)
    for entry in store.glob("policy-*.pickle"):
        entry.write_bytes(b"not a pickle")
    new_process()
    again = cache.load_policy_cached(policy_dir)
    assert len(compiles) == 2 and again.program.rules


def test_an_entry_others_can_write_is_never_read(policy_dir, store, compiles):
    cache.load_policy_cached(policy_dir)
    for entry in store.glob("policy-*.pickle"):
        os.chmod(entry, 0o666)
    new_process()
    cache.load_policy_cached(policy_dir)
    assert len(compiles) == 2


def test_errors_are_never_cached(tmp_path, store, compiles):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.clause").write_text("clause X-1 \"t\"\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ClauseError):
            cache.load_policy_cached(broken)
    assert len(compiles) == 2 and not list(store.glob("policy-*.pickle"))


def test_caching_can_be_turned_off(policy_dir, store, compiles, monkeypatch):
    monkeypatch.setenv("CLAUSE_CACHE", "0")
    cache.load_policy_cached(policy_dir)
    cache.load_policy_cached(policy_dir)
    assert len(compiles) == 2 and not store.exists()


def test_an_unusable_cache_folder_still_compiles(policy_dir, tmp_path, compiles, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("CLAUSE_CACHE_DIR", str(blocker / "cache"))
    new_process()
    assert cache.load_policy_cached(policy_dir).program.rules and len(compiles) == 1


def test_bank_holidays_come_from_the_cache_file_and_match_the_calendar(store):
    timeparse._holiday_table.cache_clear()
    built = timeparse._holiday_table()
    files = list(store.glob("bank-holidays-england-*.json"))
    assert len(files) == 1
    timeparse._holiday_table.cache_clear()
    assert timeparse._holiday_table() == built
    calendar = timeparse._calendar()
    for year in (1971, 2024, 2100):
        _ = date(year, 1, 1) in calendar
        assert built[year] == frozenset(d for d in calendar if d.year == year)
    assert date(2024, 12, 26) in built[2024] and date(2024, 12, 27) not in built[2024]


def test_a_damaged_bank_holiday_file_is_rebuilt(store):
    timeparse._holiday_table.cache_clear()
    built = timeparse._holiday_table()
    path = next(store.glob("bank-holidays-england-*.json"))
    path.write_text('{"2024": ["not a date"]}', encoding="utf-8")
    timeparse._holiday_table.cache_clear()
    assert timeparse._holiday_table() == built
    timeparse._holiday_table.cache_clear()


# ---- sealed entries: integrity, other users, non-regular files, concurrency -------------------

def _entry(store: Path, prefix: str) -> Path:
    [entry] = [p for p in store.iterdir() if p.name.startswith(prefix)]
    return entry


def test_a_flipped_bit_in_an_entry_is_never_used_and_the_entry_is_repaired(policy_dir, store, compiles):
    """A loadable but altered pickle changed answers on every later run; now the seal catches it."""
    first = cache.load_policy_cached(policy_dir)
    entry = _entry(store, "policy-")
    blob = bytearray(entry.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    entry.write_bytes(bytes(blob))
    new_process()
    again = cache.load_policy_cached(policy_dir)
    assert len(compiles) == 2 and same(first, again)  # recompiled, not read
    new_process()
    cache.load_policy_cached(policy_dir)
    assert len(compiles) == 2  # the rewritten entry is good again


def test_the_grammar_cache_never_unpickles_a_file_it_did_not_seal(store, tmp_path):
    """Lark's own cache unpickled whatever file it found: code run as whoever next ran clause."""
    import pickle
    import subprocess
    import sys
    from compiler.parse import parser
    parser.cache_clear()
    parser()  # writes the sealed entry
    entry = _entry(store, "grammar-")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    entry.write_bytes(b"\0" * 32 + pickle.dumps(Evil()))
    done = subprocess.run([sys.executable, "-c", "from compiler.parse import parser; parser()"],
                          env={**os.environ, "CLAUSE_CACHE_DIR": str(store)}, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    parser.cache_clear()


def test_a_fifo_in_place_of_a_cache_entry_does_not_hang(policy_dir, store, compiles):
    cache.load_policy_cached(policy_dir)
    entry = _entry(store, "policy-")
    entry.unlink()
    os.mkfifo(entry)
    new_process()
    cache.load_policy_cached(policy_dir)  # would block for ever opening the FIFO
    assert len(compiles) == 2 and entry.is_file() and not entry.is_fifo()


def test_concurrent_runs_on_a_cold_cache_agree(tmp_path):
    """Each run either finds a complete entry or writes one; all print the same answer. Four runs
    race in make test (about 0.5 CPU s each, twice as many as the 2 cores), twenty in make fuzz
    (CLAUSE_TEST_LOAD=large)."""
    import subprocess
    import sys
    store = tmp_path / "cold"
    env = {**os.environ, "CLAUSE_CACHE_DIR": str(store)}
    example = Path(__file__).resolve().parent.parent / "examples" / "missing-from-home-weekend.yaml"
    runs = [subprocess.Popen([sys.executable, "-m", "cli.main", "obligations", str(example), "--format", "csv"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(RUNS)]
    outs = [(p.communicate(timeout=300), p.returncode) for p in runs]
    assert {code for _, code in outs} == {0}, [err for (_, err), _ in outs][:1]
    assert len({out for (out, _), _ in outs}) == 1
    assert len([p for p in store.iterdir() if p.name == "seal.key"]) == 1
