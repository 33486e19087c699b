"""How the press words a campaign: figures rounded as a press release rounds them (3012 →
3000余份, 405 → 400余人次, 204 families → 至少200个家庭) and the phrase templates of the campaign
summary, one set per language (services/reporting/digest.py assembles them). Chinese in the style of
the city's digest, English in plain words; names from the data are never translated."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ...models import District, EventKind

# --- press rounding -------------------------------------------------------------------------


@dataclass(frozen=True)
class PressFigure:
    """A count as the press prints it: `floor` is what is written, `approx` adds 余 / "more than"."""

    value: int
    floor: int
    approx: bool

    @property
    def zh(self) -> str:
        if self.floor >= 10_000:
            wan = f"{self.floor / 10_000:.1f}".removesuffix(".0")
            return f"{wan}万" + ("余" if self.approx else "")
        if self.approx and self.floor in (100, 1000):
            return {100: "百余", 1000: "千余"}[self.floor]
        return f"{self.floor}余" if self.approx else str(self.floor)

    @property
    def en(self) -> str:
        return f"more than {self.floor:,}" if self.approx else f"{self.floor:,}"

    @property
    def at_least_zh(self) -> str:
        """至少200 for 204; the exact number when there is nothing to round."""
        return f"至少{self.floor}" if self.approx else str(self.floor)

    @property
    def at_least_en(self) -> str:
        return f"at least {self.floor:,}" if self.approx else f"{self.floor:,}"


def press_round(n: int) -> PressFigure:
    """Round down the way a press release does: under 20 exact; under 100 to the ten (83 → 80余);
    then two significant figures (134 → 130余, 3012 → 3000余), counted in 万 from 10,000
    (23,456 → 2.3万余)."""
    if n < 0:
        raise ValueError("a count cannot be negative")
    if n < 20:
        return PressFigure(n, n, False)
    step = 10 if n < 100 else 10 ** (len(str(n)) - 2)
    if n >= 10_000:
        step = max(step, 1000)
    floor = n - n % step
    return PressFigure(n, floor, floor != n)


# --- phrase templates, one set per language ---------------------------------------------------

_PART_OF_DAY = ((12, "上午", "morning"), (18, "下午", "afternoon"), (24, "晚", "evening"))


def _part_of_day(starts: list[datetime]) -> int | None:
    """0 morning, 1 afternoon, 2 evening, when every session starts in the same part."""
    parts = {next(i for i, (end, _zh, _en) in enumerate(_PART_OF_DAY) if s.hour < end)
             for s in starts}
    return parts.pop() if len(parts) == 1 else None


def _quoted(title: str) -> str:
    """“…” around a title, its own quotation marks turned into ‘…’ as Chinese nesting wants."""
    return "“" + title.replace("“", "‘").replace("”", "’") + "”"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


class Phrases:
    """The Chinese digest; `English` below writes the same document in plain English."""

    code = "zh"
    nothing_held = "所选范围内尚无已举办的活动。"
    _TALLIES = {
        "资料发放": "发放各类宣传资料{n}份", "宣传品发放": "发放宣传品{n}份",
        "咨询": "接待咨询{n}人次", "血压测量": "免费测量血压{n}人次",
        "投诉受理": "受理消费者投诉{n}件", "血压计校修": "免费校修血压计{n}台",
        "血压计检修": "免费检修水银血压计{n}台", "血压计校验": "免费校验水银血压计{n}台",
        "酒类鉴别": "鉴别酒类{n}人次", "药材鉴别": "现场鉴别中药材{n}人次",
        "珠宝鉴定": "鉴定首饰珠宝{n}件", "眼镜修理": "修理眼镜{n}副",
        "眼镜“四免”": "提供眼镜“四免”服务{n}人次", "有奖竞答": "有奖竞答参与{n}人次",
    }
    _HEADLINES = {
        EventKind.OPEN_DAY: "开展“质量开放日”活动", EventKind.FAMILY_TOUR: "开展家庭质量探寻之旅",
        EventKind.CONSULTATION: "开展“质量月”现场宣传咨询活动",
        EventKind.LECTURE: "举办质量主题讲座", EventKind.FORUM: "举办质量论坛",
        EventKind.DEBATE: "开展质量主题辩论赛", EventKind.OTHER: "开展“质量月”主题活动",
    }

    def join(self, sentences: list[str]) -> str:
        return "".join(sentences)

    def title(self, year: int | None) -> str:
        return f"{year}年上海“质量月”各区活动集锦（初稿）" if year else "上海“质量月”各区活动集锦（初稿）"

    def short_org(self, name: str) -> str:
        return name.replace("市场监督管理局", "市场监管局")

    def district(self, d: District) -> str:
        return d.name

    def heading(self, d: District) -> str:
        return d.name.removesuffix("新区").removesuffix("区")

    def city(self, n: int) -> str:
        return f"全市{n}个区"

    def headline(self, kind: EventKind, mixed: bool) -> str:
        return self._HEADLINES[kind] + ("等系列活动" if mixed else "")

    def day(self, d: date) -> str:
        return f"{d.month}月{d.day}日"

    def period(self, first: date, last: date, with_year: bool = False) -> str:
        start = (f"{first.year}年" if with_year else "") + self.day(first)
        if first == last:
            return start
        return f"{start}至" + (f"{last.year}年" if last.year != first.year else "") + self.day(last)

    def when(self, sessions: list[tuple[datetime, datetime]]) -> str:
        first, last = sessions[0][0].date(), max(end for _s, end in sessions).date()
        part = _part_of_day([s for s, _e in sessions])
        if first == last and part is not None:
            return self.day(first) + _PART_OF_DAY[part][1]
        return self.period(first, last)

    def tally(self, name: str, n: PressFigure) -> str:
        known = self._TALLIES.get(name)  # our own template; an organiser's name is only a value
        return known.format(n=n.zh) if known else f"提供{name}服务{n.zh}人次"

    def held(self, *, when, title, venue, kind, who, bureau, enterprise, guests) -> str:
        if enterprise:
            lead = f"{self.short_org(bureau)}组织{enterprise}"
        else:
            lead = self.short_org(who or bureau)
        where = "" if enterprise and (venue in enterprise or enterprise in venue) else f"在{venue}"
        text = f"{when}，{lead}{where}举办{_quoted(title)}"
        if guests:
            text += f"，邀请{'、'.join(guests)}等{len(guests)}家企业参加"
        return text + "。"

    def detail(self, *, kind, sessions, stations, families, people, tallies) -> str:
        text = ""
        if stations:
            text += f"活动带领市民家庭走进{'、'.join(stations[:4])}等{len(stations)}个站点。"
        if tallies:
            text += "现场共" + "，".join(tallies) + "。"
        if not people.value:
            return text
        if kind == EventKind.FAMILY_TOUR:
            return text + f"据不完全统计，{families.at_least_zh}个家庭、{people.zh}人次参加了活动。"
        if kind == EventKind.LECTURE and sessions > 1:
            return text + f"活动共举办{sessions}场，观众{people.zh}人次。"
        if kind == EventKind.CONSULTATION:
            return text + f"活动共接待市民{people.zh}人次。"
        return text + f"共有{people.zh}人次参加。"

    def open_days(self, *, day, bureau, hosts, titles, people) -> str:
        text = (f"{day}，{self.short_org(bureau)}组织{'、'.join(hosts)}{len(hosts)}家企业同日向社会开放，"
                f"分别举办{'、'.join(_quoted(t) for t in titles)}，公开展示质量管理实践成果和经验")
        return text + (f"，共接待市民{people.zh}人次。" if people.value else "。")

    def district_total(self, name, events, families, people) -> str:
        return (f"“质量月”期间，{name}共举办活动{events}项，"
                f"{families.at_least_zh}个家庭、{people.zh}人次参加。")

    def satisfaction(self, answers: PressFigure, average: float, share: float | None) -> str:
        """参与问卷的N位市民平均满意度4.6分（满分5分），X%表示愿意再来。"""
        text = f"参与问卷的{answers.zh}位市民平均满意度{average:.1f}分（满分5分）"
        return text + (f"，{share:.0%}表示愿意再来。" if share is not None else "。")

    def intro(self, *, period, scope, events, sessions, families, people, walk_ins,
              tallies, satisfaction: str = "") -> str:
        text = (f"{period}，{scope}围绕“质量月”主题，共举办群众性质量活动{events}项、{sessions}场次，"
                f"{families.at_least_zh}个家庭、{people.zh}人次参加")
        text += f"，其中现场登记入场{walk_ins.zh}人次。" if walk_ins.value else "。"
        if tallies:
            text += "各活动现场共" + "，".join(tallies[:4]) + "。"
        return text + satisfaction + "各区活动情况如下（据系统统计数据生成，供编辑修改）。"


class English(Phrases):
    code = "en"
    nothing_held = "No event was held within the chosen range yet."
    _TALLIES = {
        "资料发放": "handed out {n} leaflets", "宣传品发放": "gave away {n} promotional items",
        "咨询": "answered {n} enquiries", "血压测量": "took {n} free blood-pressure readings",
        "投诉受理": "received {n} consumer complaints",
        "血压计校修": "checked {n} blood-pressure monitors free of charge",
        "血压计检修": "checked {n} blood-pressure monitors free of charge",
        "血压计校验": "calibrated {n} blood-pressure monitors free of charge",
        "酒类鉴别": "checked liquor for {n} visitors",
        "药材鉴别": "helped {n} visitors tell medicinal herbs apart",
        "珠宝鉴定": "appraised {n} pieces of jewellery", "眼镜修理": "repaired {n} pairs of glasses",
        "眼镜“四免”": "gave {n} free glasses services", "有奖竞答": "had {n} quiz entries",
    }
    _HEADLINES = {
        EventKind.OPEN_DAY: "Enterprise open days", EventKind.FAMILY_TOUR: "A family quality tour",
        EventKind.CONSULTATION: "A Quality Month advice fair",
        EventKind.LECTURE: "Talks on quality", EventKind.FORUM: "A quality forum",
        EventKind.DEBATE: "A debate on quality", EventKind.OTHER: "Quality Month activities",
    }

    def join(self, sentences: list[str]) -> str:
        return " ".join(s for s in sentences if s)

    def title(self, year: int | None) -> str:
        return ((f"Shanghai Quality Month {year}" if year else "Shanghai Quality Month")
                + ": the districts' activities (draft)")

    def district(self, d: District) -> str:
        return d.name_en

    def heading(self, d: District) -> str:
        return d.name_en

    def city(self, n: int) -> str:
        return f"{n} districts"

    def headline(self, kind: EventKind, mixed: bool) -> str:
        return self._HEADLINES[kind] + (" and more" if mixed else "")

    def day(self, d: date) -> str:
        return f"{d.day} {d:%B}"

    def period(self, first: date, last: date, with_year: bool = False) -> str:
        year = f" {last.year}" if with_year else ""
        if first == last:
            return f"On {self.day(first)}{year}"
        if first.month == last.month and first.year == last.year:
            return f"From {first.day} to {self.day(last)}{year}"
        return f"From {self.day(first)} to {self.day(last)}{year}"

    def when(self, sessions: list[tuple[datetime, datetime]]) -> str:
        first, last = sessions[0][0].date(), max(end for _s, end in sessions).date()
        part = _part_of_day([s for s, _e in sessions])
        if first == last and part is not None:
            return f"On the {_PART_OF_DAY[part][2]} of {self.day(first)}"
        return self.period(first, last)

    def tally(self, name: str, n: PressFigure) -> str:
        known = self._TALLIES.get(name)  # our own template; an organiser's name is only a value
        return known.format(n=n.en) if known else f"offered {name} to {n.en} visitors"

    def held(self, *, when, title, venue, kind, who, bureau, enterprise, guests) -> str:
        lead = (f"{self.short_org(bureau)} and {enterprise}" if enterprise
                else self.short_org(who or bureau))
        text = f"{when}, {lead} held {_quoted(title)} at {venue}"
        if guests:
            text += f", with {len(guests)} enterprises taking part ({', '.join(guests)})"
        return text + "."

    def detail(self, *, kind, sessions, stations, families, people, tallies) -> str:
        text = []
        if stations:
            text.append(f"Families visited {len(stations)} stations, among them "
                        f"{', '.join(stations[:4])}.")
        if tallies:
            text.append("On site they " + "; ".join(tallies) + ".")
        if people.value and kind == EventKind.FAMILY_TOUR:
            text.append(f"{families.at_least_en.capitalize()} families made "
                        f"{people.en} visits.")
        elif people.value and kind == EventKind.LECTURE and sessions > 1:
            text.append(f"The {sessions} sessions drew {people.en} listeners.")
        elif people.value:
            text.append(f"{people.en.capitalize()} people came.")
        return " ".join(text)

    def open_days(self, *, day, bureau, hosts, titles, people) -> str:
        text = (f"On {day}, {len(hosts)} enterprises opened their doors to the public on the "
                f"same day with {self.short_org(bureau)}: {', '.join(hosts)} "
                f"({', '.join(_quoted(t) for t in titles)})")
        return text + (f", welcoming {people.en} visitors." if people.value else ".")

    def district_total(self, name, events, families, people) -> str:
        return (f"During Quality Month {name} held {_n(events, 'event')}, with "
                f"{families.at_least_en} families and {people.en} visits.")

    def satisfaction(self, answers: PressFigure, average: float, share: float | None) -> str:
        text = (f"The {answers.en} visitors who answered the survey gave the events "
                f"{average:.1f} out of 5 on average")
        return text + (f"; {share:.0%} would come again." if share is not None else ".")

    def intro(self, *, period, scope, events, sessions, families, people, walk_ins,
              tallies, satisfaction: str = "") -> str:
        text = (f"{period}, {scope} held {_n(events, 'Quality Month event')} for the public in "
                f"{_n(sessions, 'session')}, with {families.at_least_en} families and {people.en} "
                "visits")
        text += f", {walk_ins.en} of them walk-ins." if walk_ins.value else "."
        if tallies:
            text += " On site they " + "; ".join(tallies[:4]) + "."
        if satisfaction:
            text += " " + satisfaction
        return text + (" The districts' activities follow (generated from the recorded "
                       "figures, for an editor to polish).")


ZH, EN = Phrases(), English()
