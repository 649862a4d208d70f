"""What every command shares: errors as exit 1 with a located message, output, the clock.

See docs/interfaces.md, "Commands": 0 success, 1 bad input (nothing written), 2 usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from roundtable.config import SecretKeyMissing, get_settings
from roundtable.errors import InputError, NotFound
from roundtable.installation.service import KeyMismatch

stderr = Console(stderr=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _fail(message: str) -> NoReturn:
    stderr.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def _user_errors(*, schema: bool = True) -> Iterator[None]:
    """Turn input errors into exit code 1 with a message, never a traceback.

    ``schema``: first make sure the database has this code's schema, so that a
    database not yet created says ``run `roundtable db upgrade` first``.
    """
    from roundtable.migrate import SchemaNotReady, require_current_schema

    try:
        if schema:
            require_current_schema()
        yield
    except SchemaNotReady as error:
        _fail(str(error))
    except InputError as error:
        for problem in error.problems:
            stderr.print(f"error: {problem}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except NotFound as error:
        _fail(str(error))
    except (KeyMismatch, SecretKeyMissing) as error:
        _fail(str(error))
    except FileNotFoundError as error:
        _fail(f"{error.filename}: no such file")
    except IsADirectoryError as error:
        _fail(f"{error.filename}: is a folder, not a file")


@contextmanager
def _writes_links() -> Iterator[None]:
    """User errors as :func:`_user_errors`, after checking the key links are signed with.

    A command that writes links with a key other than the one the database's links
    were issued with would send links that answer 404 (docs/architecture.md, "Identities").
    """
    _check_key()
    with _user_errors(schema=False):
        yield


def _check_key() -> None:
    """Exit 1, naming the key's source, when the key is not the database's."""
    from roundtable.installation.service import check_secret_key

    with _user_errors(schema=False):
        get_settings().resolved_secret_key()  # no key at all is said first
    with _user_errors():
        check_secret_key()


def _who_sends(count: int) -> str:
    """Where queued mail goes and what sends it, for a command's last line ("" when none)."""
    if not count:
        return ""
    from roundtable.mail.transports import describe_target, redacted_url

    settings = get_settings()
    if settings.broker_url:
        sender = f"a worker on {redacted_url(settings.broker_url)} sends them"
    else:
        sender = "`roundtable serve` or a worker sends them"
    return f" for {describe_target(settings.mail_url)}; {sender}"


def _emit(as_json: bool, document: dict[str, Any], text: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    else:
        typer.echo(text)


@contextmanager
def _progress(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal; nothing when piped or in ``--json`` mode."""
    if not enabled or not stderr.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _now() -> Any:
    from roundtable.types import utcnow

    return utcnow()
