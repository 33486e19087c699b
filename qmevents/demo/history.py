"""Last year's Quality Month for the demo: the programme's published events held in September of
the previous year, with registrations, admissions and door tallies, so that reports, dashboards
and the campaign digest have something to show.

The figures are designed, not drawn: each event's plan below fixes who came and what was counted,
sized so that the campaign digest (services/reporting/digest.py) reads like the 2019 press digest in
/work/shared/seed/ where that gives figures (普陀 "至少200个家庭、400余人次", 崇明 "3000余份",
静安 "1200余份 / 130余人次 / 80余人次", 青浦 "500余人次", 杨浦 "300余人"…); elsewhere they are
plausible. Only the order of arrivals, party sizes and who visited which tour station come from
a random generator, seeded by the event's title: every run writes the same rows.

A share of the parties that came answered the thank-you's satisfaction survey (SURVEY_SHARE),
mostly pleased, a few with a comment, from a generator of their own: 满意度 in the report and the
digest, and the rest of the figures unchanged.

Idempotent like the loader: a past event that exists (same organisation and title, the title
prefixed with its year, "2025年…") is left alone with everything under it. Rows are written with
bulk INSERTs in one transaction, a few thousand in all. Registrants are obviously fake: names
"演示·王伟" (names by the rule of services.identity, which refuses digits), phones "100" + 8
digits, which no mainland mobile number starts with.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select

from ..extensions import db
from ..models import (
    Admission,
    AdmissionKind,
    Checkpoint,
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Organisation,
    Registration,
    RegistrationMode,
    RegistrationStatus,
    SurveyResponse,
    Tally,
)
from ..models.reference import District
from ..services.registrations.codes import CODE_ALPHABET, CODE_LENGTH
from ..timeutil import from_local
from .names import DEMO_PREFIX, person_name
from .programme import BUREAUS, EVENTS
from .programme import station as station_spec

MONTH = 9  # 质量月 is September


@dataclass(frozen=True)
class Plan:
    """What happened at one past event, in the figures the reports count."""

    came: tuple[int, int]  # confirmed parties let in at the entrance, and their people
    no_shows: int = 0  # confirmed parties that never came
    short: int = 0  # parties of `came` that arrived one person short of their registration
    walk_ins: tuple[int, int] = (0, 0)  # groups without a ticket, and their people
    cancelled: int = 0  # registrations cancelled before the day
    refused: int = 0  # applications declined (approval) or not drawn (lottery)
    tallies: dict[str, int] = field(default_factory=dict)


PLANS: dict[str, Plan] = {
    "静安区“质量月”宣传咨询便民活动": Plan(
        (96, 190), no_shows=18, short=6, walk_ins=(40, 72), cancelled=6,
        tallies={"血压测量": 83, "资料发放": 1216, "咨询": 134}),  # seed: 80余 / 1200余 / 130余
    "上海国拍“质量开放日”半日游": Plan((30, 53), no_shows=3, refused=7),  # seed: 五十多位嘉宾
    "松江区青年志愿者“质量月”公益服务": Plan(
        (110, 236), no_shows=20, short=8, walk_ins=(64, 118), cancelled=5,
        tallies={"资料发放": 1530, "咨询": 96, "人参切片": 142, "一元点绿": 75,
                 "金融知识科普": 58}),
    "闵行区“质量月”启动仪式暨便民服务": Plan(
        (130, 262), no_shows=25, short=10, walk_ins=(85, 160), cancelled=8,
        tallies={"投诉受理": 12, "血压计校验": 48, "珠宝鉴定": 66, "眼镜修理": 39}),
    "金山“质量月”启动仪式暨便民服务夜市": Plan(
        (150, 318), no_shows=30, short=12, walk_ins=(120, 231), cancelled=9,
        tallies={"资料发放": 2010, "投诉受理": 9, "血压计检修": 31, "眼镜“四免”": 45,
                 "有奖竞答": 120}),  # seed: 近2000余份
    "普陀区家庭探寻质量发展之旅": Plan(
        (198, 394), no_shows=14, short=9, walk_ins=(6, 12), cancelled=10),  # 204 families, 406
    "浦东度假区首届质量主题辩论赛": Plan((92, 92), no_shows=8, refused=46),
    "校服质量抽检结果家长说明会": Plan(
        (32, 61), no_shows=6, walk_ins=(3, 5), tallies={"资料发放": 150}),
    "晨冠乳业质量开放日": Plan((24, 71), no_shows=3, short=2),
    "伽蓝集团质量开放日": Plan((25, 64), no_shows=2, cancelled=3),
    "菲林格尔质量开放日": Plan((16, 45), no_shows=2),
    "嘉昆太“卓行越远”质量论坛": Plan((74, 74), no_shows=4, refused=9),
    "嘉昆太“质量开放日”·走进威派格": Plan((15, 38), no_shows=2),
    "崇明区“质量月”现场宣传咨询活动": Plan(
        (120, 251), no_shows=22, short=9, walk_ins=(96, 180), cancelled=7,
        tallies={"资料发放": 3012, "投诉受理": 5, "血压计校修": 20, "酒类鉴别": 46}),
    "质量之旅走进邻里汇": Plan(
        (100, 214), no_shows=15, short=5, walk_ins=(50, 90), cancelled=4,
        tallies={"资料发放": 604, "宣传品发放": 506, "药材鉴别": 88}),  # seed: 600余 / 500余
    "质量标杆企业展示·走进新通联": Plan((14, 26), no_shows=1),
    "杨树浦水厂质量开放日": Plan((70, 186), no_shows=8, short=4, cancelled=5),
    "长阳创谷企业质量开放日": Plan((52, 121), no_shows=6),  # with 水厂: 307, seed 300余人
    "长宁区“质量月”现场咨询及服务活动": Plan(
        (90, 188), no_shows=14, short=6, walk_ins=(70, 130), cancelled=6,
        tallies={"咨询": 63, "投诉受理": 7, "资料发放": 2046, "血压计校修": 36}),
    "青浦“质量故事巡讲”系列讲座": Plan((262, 503), no_shows=30, short=8),  # seed: 500余人次
}


@dataclass
class HistoryReport:
    year: int
    created: int = 0
    existing: int = 0
    registrations: int = 0
    admissions: int = 0

    def __str__(self) -> str:
        return (f"{self.created} created, {self.existing} already there "
                f"({self.registrations} registrations, {self.admissions} admissions written)")


def edition_year(today: date) -> int:
    """Last year's Quality Month: September of the year before `today`."""
    return today.year - 1


def past_title(year: int, title: str) -> str:
    """As the press names an edition: 2025年普陀区家庭探寻质量发展之旅."""
    return f"{year}年{title}"


def load_history(today: date, staff_ids: dict[str, int | None]) -> HistoryReport:
    """Write last year's edition where it is missing; `staff_ids` maps a district to the user who
    scanned at its doors."""
    report = HistoryReport(edition_year(today))
    for spec in EVENTS:
        plan = PLANS.get(spec["title"])
        if plan is None or spec["status"] != EventStatus.PUBLISHED.value:
            continue  # drafts were never held
        org_id = db.session.scalar(
            select(Organisation.id).filter_by(name=BUREAUS[spec["district"]][0]))
        title = past_title(report.year, spec["title"])
        if db.session.scalar(select(Event.id).filter_by(organisation_id=org_id, title=title)):
            report.existing += 1
            continue
        rng = random.Random(title)  # a str seed is stable across runs and machines
        event = _event(org_id, spec, plan, title, report.year, rng)
        regs, adms = _attendance(event, plan, spec, rng, staff_ids.get(spec["district"]))
        report.created += 1
        report.registrations += regs
        report.admissions += adms
    db.session.commit()
    return report


# --- the event as it was set up ---------------------------------------------------------------


def _event(org_id: int, spec: dict, plan: Plan, title: str, year: int,
           rng: random.Random) -> Event:
    first_day = min(s["day"] for s in spec["sessions"])
    published = _at(year, max(first_day - 25, 1), "10:00", month=MONTH - 1)
    event = Event(
        organisation_id=org_id,
        district_id=db.session.scalar(select(District.id).filter_by(name=spec["district"])),
        title=title, kind=EventKind(spec["kind"]), host=spec["host"], venue=spec["venue"],
        address=spec["address"], description=spec["description"],
        status=EventStatus.PUBLISHED, max_party_size=spec["max_party_size"],
        registration_mode=RegistrationMode(spec["registration_mode"]),
        allow_reentry=spec.get("allow_reentry", False),
        created_at=published - timedelta(days=3), updated_at=published, published_at=published,
    )
    event.sessions = [
        EventSession(label=s["label"], starts_at=_at(year, s["day"], s["start"]),
                ends_at=_at(year, s["day"], s["end"]), capacity=s["capacity"], places_taken=0,
                registration_closes_at=(_at(year, s["day"] - 1, s["start"])
                                        if spec["registration_mode"] == "lottery" else None))
        for s in spec["sessions"]
    ]
    event.checkpoints = [Checkpoint(name=name, address=address, hours=hours, position=i)
                         for i, (name, address, hours) in enumerate(map(station_spec, spec["checkpoints"]))]
    event.tallies = [Tally(name=n, position=i, count=plan.tallies.get(n, 0))
                     for i, n in enumerate(spec.get("tallies", []))]
    db.session.add(event)
    db.session.flush()
    return event


def _at(year: int, day: int, hhmm: str, month: int = MONTH) -> datetime:
    return from_local(datetime.combine(date(year, month, min(day, 30)), time.fromisoformat(hhmm)))


# --- who registered and who came ---------------------------------------------------------------


@dataclass
class _Party:
    session: EventSession
    size: int
    status: RegistrationStatus
    admitted: int = 0


def sizes(rng: random.Random, parties: int, people: int, largest: int) -> list[int]:
    """`parties` sizes between 1 and `largest` adding up to exactly `people`."""
    if not parties <= people <= parties * largest:
        raise ValueError(f"{people} people do not fit {parties} parties of at most {largest}")
    result = [1] * parties
    for _ in range(people - parties):
        room = [i for i, n in enumerate(result) if n < largest]
        result[rng.choice(room)] += 1
    return result


def _attendance(event: Event, plan: Plan, spec: dict, rng: random.Random,
                staff_id: int | None) -> tuple[int, int]:
    """Registrations and admissions of one event; places taken and capacities to match."""
    largest = event.max_party_size
    parties = [_Party(None, n, RegistrationStatus.CONFIRMED, admitted=n)
               for n in sizes(rng, *plan.came, largest)]
    for party in rng.sample([p for p in parties if p.size < largest], plan.short):
        party.size += 1  # one of the family stayed home
    parties += [_Party(None, rng.randint(1, largest), RegistrationStatus.CONFIRMED)
                for _ in range(plan.no_shows)]
    refused = (RegistrationStatus.NOT_SELECTED
               if event.registration_mode == RegistrationMode.LOTTERY
               else RegistrationStatus.DECLINED)
    parties += [_Party(None, rng.randint(1, largest), RegistrationStatus.CANCELLED)
                for _ in range(plan.cancelled)]
    parties += [_Party(None, rng.randint(1, largest), refused) for _ in range(plan.refused)]
    rng.shuffle(parties)
    weights = [s.capacity for s in event.sessions]
    for party in parties:
        party.session = rng.choices(event.sessions, weights)[0]
    for session in event.sessions:
        taken = sum(p.size for p in parties
                    if p.session is session and p.status == RegistrationStatus.CONFIRMED)
        session.places_taken = taken
        session.capacity = max(session.capacity, taken)  # last year's crowd may have been bigger
    db.session.flush()
    ids = _insert_registrations(event, parties, rng)
    admissions = _admissions(event, plan, parties, ids, rng, staff_id)
    if admissions:
        db.session.execute(insert(Admission), admissions)
    answers = _survey_answers(event, parties, ids, random.Random(event.title + "满意度"))
    if answers:
        db.session.execute(insert(SurveyResponse), answers)
    return len(parties), len(admissions)


def _insert_registrations(event: Event, parties: list[_Party], rng: random.Random) -> list[int]:
    rows = []
    for n, party in enumerate(parties, start=1):
        registered = party.session.starts_at - timedelta(days=rng.randint(1, 14),
                                                         minutes=rng.randint(0, 600))
        ended = party.status in (RegistrationStatus.CANCELLED, RegistrationStatus.DECLINED,
                                 RegistrationStatus.NOT_SELECTED)
        rows.append(dict(
            code="".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
            event_id=event.id, session_id=party.session.id,
            name=f"{DEMO_PREFIX}{person_name(n)}", phone=f"100{event.id % 100:02d}{n:06d}",
            party_size=party.size, status=party.status, source="web",
            consent_at=registered, created_at=registered,
            updated_at=party.session.starts_at if ended else registered,
            cancelled_at=(registered + timedelta(hours=rng.randint(1, 20))
                          if party.status == RegistrationStatus.CANCELLED else None),
            admitted_people=party.admitted,
        ))
    query = insert(Registration).returning(Registration.id, sort_by_parameter_order=True)
    return list(db.session.scalars(query, rows))


def _admissions(event: Event, plan: Plan, parties: list[_Party], ids: list[int],
                rng: random.Random, staff_id: int | None) -> list[dict]:
    """Entries at the entrance, visits at the stations of a tour, walk-in groups."""
    entrance, *stations = event.checkpoints
    rows = []
    for party, registration_id in zip(parties, ids, strict=True):
        if not party.admitted:
            continue
        at = _arrival(party.session, rng)
        rows.append(_admission(party.session, entrance, AdmissionKind.ENTRY, party.admitted, at,
                               staff_id, registration_id))
        for station in stations:
            at += timedelta(minutes=rng.randint(8, 25))
            if rng.random() < 0.85:
                rows.append(_admission(party.session, station, AdmissionKind.VISIT,
                                       party.admitted, at, staff_id, registration_id))
    for people in sizes(rng, *plan.walk_ins, 4) if plan.walk_ins[0] else []:
        session = rng.choices(event.sessions, [s.capacity for s in event.sessions])[0]
        rows.append(_admission(session, entrance, AdmissionKind.WALK_IN, people,
                               _arrival(session, rng), staff_id, None))
    return rows


SURVEY_SHARE = 0.4  # of the parties that came, those who answered the survey
STARS = (1, 2, 3, 4, 5)
STAR_WEIGHTS = (1, 2, 8, 35, 54)  # a free event people chose to come to: mostly pleased
COMMENTS = ("讲解很专业，孩子很喜欢。", "希望以后多举办这样的活动。", "现场秩序很好，工作人员很热情。",
            "时间有点短，意犹未尽。", "停车不太方便，建议提前告知交通方式。", "")


def _survey_answers(event: Event, parties: list[_Party], ids: list[int],
                    rng: random.Random) -> list[dict]:
    """The answers of SURVEY_SHARE of the parties that came, a day after their session."""
    rows = []
    for party, registration_id in zip(parties, ids, strict=True):
        if not party.admitted or rng.random() >= SURVEY_SHARE:
            continue
        stars = rng.choices(STARS, STAR_WEIGHTS)[0]
        rows.append(dict(
            registration_id=registration_id, event_id=event.id, stars=stars,
            come_again=None if rng.random() < 0.1 else stars >= 4 or rng.random() < 0.4,
            comment=rng.choice(COMMENTS) if rng.random() < 0.3 else "",
            created_at=party.session.ends_at + timedelta(hours=rng.randint(1, 30))))
    return rows


def _arrival(session: EventSession, rng: random.Random) -> datetime:
    """Most people come around the start; a fair keeps receiving them until it closes."""
    length = (session.ends_at - session.starts_at).total_seconds() / 60
    minutes = rng.triangular(-20, max(length - 10, 0), 5)
    return session.starts_at + timedelta(minutes=round(minutes))


def _admission(session: EventSession, checkpoint: Checkpoint, kind: AdmissionKind, people: int,
               at: datetime, staff_id: int | None, registration_id: int | None) -> dict:
    return dict(event_id=session.event_id, session_id=session.id, checkpoint_id=checkpoint.id,
                registration_id=registration_id, kind=kind, people=people, at=at,
                by_id=staff_id, name=None, phone=None)
