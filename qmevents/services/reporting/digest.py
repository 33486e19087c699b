"""The campaign summary (活动集锦): a draft press digest, one paragraph per district, written from
the figures of services.reporting.reports for an editor to polish. Chinese in the style of the
city's digest (/work/shared/seed/), English in plain words.

The text is built from phrase templates (services/reporting/phrases.py), one set per language, not
from the gettext catalogues: the Chinese is press Chinese by nature and must not depend on how a
catalogue translated an English sentence, and the English is the other language of the same
document. Names from the data (titles, venues, hosts, stations, tallies) are never translated.

Figures are rounded the way the press does (`press_round`): 3012 → 3000余份, 405 → 400余人次,
204 families → 至少200个家庭; small numbers stay exact.

满意度: when the thank-you's survey (services.survey) has answers, the intro and each district's
paragraph say how many answered, their average stars and the share who would come again
(services.reporting.satisfaction); without answers nothing is said.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ...extensions import db
from ...models import District, Event, EventKind, EventSession, EventStatus, Organisation
from ...timeutil import SHANGHAI, from_local, to_local, utcnow
from . import dashboards, reports, satisfaction
from .phrases import EN, ZH, Phrases, press_round

# --- the summary ------------------------------------------------------------------------------


@dataclass
class DistrictParagraph:
    district_id: int
    name: str  # as the digest heads it: 普陀 / Putuo
    headline: str  # 探寻质量发展之旅-like subtitle, for the editor to sharpen
    text: str


@dataclass
class Summary:
    locale: str  # "zh" or "en"
    title: str
    intro: str
    paragraphs: list[DistrictParagraph]

    def as_text(self) -> str:
        """The whole draft as plain text, laid out like the seed digest."""
        blocks = [self.title, self.intro]
        sep = "：" if self.locale == "zh" else ":"
        for p in self.paragraphs:
            blocks += [f"{p.name}{sep}", p.headline, p.text]
        return "\n\n".join(blocks) + "\n"


def campaign_summary(filter: dashboards.DashboardFilter, locale: str) -> Summary:
    """The draft digest of what happened within `filter` (an organiser's is its organisation's).
    Without an end date it runs to today: a digest reports what was held, not what is to come.
    ValidationFailed for a range that ends before it starts; NotFound for an unknown district
    (both from dashboards.dashboard, whose figures the intro and district totals are)."""
    words = ZH if str(locale).startswith("zh") else EN
    board = dashboards.dashboard(_held_filter(filter))
    districts = {d.id: d for d in db.session.scalars(select(District))}
    held_ids = _held_events(board.filter)
    by_event = [reports.event_report(event_id) for event_id in held_ids]
    rated = satisfaction.by_district(held_ids)
    paragraphs = []
    for line in board.by_district:
        held = [r for r in by_event if r.district == districts[line.key].name]
        if held:
            paragraphs.append(_district_paragraph(words, districts[line.key], line, held,
                                                  rated.get(line.key)))
    return Summary(
        locale=words.code,
        title=words.title(_year(by_event)),
        intro=_intro(words, board.filter, board, by_event, satisfaction.of_events(held_ids)),
        paragraphs=paragraphs,
    )


def _held_filter(flt: dashboards.DashboardFilter) -> dashboards.DashboardFilter:
    """The filter with an end: today when none was given (reports checks the range)."""
    today = to_local(utcnow()).date()
    date_to = flt.date_to or max(today, flt.date_from or today)
    return dashboards.DashboardFilter(date_from=flt.date_from, date_to=date_to, kind=flt.kind,
                                   district_id=flt.district_id,
                                   organisation_id=flt.organisation_id,
                                   bureau_district_id=flt.bureau_district_id)


def _start_of(day: date) -> datetime:
    return from_local(datetime.combine(day, datetime.min.time()), SHANGHAI)


def _held_events(flt: dashboards.DashboardFilter) -> list[int]:
    """Published events with a session begun by now and starting within the range (as the
    dashboard picks sessions), in the city's district order, then by their first day."""
    query = (
        select(Event.id)
        .join(District, District.id == Event.district_id)
        .join(EventSession, EventSession.event_id == Event.id)
        .where(Event.status == EventStatus.PUBLISHED, EventSession.starts_at <= utcnow())
        .group_by(Event.id, District.position)
        .order_by(District.position, func.min(EventSession.starts_at), Event.id)
    )
    if flt.date_from:
        query = query.where(EventSession.starts_at >= _start_of(flt.date_from))
    if flt.date_to:
        query = query.where(EventSession.starts_at < _start_of(flt.date_to + timedelta(days=1)))
    if flt.kind:
        query = query.where(Event.kind == EventKind(flt.kind))
    if flt.district_id:
        query = query.where(Event.district_id == flt.district_id)
    if flt.organisation_id:
        query = query.where(dashboards.owned_or_overseen(flt))
    return list(db.session.scalars(query))


def _plain_venue(venue: str) -> str:
    """The place without a note for citizens: 上海纺织博物馆（集合签到） → 上海纺织博物馆."""
    return re.sub(r"\s*[（(][^）)]*[）)]\s*$", "", venue) or venue


def _year(held: list[reports.EventReport]) -> int | None:
    years = {to_local(r.starts_at).year for r in held if r.starts_at}
    return years.pop() if len(years) == 1 else None


def _satisfaction(words: Phrases, figures: satisfaction.Satisfaction | None) -> str:
    """The survey's sentence, or "" when nobody answered."""
    if figures is None or not figures.answers:
        return ""
    return words.satisfaction(press_round(figures.answers), figures.average,
                              figures.come_again_share)


def _intro(words: Phrases, flt: dashboards.DashboardFilter, board: dashboards.Dashboard,
           held: list[reports.EventReport], rated: satisfaction.Satisfaction) -> str:
    if not held:
        return words.nothing_held
    if flt.bureau_district_id:  # the bureau drafts its district's paragraph
        scope = words.district(db.session.get(District, flt.bureau_district_id))
    elif flt.organisation_id:
        scope = words.short_org(db.session.get(Organisation, flt.organisation_id).name)
    elif flt.district_id:
        scope = words.district(db.session.get(District, flt.district_id))
    else:
        scope = words.city(len({r.district for r in held}))
    first = min(to_local(r.starts_at) for r in held)
    last = max(to_local(r.ends_at) for r in held)
    totals = board.totals.figures
    return words.intro(
        period=words.period(first.date(), last.date(), with_year=True), scope=scope,
        events=len(held), sessions=sum(len(r.sessions) for r in held),
        families=press_round(totals.families), people=press_round(totals.people),
        walk_ins=press_round(totals.walk_in_people),
        tallies=[words.tally(t.name, press_round(t.count)) for t in board.tallies if t.count],
        satisfaction=_satisfaction(words, rated),
    )


def _district_paragraph(words: Phrases, district: District, line: dashboards.DashboardLine,
                        held: list[reports.EventReport],
                        rated: satisfaction.Satisfaction | None = None) -> DistrictParagraph:
    sentences = [
        _event_sentence(words, district, group[0]) if len(group) == 1
        else _open_days_sentence(words, group)
        for group in _grouped(held)
    ]
    if len(held) > 1 and line.figures.people:
        sentences.append(words.district_total(
            words.district(district), len(held), press_round(line.figures.families),
            press_round(line.figures.people)))
    said = _satisfaction(words, rated)
    if said:
        sentences.append(said)
    return DistrictParagraph(
        district_id=district.id,
        name=words.heading(district),
        headline=words.headline(held[0].kind, mixed=len({r.kind for r in held}) > 1),
        text=words.join(sentences),
    )


def _days_of(r: reports.EventReport) -> set[date]:
    return {to_local(s.starts_at).date() for s in r.sessions}


def _grouped(held: list[reports.EventReport]) -> list[list[reports.EventReport]]:
    """Events in order, open days held on one same day together: the press reports them so."""
    groups: list[list[reports.EventReport]] = []
    for r in held:
        last = groups[-1][0] if groups else None
        if (last is not None and r.kind == last.kind == EventKind.OPEN_DAY
                and len(_days_of(r)) == 1 and _days_of(r) == _days_of(last)):
            groups[-1].append(r)
        else:
            groups.append([r])
    return groups


def _open_days_sentence(words: Phrases, group: list[reports.EventReport]) -> str:
    people = sum(r.totals.people for r in group)
    return words.open_days(
        day=words.day(min(_days_of(group[0]))), bureau=group[0].organisation,
        hosts=[r.host for r in group], titles=[r.title for r in group],
        people=press_round(people))


def _event_sentence(words: Phrases, district: District, r: reports.EventReport) -> str:
    organiser, _sep, guests = r.host.replace(";", "；").partition("；")
    short = district.name.removesuffix("新区").removesuffix("区")
    local = sorted((to_local(s.starts_at), to_local(s.ends_at)) for s in r.sessions)
    held = words.held(
        when=words.when(local), title=r.title, venue=_plain_venue(r.venue), kind=r.kind,
        who=organiser if short in organiser or not organiser else None,
        bureau=r.organisation, enterprise=None if short in organiser else organiser,
        guests=[g for g in guests.replace("，", "、").split("、") if g.strip()],
    )
    stations = ([c.name for c in r.checkpoints] if r.kind == EventKind.FAMILY_TOUR
                and len(r.checkpoints) > 1 else [])
    detail = words.detail(
        kind=r.kind, sessions=len(r.sessions), stations=stations,
        families=press_round(r.totals.families), people=press_round(r.totals.people),
        tallies=[words.tally(t.name, press_round(t.count)) for t in r.tallies if t.count],
    )
    return words.join([held, detail])
