"""The benchmarks still run: a tiny run of benchmarks/mixed.py (and of the others)
on the database this suite runs on (its own throwaway server for PostgreSQL), so that a change to
the models, the demo or the routes cannot leave the README's performance figures unreproducible.
About 8 s each on a quiet machine; the figures of so short a run mean nothing, only the exit
status and the checks do."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[1]


def test_a_tiny_mixed_run_answers_everything_and_keeps_every_invariant(db_kind):
    run = subprocess.run(
        [sys.executable, "benchmarks/mixed.py", "--db", db_kind, "--workers", "1",
         "--seconds", "2", "--events", "25", "--clients", "4", "--rounds", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"checks on {db_kind}: no session oversold" in run.stdout


def test_the_ticket_rendering_benchmark_runs_and_draws_every_kind(db_kind):
    """benchmarks/tickets.py (SQLite, in process): the page, QR, card, certificate, PDFs."""
    if db_kind != "sqlite":
        pytest.skip("in process on a SQLite file whatever the suite's database")
    run = subprocess.run([sys.executable, "benchmarks/tickets.py", "--requests", "3"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "picture card PNG" in run.stdout and "certificate PDF" in run.stdout, \
        run.stdout[-3000:] + run.stderr[-3000:]


def test_the_profile_of_the_hot_paths_runs_and_prints_every_path(db_kind):
    """benchmarks/hot_paths.py (in process): every hot path answered as it should, one table."""
    run = subprocess.run([sys.executable, "benchmarks/hot_paths.py", "--db", db_kind,
                          "--requests", "3", "--warmup", "1", "--top", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for path in ("event list `GET /`", "event page `GET /events/<id>`",
                 "ticket page `GET /t/<code>`", "register: phone code + registration (API)",
                 "check-in, fresh ticket", "check-in, re-scan"):
        assert f"| {path}" in run.stdout, run.stdout[-3000:]


def test_a_tiny_run_of_the_public_pages_answers_every_page(db_kind):
    """benchmarks/pages.py: the list and event pages against the bare read, two client counts."""
    run = subprocess.run(
        [sys.executable, "benchmarks/pages.py", "--db", db_kind, "--workers", "1",
         "--seconds", "1", "--events", "25", "--clients", "2,4", "--rounds", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.count("target 0.6:") >= 4  # per client count, and in the summary


def test_a_tiny_opening_fills_the_session_without_oversell_and_shows_latecomers_full(db_kind):
    """benchmarks/opening.py: 40 citizens for 10 places over 3 s; every check kept."""
    run = subprocess.run(
        [sys.executable, "benchmarks/opening.py", "--db", db_kind, "--workers", "2",
         "--citizens", "40", "--seconds", "3", "--places", "10", "--concurrency", "8"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "time until full:" in run.stdout
    assert "no oversell, none lost" in run.stdout


def test_a_tiny_checkin_run_lets_each_ticket_in_exactly_once(db_kind):
    """benchmarks/checkin.py: the door list, scans and re-scans with their scan_ids as the door
    page sends them (2 × 40), and the offline sync (20); each ticket let in once, none failed."""
    run = subprocess.run(
        [sys.executable, "benchmarks/checkin.py", "--db", db_kind, "--requests", "40",
         "--devices", "1,4", "--rounds", "1", "--seconds", "10", "--workers", "2",
         "--batch-scans", "20", "--list-tickets", "150"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "scans answered 100 of 100: each exactly once" in run.stdout, run.stdout[-3000:]


def test_the_scan_profile_counts_one_connection_per_scan(db_kind):
    """benchmarks/checkin_profile.py: every kind of scan, one pooled connection each."""
    run = subprocess.run([sys.executable, "benchmarks/checkin_profile.py", "--db", db_kind,
                          "--scans", "5"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    checkouts = {line.split()[0]: float(line.split()[2]) for line in run.stdout.splitlines()
                 if line.split()[:1] in (["fresh"], ["rescan"], ["scan_id"])}
    assert checkouts == {"fresh": 1.0, "rescan": 1.0, "scan_id": 1.0}, run.stdout
