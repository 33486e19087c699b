"""What a citizen's ticket costs the server: the page, the QR, the picture card (保存电子票图片)
and a tour's certificate, each drawn anew per request (only the QR is cached), measured in the
app's own process on a SQLite file so that the figure is the rendering, not the network.

Baseline in the same run: the ticket page itself (what every citizen opens anyway) and the QR
PNG (cached after its first drawing). Printed: the median and p95 per request in milliseconds,
and the ratio to the page. The card and the certificate are rate-limited per address like every
ticket URL (TICKET_RATE_LIMIT_PER_ADDRESS); the figure says what a limit's worth of requests
costs.

    python benchmarks/tickets.py [--requests 200]

Target: a card under 100 ms of CPU (the page is ~10 ms), so that one worker draws 10 a second.
Exits 1 when missed.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qmevents import create_app  # noqa: E402
from qmevents.extensions import db  # noqa: E402
from qmevents.models import EventSession, User, ensure_districts  # noqa: E402
from qmevents.services import accounts, events  # noqa: E402
from qmevents.services.door import checkin  # noqa: E402
from qmevents.services.registrations import register as reg  # noqa: E402
from qmevents.timeutil import utcnow  # noqa: E402

CARD_TARGET_MS = 100.0


def arrange(app) -> str:
    """A tour of three stations; a family's ticket stamped at all three."""
    start = (utcnow() + timedelta(minutes=10)).replace(second=0, microsecond=0)
    with app.app_context():
        db.create_all()
        ensure_districts()
        org = accounts.find_or_create_organisation("普陀区市场监督管理局", "普陀区")
        staff = accounts.create_user("bench@example.cn", "Qm-Tour-Stamp-8841",
                                     "organiser", org.name, "普陀区")
        db.session.commit()
        event = events.create_event(org.id, events.EventDraft(
            title="普陀区家庭探寻质量发展之旅", kind="family_tour", district="普陀区",
            venue="上海纺织博物馆", address="上海市普陀区澳门路150号", verify_phone=False,
            checkpoints=["上海纺织博物馆", "苏州河工业文明展示馆", "英雄金笔厂"],
            sessions=[events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=3),
                                          capacity=30)]), publish=True)
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event.id))
        checkpoints = [c.id for c in event.checkpoints]
        code = reg.register(reg.RegistrationRequest(
            event_id=event.id, session_id=session_id, name="张伟", phone="13812345678",
            party_size=3, consent=True)).code
        user = db.session.get(User, staff.id)
        for position, checkpoint_id in enumerate(checkpoints):
            checkin.redeem(code, event_id=event.id, session_id=session_id,
                           checkpoint_id=None if position == 0 else checkpoint_id,
                           people=None, staff=user)
    return code


def measure(client, path: str, n: int) -> list[float]:
    client.get(path)  # warm: imports, fonts, the QR's cache
    times = []
    for _ in range(n):
        began = time.process_time()
        response = client.get(path)
        times.append((time.process_time() - began) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="qmevents-bench-tickets-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'tickets.sqlite3'}",
                      "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "SERVER_NAME": "localhost"})
    code = arrange(app)
    client = app.test_client()
    rows = []
    for name, path in (("ticket page (baseline)", f"/t/{code}"),
                       ("QR PNG, cached", f"/t/{code}/qr.png"),
                       ("picture card PNG", f"/t/{code}/ticket.png"),
                       ("certificate PNG", f"/t/{code}/certificate.png"),
                       ("certificate PDF", f"/t/{code}/certificate.pdf"),
                       ("ticket PDF", f"/t/{code}/ticket.pdf")):
        times = measure(client, path, args.requests)
        rows.append((name, statistics.median(times), sorted(times)[int(len(times) * .95) - 1]))
    page = rows[0][1]
    print(f"{'':28} {'p50 ms':>8} {'p95 ms':>8} {'x page':>7}   (CPU per request, "
          f"{args.requests} requests each)")
    for name, p50, p95 in rows:
        print(f"{name:28} {p50:8.1f} {p95:8.1f} {p50 / page:7.1f}")
    card = rows[2][1]
    met = card <= CARD_TARGET_MS
    print(f"target: a picture card under {CARD_TARGET_MS:.0f} ms: "
          f"{'met' if met else 'NOT met'} ({card:.1f} ms)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
