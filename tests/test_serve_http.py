"""`clause serve` over real HTTP on 127.0.0.1: pages, JSON, concurrency, reloading, the token, escaping."""
from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from serving import served

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_CHILD = "<script>alert('c')</script>&\"x"
HOSTILE_EPISODE = "<img src=x onerror=alert(1)>"


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()


@pytest.fixture()
def examples(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path / "examples"


def test_worklist_child_why_and_json(examples: Path) -> None:
    with served(examples) as (base, _):
        status, headers, page = get(base + "/")
        assert status == 200 and "Worklist" in page
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        data = json.loads(get(base + "/api/v1/worklist?state=overdue")[2])
        assert data["version"] == 1 and data["obligations"]
        assert {o["state"] for o in data["obligations"]} == {"overdue"}
        assert data["counts"]["overdue"] == len(data["obligations"])
        child = data["obligations"][0]["child"]
        status, _, page = get(base + "/child?id=" + child)
        assert status == 200 and "Duties and why" in page and "because" in page
        why = json.loads(get(base + f"/api/v1/why?id={child}&action={data['obligations'][0]['action']}")[2])
        assert why["version"] == 1 and why["trees"][0]["kind"] == "case"
        assert get(base + "/child?id=nobody")[0] == 404
        status, _, body = get(base + "/api/v1/why?id=nobody&action=strategy_discussion")
        assert status == 404 and "no child 'nobody'" in body and "--child" not in body
        assert json.loads(get(base + "/api/v1/why?id=C2&action=no_such_action")[2])["error"].count("X002") == 1
        assert get(base + "/?due_from=yesterday")[0] == 400
        for path in ("/api/v1/why?id=C2", "/api/v1/why-not?action=strategy_discussion", "/why-not"):
            status, _, body = get(base + path)  # once "unknown action ''" or "no child ''"
            assert status == 400 and "the question needs a child (id) and an action" in body, path
        for path in ("/child", "/api/v1/child?id="):
            status, _, body = get(base + path)  # once a 404 "no child ''"
            assert status == 400 and "id: the page needs a child" in body, path


def test_a_worklist_filter_that_can_match_nothing_is_refused(examples: Path) -> None:
    """state=OVERDUE (the table's spelling) once answered 200 with no duty: a caller believed nothing overdue.
    An unknown state, actor or action is a 400 naming what is expected, an unknown child a 404; a known action
    no duty has yet is an honest empty list."""
    with served(examples) as (base, _):
        def error(query: str) -> tuple[int, str]:
            status, _, body = get(base + "/api/v1/worklist?" + query)
            return status, json.loads(body).get("error", "")
        status, message = error("state=OVERDUE")
        assert status == 400 and "state: expected one of overdue, upcoming, open, done, done_late, ended" in message
        status, message = error("action=retrun_interview")
        assert status == 400 and "not an action of the policy; did you mean 'return_interview'?" in message
        status, message = error("actor=team_manger")
        assert status == 400 and "did you mean 'team_manager'?" in message
        status, message = error("child=C99")
        assert status == 404 and "X001" in message and "no child 'C99'" in message
        assert get(base + "/?state=bogus")[0] == 400
        status, _, body = get(base + "/api/v1/worklist?action=contact_fcdo&child=C2")
        assert status == 200 and json.loads(body)["obligations"] == []


def test_read_only_and_loopback_host(examples: Path) -> None:
    with served(examples) as (base, _):
        req = urllib.request.Request(base + "/", data=b"x=1", method="POST")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=30)
        assert e.value.code == 405
        assert get(base + "/", {"Host": "attacker.example"})[0] == 421  # DNS rebinding


def test_concurrent_requests_give_the_same_answers(examples: Path) -> None:
    with served(examples) as (base, source):
        urls = [base + "/api/v1/worklist", base + "/api/v1/child?id=C2", base + "/", base + "/child?id=C2"] * 4
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(get, urls))
        assert all(a[0] == 200 for a in answers)
        for i in range(4, len(urls)):
            assert answers[i][2] == answers[i % 4][2]
        assert source.loads == 1


def test_a_changed_file_is_served_without_a_restart(examples: Path) -> None:
    case = examples / "missing-from-home-weekend.yaml"
    with served(examples) as (base, source):
        before = json.loads(get(base + "/api/v1/child?id=C2")[2])
        assert before["cases"][0]["episodes"][0]["returned"] is None
        text = case.read_text().replace("    police_risk: medium", "    returned: 2024-06-06T09:00\n    police_risk: medium")
        case.write_text(text)
        os.utime(case, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
        after = json.loads(get(base + "/api/v1/child?id=C2")[2])
        assert after["cases"][0]["episodes"][0]["returned"] == "2024-06-06T09:00"
        assert source.loads == 2
        case.write_text("case: broken\nchildren: [\n")  # invalid: the diagnostics are served, not stale answers
        status, _, page = get(base + "/")
        assert status == 503 and "F001" in page and "missing-from-home-weekend.yaml" in page


def test_a_token_is_required_when_given(examples: Path) -> None:
    token = "t0ken-for-the-test-0123456789"
    with served(examples, token=token) as (base, _):
        for path in ("/", "/api/v1/worklist", "/child?id=C2", "/static/style.css"):
            status, _, body = get(base + path)
            assert status == 401 and "C2" not in body
        assert get(base + "/", {"Authorization": "Bearer wrong-token-0123456789"})[0] == 401
        assert get(base + "/api/v1/worklist", {"Authorization": f"Bearer {token}"})[0] == 200
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(base + f"/?token={token}&state=overdue", timeout=60) as r:  # the address clause serve prints
            assert r.status == 200 and r.url == base + "/?state=overdue"  # the token left the address
        with opener.open(base + "/child?id=C2", timeout=60) as r:  # then the cookie carries it
            assert r.status == 200


def test_hostile_ids_and_text_are_escaped(tmp_path: Path) -> None:
    case = tmp_path / "hostile.yaml"
    case.write_text(f"""case: hostile
description: "<b>bold</b> </script><script>alert(2)</script>"
as_of: 2024-06-09T10:00
children:
  - id: {json.dumps(HOSTILE_CHILD)}
    born: 2010-01-20
episodes:
  - id: {json.dumps(HOSTILE_EPISODE)}
    child: {json.dumps(HOSTILE_CHILD)}
    reported: 2024-06-05T23:00
actions:
  - action: strategy_discussion
    child: {json.dumps(HOSTILE_CHILD)}
    by: "<iframe src=//evil> <svg onload=alert(3)>"
    at: 2024-06-06T10:00
""")
    with served(tmp_path) as (base, _):
        from urllib.parse import quote
        pages = [get(base + "/")[2], get(base + "/child?id=" + quote(HOSTILE_CHILD))[2],
                 get(base + f"/why-not?id={quote(HOSTILE_CHILD)}&action=strategy_discussion")[2],
                 get(base + "/report?from=2024-06-01&to=2024-06-30")[2]]
        for page in pages:
            for raw in ("<script>alert", "<img src=x", "<svg onload", "<iframe"):
                assert raw not in page
        assert "&lt;script&gt;alert(&#39;c&#39;)&lt;/script&gt;" in pages[1]
        status, _, page = get(base + f"/why-not?id={quote(HOSTILE_CHILD)}&action=" + quote("<script>alert(9)</script>"))
        assert status == 400 and "X002" in page and "<script>alert(9)" not in page
        data = json.loads(get(base + "/api/v1/child?id=" + quote(HOSTILE_CHILD))[2])
        assert data["child"] == HOSTILE_CHILD


def test_a_recorded_action_the_policy_lacks_is_served_as_its_diagnostic_escaped(tmp_path: Path) -> None:
    """A misspelt (here hostile) recorded action would leave its duty looking overdue: the server answers 503
    with the F014 diagnostic, escaped, instead of a worklist."""
    (tmp_path / "bad.yaml").write_text("""case: bad
as_of: 2024-06-09T10:00
children:
  - {id: C1, born: 2010-01-20}
episodes:
  - {id: E1, child: C1, reported: 2024-06-05T23:00}
actions:
  - {action: "<svg onload=alert(3)>", child: C1, episode: E1, by: team_manager, at: 2024-06-06T10:00}
""")
    with served(tmp_path) as (base, _):
        status, _, page = get(base + "/")
        assert status == 503 and "bad.yaml:8:5: error[F014]" in page and "&lt;svg onload" in page
        assert "<svg onload" not in page
        status, _, body = get(base + "/api/v1/worklist")
        assert status == 503 and "error[F014]: recorded action names action '<svg onload=alert(3)>'" in json.loads(body)["error"]


def test_redact_serves_pseudonyms_only(examples: Path) -> None:
    from engine.output.redact import pseudonym
    with served(examples, redact=True) as (base, _):
        page = get(base + "/")[2]
        data = json.loads(get(base + "/api/v1/worklist")[2])
        assert {o["child"] for o in data["obligations"]} <= {pseudonym(c) for c in ("C1", "C2", "C3", "C4", "C5")}
        assert ">C2<" not in page and pseudonym("C2") in page
        child = get(base + "/child?id=" + pseudonym("C2"))[2]
        assert "2010-01-20" not in child and pseudonym("C2") in child
        why = get(base + f"/api/v1/why?id={pseudonym('C2')}&action=strategy_discussion")[2]
        assert json.loads(why)["trees"] and "2010-01-20" not in why
        (examples / "missing-from-home-weekend.yaml").write_text(
            "case: x\nas_of: 2024-06-09T10:00\nchildren:\n  - {id: SECRET-C9, born: 2010-01-20}\n"
            "episodes:\n  - {id: E9, child: SECRET-C8, reported: 2024-06-05T23:00}\n")
        status, _, page = get(base + "/")  # the diagnostics of a broken file name no child either
        assert status == 503 and "F006" in page and "SECRET" not in page


def test_child_page_shows_statuses_over_time(tmp_path: Path) -> None:
    case = Path(__file__).parent / "cases" / "status-over-time" / "cp-plan-from-june-january-episode-gets-no-cp-rules.yaml"
    shutil.copy(case, tmp_path / "case.yaml")
    with served(tmp_path) as (base, _):
        status, _, page = get(base + "/child?id=C1")
        assert status == 200 and "child protection plan (from 2024-06-03)" in page


def test_duckdb_out_of_memory_is_F013_on_a_page_and_in_json(examples: Path, monkeypatch) -> None:
    """The report evaluates with DuckDB: past CLAUSE_DUCKDB_MEMORY it answers 503 with F013 (as the CLI
    says it), not Starlette's bare 500."""
    with served(examples) as (base, _):
        monkeypatch.setenv("CLAUSE_DUCKDB_MEMORY", "100B")
        status, _, page = get(base + "/report?from=2024-01-01&to=2024-12-31")
        assert status == 503 and "F013" in page and "CLAUSE_DUCKDB_MEMORY=100B" in page
        status, _, body = get(base + "/api/v1/report?from=2024-01-01&to=2024-12-31")
        assert status == 503 and "DuckDB ran out of memory" in json.loads(body)["error"]


def test_a_port_in_use_is_named(examples: Path) -> None:
    """A busy port once ended in Python's traceback of the bind; it names the address and the way out."""
    import socket

    from click.testing import CliRunner

    from cli.main import main
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", str(examples), "--port", str(port)])
    assert result.exit_code == 2
    assert f"error: cannot listen on 127.0.0.1:{port}: Address already in use; give another --port" in result.stderr
    try:
        held6 = socket.socket(socket.AF_INET6)
        held6.bind(("::1", 0))
    except OSError:  # no IPv6 here
        held6 = None
    if held6 is not None:  # the brackets a URL writes are read: [::1] is loopback, and needs no token
        with held6:
            held6.listen()
            port6 = held6.getsockname()[1]
            result = CliRunner().invoke(main, ["serve", str(examples), "--host", "[::1]", "--port", str(port6)])
        assert result.exit_code == 2 and f"cannot listen on [::1]:{port6}: Address already in use" in result.stderr
    for host in ("127.0.0.1:8000", ""):
        wrong = CliRunner().invoke(main, ["serve", str(examples), "--host", host, "--token", "t" * 20])
        assert wrong.exit_code == 2 and f"error: --host {host!r} is not an address" in wrong.stderr, host
    unreachable = CliRunner().invoke(main, ["serve", str(examples), "--host", "192.0.2.1", "--token", "t" * 20])
    assert unreachable.exit_code == 2  # TEST-NET-1: never this machine's
    assert "error: cannot listen on 192.0.2.1:8765: " in unreachable.stderr
    assert "give --host an address of this machine" in unreachable.stderr and "--port" not in unreachable.stderr


def test_serving_a_folder_judged_before_some_episodes_says_so(tmp_path: Path) -> None:
    """As `clause obligations` does, serve says on start (F021) how many episodes are reported after --at;
    run here against a busy port, so the command ends right after saying it."""
    import socket

    from click.testing import CliRunner

    from cli.main import main
    from facts.bulk import write_bulk
    from facts.synth import synthesize
    write_bulk(synthesize(40, 2), tmp_path / "bulk")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        args = ["serve", str(tmp_path / "bulk"), "--port", str(held.getsockname()[1])]
        early = CliRunner().invoke(main, [*args, "--at", "2024-06-01T00:00"])
        late = CliRunner().invoke(main, [*args, "--at", "2025-01-01T00:00"])
    assert early.exit_code == 2 and "episodes reported after 2024-06-01T00:00, the time judged" in early.stderr
    assert late.exit_code == 2 and "F021" not in late.stderr and "Address already in use" in late.stderr
