"""flask lottery draw | run-due | verify: the draw (摇号) from a terminal, and checking one.

`verify` needs no database when given a file: anyone can download a session's published
lottery.json and re-run the draw from its seed and applicants (docs/LOTTERY.md).
"""
from __future__ import annotations

import csv
import io
import json
import sys

import click
from flask import Flask

from ..numbers import whole_number
from ..services.errors import DomainError, ValidationFailed
from ..services.registrations import lottery


def register(app: Flask) -> None:
    @app.cli.group("lottery")
    def lottery_group():
        """Lottery draws: run one, run the due ones, verify one."""

    @lottery_group.command("draw")
    @click.option("--session", "session_id", type=int, required=True, help="The session's id.")
    def draw(session_id: int):
        """Draw a session whose registration has closed. A draw runs once."""
        try:
            found = lottery.draw(session_id)
        except ValidationFailed as exc:
            _fail(exc)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(_summary(found))

    @lottery_group.command("run-due")
    def run_due():
        """Draw every lottery session whose registration has closed (for cron)."""
        results = lottery.run_due()
        for session_id, result in results:
            if isinstance(result, lottery.DrawRefused):
                click.echo(f"session {session_id}: not drawn: {result.message}")
            else:
                click.echo(_summary(result))
        if not results:
            click.echo("no draw was due")

    @lottery_group.command("verify")
    @click.option("--seed", help="The published seed (default: the one in the JSON file).")
    @click.option("--capacity", type=int, help="Places drawn for (default: from the JSON file).")
    @click.option("--applicants", "source", type=click.File("r", encoding="utf-8"),
                  help="The published lottery.json, or a CSV of id,party_size; - for stdin.")
    @click.option("--session", "session_id", type=int,
                  help="Check the draw stored for this session instead.")
    def verify(seed: str | None, capacity: int | None, source, session_id: int | None):
        """Re-run a draw and print its ranking. Exits 0 when it matches the published (or
        stored) ranking, 1 when it differs."""
        if session_id is not None:
            _verify_stored(session_id)
            return
        if source is None:
            raise click.UsageError("give --applicants FILE (or -), or --session ID")
        published = _read(source)
        seed = seed or published.get("seed")
        capacity = capacity if capacity is not None else published.get("capacity")
        if seed is None or capacity is None:
            raise click.UsageError("give --seed and --capacity (a CSV file holds neither)")
        try:
            outcome = lottery.verify(seed, capacity, published["applicants"])
        except ValidationFailed as exc:
            _fail(exc)
        _print_outcome(seed, capacity, published["applicants"], outcome)
        if "ranking" in published:
            same = (list(published["ranking"]), published.get("winners")) == tuple(outcome)
            click.echo("MATCHES the published ranking" if same
                       else "DIFFERS from the published ranking")
            sys.exit(0 if same else 1)


def _verify_stored(session_id: int) -> None:
    found = lottery.draw_of(session_id)
    if found is None:
        raise click.ClickException(f"session {session_id} has no draw")
    outcome = lottery.verify(found.seed, found.capacity, found.applicants)
    _print_outcome(found.seed, found.capacity, found.applicants, outcome)
    same = lottery.matches(found)
    click.echo("MATCHES the stored draw" if same else "DIFFERS from the stored draw")
    sys.exit(0 if same else 1)


def _read(source) -> dict:
    """The published JSON ({"seed", "capacity", "applicants", "ranking", "winners"}), a bare
    JSON list of [id, party size], or CSV lines id,party_size (a header line is skipped)."""
    text = source.read()
    try:
        data = json.loads(text)
    except ValueError:
        return {"applicants": _csv_pairs(text)}
    if isinstance(data, list):
        return {"applicants": data}
    if isinstance(data, dict) and isinstance(data.get("applicants"), list):
        return data
    raise click.UsageError("the JSON holds no \"applicants\" list")


def _csv_pairs(text: str) -> list[list[int]]:
    pairs = []
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        numbers = [whole_number(c) for c in cells]
        if len(cells) != 2 or None in numbers:
            if line_no == 1:  # a header
                continue
            raise click.UsageError(f"line {line_no}: expected id,party_size, got {row!r}")
        pairs.append(numbers)
    return pairs


def _print_outcome(seed: str, capacity: int, applicants: list, outcome: lottery.Outcome) -> None:
    sizes = {int(i): int(n) for i, n in applicants}
    won = outcome.ranking[:outcome.winners]
    click.echo(f"algorithm {lottery.ALGORITHM}, seed {seed}, {capacity} places, "
               f"{len(applicants)} applications")
    click.echo("place  registration  people  result")
    for index, registration_id in enumerate(outcome.ranking):
        result = ("selected" if index < outcome.winners
                  else f"waiting no. {index - outcome.winners + 1}")
        click.echo(f"{index + 1:>5}  {registration_id:>12}  {sizes[registration_id]:>6}  {result}")
    people = sum(sizes[i] for i in won)
    click.echo(f"winners: {outcome.winners} ({people} people): {' '.join(map(str, won))}")


def _summary(found) -> str:
    waiting = len(found.ranking) - found.winners
    return (f"session {found.session_id}: drew {found.winners} of {len(found.applicants)} "
            f"applications for {found.capacity} places, {waiting} on the waiting list; "
            f"seed {found.seed}")


def _fail(exc: ValidationFailed):
    for fieldname, message in exc.errors.items():
        click.echo(f"{fieldname}: {message}", err=True)
    sys.exit(2)
