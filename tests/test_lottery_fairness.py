"""The lottery is unbiased: a statistical check of services.registrations.lottery's algorithm, the
same function every draw uses (`verify`), with no database.

The pool: 40 applications with consecutive registration ids (as real ones are), ten each of party
sizes 1, 2, 3 and 4 mixed in application order, for 40 places. DRAWS draws with seeds made by a
generator with a fixed master seed, so the test is deterministic; a failing run is a real change.

Tolerances: a frequency may be off its expectation by at most Z standard errors. With Z = 4.5 one
check fails by chance with probability 7e-6, so the 40 per-applicant checks of a test together
with probability below 3e-4. The chi-square test of the drawn positions uses the 0.1% critical
value.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass

import pytest

from qmevents.services.registrations import lottery

MASTER_SEED = 20250901
DRAWS = 2000
REFERENCE_DRAWS = 20000
CAPACITY = 40
MAX_PARTY = 4
Z = 4.5
BINS = 5  # positions of the drawn order in fifths


def _pool() -> list[tuple[int, int]]:
    sizes = [1, 2, 3, 4] * 10
    random.Random(MASTER_SEED).shuffle(sizes)
    return [(1001 + n, size) for n, size in enumerate(sizes)]


POOL = _pool()
SIZE = dict(POOL)
N = len(POOL)


@dataclass
class Tally:
    positions: dict[int, Counter]  # application id -> {bin of its place in the drawn order: n}
    position_sum: Counter  # application id -> sum of its places (0-based)
    wins: Counter  # application id -> draws won
    draws: list[tuple[list[int], list[int], int]]  # (drawn order, ranking, winners) per draw


@pytest.fixture(scope="module")
def tally() -> Tally:
    rng = random.Random(MASTER_SEED)
    result = Tally(positions={i: Counter() for i, _ in POOL}, position_sum=Counter(),
                   wins=Counter(), draws=[])
    for _ in range(DRAWS):
        seed = f"{rng.getrandbits(128):032x}"
        order = [registration_id for registration_id, _ in lottery.drawn_order(seed, POOL)]
        for place, registration_id in enumerate(order):
            result.positions[registration_id][place * BINS // N] += 1
            result.position_sum[registration_id] += place
        ranking, winners = lottery.verify(seed, CAPACITY, POOL)
        result.wins.update(ranking[:winners])
        result.draws.append((order, ranking, winners))
    return result


@pytest.fixture(scope="module")
def expected_win() -> dict[int, float]:
    """P(win | party size) when the order is a uniformly random permutation (Python's own
    generator, not SHA-256) and places are given first-fit: what an unbiased draw must give."""
    rng = random.Random(MASTER_SEED + 1)
    order = list(POOL)
    wins: Counter = Counter()
    for _ in range(REFERENCE_DRAWS):
        rng.shuffle(order)
        left = CAPACITY
        for _registration_id, size in order:
            if size <= left:
                wins[size] += 1
                left -= size
    per_size = Counter(SIZE.values())
    return {size: wins[size] / (REFERENCE_DRAWS * per_size[size]) for size in per_size}


def _chi2_critical(df: int, z: float = 3.09) -> float:
    """Wilson–Hilferty: the chi-square value exceeded with the normal tail of z (3.09: 0.1%)."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def test_every_application_is_equally_likely_at_every_place_of_the_drawn_order(tally):
    """Each application's place is uniform over 0..39, whatever its size or id: its mean place
    is 19.5 within Z standard errors, and the applications × fifths table passes chi-square
    at 0.1%."""
    expected_mean = (N - 1) / 2
    mean_error = math.sqrt((N * N - 1) / 12 / DRAWS)
    for registration_id, _size in POOL:
        mean = tally.position_sum[registration_id] / DRAWS
        assert abs(mean - expected_mean) <= Z * mean_error, (registration_id, mean)
    expected = DRAWS / BINS
    chi2 = sum((tally.positions[i][b] - expected) ** 2 / expected
               for i, _ in POOL for b in range(BINS))
    assert chi2 < _chi2_critical((N - 1) * (BINS - 1)), chi2


def test_each_applicant_wins_as_often_as_its_party_size_predicts(tally, expected_win):
    """Per application: its share of wins is within Z standard errors of P(win | its size) for
    a uniformly random order; per size, pooled over its ten applications, likewise."""
    for registration_id, size in POOL:
        p = expected_win[size]
        observed = tally.wins[registration_id] / DRAWS
        assert abs(observed - p) <= Z * math.sqrt(p * (1 - p) / DRAWS), (registration_id, size)
    for size, p in expected_win.items():
        members = [i for i, s in POOL if s == size]
        observed = sum(tally.wins[i] for i in members) / (DRAWS * len(members))
        assert abs(observed - p) <= Z * math.sqrt(p * (1 - p) / (DRAWS * len(members))), size


def test_the_size_effect_is_the_documented_one(expected_win):
    """docs/LOTTERY.md: in this pool a single wins about 46% of the time, a family of four 38%
    (within 1.5 points), and a larger party never has the better chance."""
    assert abs(expected_win[1] - 0.46) <= 0.015
    assert abs(expected_win[4] - 0.38) <= 0.015
    assert expected_win[1] >= expected_win[2] >= expected_win[3] >= expected_win[4]


def test_applying_early_or_late_makes_no_difference(tally):
    """The list's order is not an input (the same ranking for the list reversed or shuffled),
    and per party size the first twenty applications win as often as the last twenty, within
    Z standard errors of the difference."""
    rng = random.Random(MASTER_SEED + 2)
    for _ in range(200):
        seed = f"{rng.getrandbits(128):032x}"
        shuffled = rng.sample(POOL, len(POOL))
        assert lottery.verify(seed, CAPACITY, shuffled) == lottery.verify(seed, CAPACITY, POOL)
    for size in (1, 2, 3, 4):
        early = [i for i, s in POOL[: N // 2] if s == size]
        late = [i for i, s in POOL[N // 2:] if s == size]
        rate = [sum(tally.wins[i] for i in group) / (DRAWS * len(group)) for group in (early, late)]
        p = (rate[0] + rate[1]) / 2
        error = math.sqrt(p * (1 - p) * (1 / (DRAWS * len(early)) + 1 / (DRAWS * len(late))))
        assert abs(rate[0] - rate[1]) <= Z * error, (size, rate)


def test_party_size_matters_only_in_the_last_places(tally):
    """In every draw: the winners are the parties that fit as the drawn order is walked; places
    fill in people up to the capacity; no waiting party fits the places left; and after the first
    party that does not fit, at most MAX_PARTY - 1 more people are selected."""
    for order, ranking, winners in tally.draws:
        won = set(ranking[:winners])
        taken = sum(SIZE[i] for i in won)
        assert taken <= CAPACITY
        assert all(SIZE[i] > CAPACITY - taken for i in ranking[winners:])
        assert ranking[:winners] == [i for i in order if i in won]
        assert ranking[winners:] == [i for i in order if i not in won]
        skipped = next((k for k, i in enumerate(order) if i not in won), N)
        assert sum(SIZE[i] for i in order[skipped:] if i in won) <= MAX_PARTY - 1
