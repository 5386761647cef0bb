"""`clause serve`: a read-only web application over a case file, a case folder or a bulk folder."""
from __future__ import annotations

import errno
import ipaddress
import re
import secrets
import sys

import click

from cli.app import EXIT_INVALID, fail_on_domain_errors, load_policy, main, parse_at, policy_option, redact_option

_TOKEN = re.compile(r"[A-Za-z0-9._~-]{16,}")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@main.command()
@click.argument("input_path", metavar="DATA", type=click.Path())
@policy_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address needs --token.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="0: any free port.")
@click.option("--token", envvar="CLAUSE_SERVE_TOKEN", metavar="TOKEN",
              help="Access token every request must carry (at least 16 of A-Z a-z 0-9 . _ ~ -); "
                   "'generate' makes one. Also read from CLAUSE_SERVE_TOKEN.")
@click.option("--at", "at_text", metavar="TIME", help="Judge as at this London time (default: each case's as_of; now for bulk).")
@redact_option
@fail_on_domain_errors
def serve(input_path: str, policy_path: str | None, host: str, port: int, token: str | None, at_text: str | None,
          redact: bool) -> None:
    """Serve the worklist, each child's duties and why, and the compliance report, read-only."""
    if host.startswith("[") and host.endswith("]"):  # an IPv6 address as a URL writes it: [::1]
        host = host[1:-1]
    if not host or (":" in host and not _is_address(host)):  # '' listened everywhere; 127.0.0.1:8000 read as a name
        click.echo(f"error: --host {host!r} is not an address: give the address alone (127.0.0.1, ::1, a name of "
                   "this machine) and the port as --port", err=True)
        sys.exit(EXIT_INVALID)
    if token == "generate":
        token = secrets.token_urlsafe(24)
    if token is not None and not _TOKEN.fullmatch(token):
        click.echo("error: --token must be at least 16 characters of A-Z a-z 0-9 . _ ~ - (or 'generate')", err=True)
        sys.exit(EXIT_INVALID)
    if not is_loopback(host) and token is None:
        click.echo(f"error: serving on {host} lets other machines read children's records: give --token "
                   "(e.g. --token generate), or serve on 127.0.0.1", err=True)
        sys.exit(EXIT_INVALID)
    import socket

    import uvicorn

    from cli.serve.app import create_app
    from cli.serve.source import Source
    source = Source(input_path, load_policy(policy_path), parse_at(at_text), redact)
    if redact:
        from engine.output.redact import KEY_WARNING, key_is_default
        if key_is_default():
            click.echo(KEY_WARNING, err=True)
    snap = source.snapshot()  # invalid input fails here, with its diagnostics, before anything listens
    from cli.app import show_notes
    from engine.backends import later_count, later_episodes
    bulk = [p for p in snap.parts if p.case is None]  # a folder judged before some of its episodes: F021
    show_notes([d for p in bulk for d in later_episodes(later_count(p.facts, p.at), input_path, p.at)])
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    shown = f"[{host}]" if ":" in host else host
    try:
        sock.bind((host, port))
    except OSError as e:  # a port in use, an address not of this machine: say which, and what to do
        sock.close()
        way_out = ("give another --port (0: any free port) or stop what holds it" if e.errno == errno.EADDRINUSE
                   else "give --host an address of this machine (127.0.0.1, ::1, or one of its interfaces)")
        click.echo(f"error: cannot listen on {shown}:{port}: {e.strerror or e}; {way_out}", err=True)
        sys.exit(EXIT_INVALID)
    address = f"http://{shown}:{sock.getsockname()[1]}/" + (f"?token={token}" if token else "")
    click.echo(f"serving {input_path} on {address}  (Ctrl-C stops)", err=True)
    config = uvicorn.Config(create_app(source, token), log_level="warning", access_log=False, server_header=False)
    uvicorn.Server(config).run(sockets=[sock])
