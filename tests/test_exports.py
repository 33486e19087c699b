"""Exports of the event report, the registrant list and the dashboard, read back the way people
open them: CSV decoded as Excel does (UTF-8 with BOM), XLSX with openpyxl, PDF as extracted text.
Personal data is masked unless the organiser asks, with a purpose; every export is audited."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import types
import zipfile
from datetime import date, datetime, timedelta
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import select

from qmevents.extensions import db
from qmevents.models import AuditEntry, Event, EventSession, Registration, Tally, User
from qmevents.services import events, exports
from qmevents.services.door import checkin
from qmevents.services.door import desk as door
from qmevents.services.errors import Forbidden, NotFound, ValidationFailed
from qmevents.services.registrations import register as reg
from qmevents.services.registrations.questions import QuestionDraft, set_questions
from qmevents.services.reporting.dashboards import DashboardFilter
from qmevents.timeutil import to_local, utcnow

from .conftest import on_the_day, submit
from .test_organiser import signed_in
from .test_questions import assigned_staff

ID_NUMBER = "11010519491231002X"
TITLE = "威派格智慧水务质量开放日"
needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"),
                                     reason="poppler's pdftotext is not installed")


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def scanned(app, factory, organiser) -> dict:
    """The Yangpu open day after the door opened: 张伟's family of three let in, 李娜's two not
    (her answer looks like a formula), a walk-in family of two, five leaflets handed out."""
    start = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    event_id = factory.event(
        title=TITLE, checkpoints=["入口", "质量展厅"], tallies=["资料发放"],
        sessions=[events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2),
                                      capacity=30, label="上午场")])
    with app.test_request_context("/?lang=en"):
        event = db.session.get(Event, event_id)
        set_questions(event, [QuestionDraft(label="身份证号码", kind="id_card", required=False),
                              QuestionDraft(label="单位", kind="text", required=False)])
        questions = [q.id for q in db.session.get(Event, event_id).questions]
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
        zhang = reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="张伟", phone="13812345678",
            party_size=3, answers={questions[0]: ID_NUMBER, questions[1]: "上海电气"},
            consent=True))
        reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="李娜", phone="13900001111",
            party_size=2, answers={questions[1]: "=HYPERLINK(\"http://x\")"}, consent=True))
        staff = db.session.get(User, organiser)
        with on_the_day(app, session_id):
            checkin.redeem(zhang.code, event_id=event_id, session_id=session_id,
                           checkpoint_id=None, people=None, staff=staff)
        door.walk_in(event_id, session_id, 2, staff)
        tally = db.session.scalar(db.select(Tally.id).filter_by(event_id=event_id))
        door.bump(event_id, tally, 5, staff)
    return {"event_id": event_id, "session_id": session_id, "organiser": organiser}


def run(app, user_id: int, asked: exports.ExportRequest) -> tuple[exports.ExportFile, bytes]:
    """An export as the service gives it, read to the end, inside an English request."""
    with app.test_request_context("/?lang=en"):
        file = exports.export(db.session.get(User, user_id), asked)
        return file, b"".join(file.chunks)


def report(event_id: int, fmt: str) -> exports.ExportRequest:
    return exports.ExportRequest(exports.What.REPORT, fmt, event_id=event_id)


def registrants(event_id: int, fmt: str = "csv", **kwargs) -> exports.ExportRequest:
    return exports.ExportRequest(exports.What.REGISTRANTS, fmt, event_id=event_id, **kwargs)


def excel_rows(body: bytes) -> list[list[str]]:
    """What Excel shows: a BOM says UTF-8; rows end with CRLF."""
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def pdf_text(body: bytes, tmp_path) -> str:
    path = tmp_path / "export.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def audit_entries(app) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(
            db.select(AuditEntry).filter_by(action="export").order_by(AuditEntry.id)))


# --- the event report -------------------------------------------------------------------------


def test_the_report_csv_opens_in_excel_with_the_chinese_title_and_the_figures(app, scanned):
    _file, body = run(app, scanned["organiser"], report(scanned["event_id"], "csv"))
    assert b"\r\n" in body
    rows = excel_rows(body)
    assert TITLE in rows[0][0]
    figures = {row[0]: row[1] for row in rows if len(row) == 2}
    assert figures["Registered people"] == "5"
    assert figures["Admitted people"] == "3"
    assert figures["Walk-in people"] == "2"
    assert figures["Families"] == "2"
    assert ["Service", "Count"] in rows and ["资料发放", "5"] in rows
    assert any(row[:2] == ["1", "入口"] for row in rows)


def test_the_report_workbook_has_typed_cells_a_frozen_header_and_a_chart(app, scanned):
    _file, body = run(app, scanned["organiser"], report(scanned["event_id"], "xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames[0] == "Summary" and "Sessions" in book.sheetnames
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=3, values_only=True)}
    assert summary["Admitted people"] == 3 and isinstance(summary["Admitted people"], int)
    sessions = book["Sessions"]
    assert sessions.freeze_panes == "A2"
    starts = sessions["A2"].value
    assert isinstance(starts, datetime)  # a date cell, in Shanghai wall-clock time
    with app.app_context():
        session = db.session.get(EventSession, scanned["session_id"])
        assert starts == to_local(session.starts_at).replace(tzinfo=None)
    assert sessions["A2"].number_format == "yyyy-mm-dd hh:mm"
    assert sessions["C2"].value == "上午场"
    assert any(name.startswith("xl/charts/chart") for name in zipfile.ZipFile(io.BytesIO(body))
               .namelist())


@needs_pdftotext
def test_the_report_pdf_reads_in_chinese_with_its_figures(app, scanned, tmp_path):
    file, body = run(app, scanned["organiser"], report(scanned["event_id"], "pdf"))
    assert body.startswith(b"%PDF") and file.mimetype == "application/pdf"
    text = pdf_text(body, tmp_path)
    assert TITLE in text
    assert "杨浦区" in text and "资料发放" in text and "质量展厅" in text
    assert "Arrivals per 15 minutes" in text


@pytest.mark.parametrize(("what", "fmt"), [("report", "csv"), ("report", "xlsx"),
                                           ("report", "pdf"), ("registrants", "csv"),
                                           ("registrants", "xlsx")])
def test_an_event_nobody_has_come_to_yet_exports_too(app, factory, organiser, what, fmt):
    event_id = factory.event(title="宝山区质量讲座")
    _file, body = run(app, organiser, exports.ExportRequest(exports.What(what), fmt,
                                                            event_id=event_id))
    assert body[:4] in (b"PK\x03\x04", b"%PDF") or body.startswith(b"\xef\xbb\xbf")


# --- the registrant list ----------------------------------------------------------------------


def registered_at(app, name: str) -> datetime:
    """When `name` registered, in Shanghai time."""
    with app.app_context():
        return to_local(db.session.scalar(select(Registration.created_at).filter_by(name=name)))


def test_the_registrant_list_masks_phones_and_id_numbers_by_default(app, scanned):
    _file, body = run(app, scanned["organiser"], registrants(scanned["event_id"]))
    text = body.decode("utf-8-sig")
    assert "138****5678" in text and "13812345678" not in text
    assert "110105********002X" in text and ID_NUMBER not in text


def test_the_registrant_list_has_one_row_per_registration_with_answers_in_columns(app, scanned):
    _file, body = run(app, scanned["organiser"], registrants(scanned["event_id"]))
    header, *rows = excel_rows(body)
    assert header[:7] == ["Session", "Name", "Phone", "People", "Status", "Registered at",
                          "Admitted people"]
    assert header[7:] == ["身份证号码", "单位"]
    assert [row[1] for row in rows] == ["张伟", "李娜"]
    zhang = rows[0]
    assert zhang[0].endswith("上午场")
    assert zhang[3:5] == ["3", "Confirmed"] and zhang[6] == "3" and zhang[8] == "上海电气"
    assert zhang[5] == f"{registered_at(app, '张伟'):%Y-%m-%d %H:%M}"  # Shanghai time, minutes


def test_a_formula_typed_as_an_answer_is_neutralised_in_the_csv(app, scanned):
    _file, body = run(app, scanned["organiser"], registrants(scanned["event_id"]))
    li = excel_rows(body)[2]
    assert li[8] == "'=HYPERLINK(\"http://x\")"


def test_the_registrant_csv_is_a_stream_not_a_list_in_memory(app, scanned):
    with app.test_request_context("/?lang=en"):
        file = exports.export(db.session.get(User, scanned["organiser"]),
                              registrants(scanned["event_id"]))
        assert isinstance(file.chunks, types.GeneratorType)
        assert file.rows == 2
        file.chunks.close()


def test_the_registrant_workbook_has_typed_cells_and_wide_chinese_columns(app, scanned):
    _file, body = run(app, scanned["organiser"], registrants(scanned["event_id"], "xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(body))
    sheet = book["Registrants"]
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].value == "张伟" and sheet["C2"].value == "138****5678"
    assert sheet["D2"].value == 3 and isinstance(sheet["F2"].value, datetime)
    shown, registered = sheet["F2"].value, registered_at(app, "张伟").replace(tzinfo=None)
    assert abs((shown - registered).total_seconds()) < 1  # Shanghai wall-clock time
    assert sheet.column_dimensions["A"].width >= 16  # date and 上午场
    assert book["Summary"]["A1"].value == f"Registrants: {TITLE}"


def test_full_numbers_need_a_stated_purpose(app, scanned):
    with pytest.raises(ValidationFailed) as refused:
        run(app, scanned["organiser"], registrants(scanned["event_id"], unmasked=True,
                                                   purpose="ok"))
    assert "purpose" in refused.value.errors
    assert audit_entries(app) == []


def test_the_organiser_gets_full_numbers_with_a_purpose_and_it_is_audited(app, scanned):
    _file, body = run(app, scanned["organiser"], registrants(
        scanned["event_id"], unmasked=True, purpose="保险名单 insurance list"))
    assert "13812345678" in body.decode("utf-8-sig") and ID_NUMBER in body.decode("utf-8-sig")
    [entry] = audit_entries(app)
    assert entry.actor_id == scanned["organiser"] and entry.event_id == scanned["event_id"]
    assert entry.detail == {"what": "registrants", "format": "csv", "masked": False,
                            "purpose": "保险名单 insurance list", "rows": 2}
    assert utcnow() - entry.at < timedelta(minutes=1)


def test_door_staff_take_no_export_away(app, factory, scanned):
    staff = assigned_staff(app, factory, scanned["event_id"])
    with app.app_context():
        staff_id = db.session.scalar(db.select(User.id).filter_by(role="staff"))
    with pytest.raises(Forbidden):
        run(app, staff_id, registrants(scanned["event_id"], unmasked=True, purpose="insurance"))
    for url in (f"/organiser/events/{scanned['event_id']}/report.csv",
                f"/organiser/events/{scanned['event_id']}/registrants/export",
                "/organiser/dashboard.csv"):
        assert staff.get(url).status_code == 403
    assert audit_entries(app) == []


# --- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_exports_figures_per_district_in_every_format(app, scanned, tmp_path):
    asked = exports.ExportRequest(exports.What.DASHBOARD, "csv", filter=DashboardFilter())
    _file, body = run(app, scanned["organiser"], asked)
    rows = excel_rows(body)
    district = next(row for row in rows if row and row[0] == "杨浦区")
    assert district[1] == "1"  # one event
    _file, body = run(app, scanned["organiser"], exports.ExportRequest(
        exports.What.DASHBOARD, "xlsx", filter=DashboardFilter()))
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book["By district"]["A2"].value == "杨浦区"
    assert book["By district"]["B2"].value == 1
    if shutil.which("pdftotext"):
        _file, body = run(app, scanned["organiser"], exports.ExportRequest(
            exports.What.DASHBOARD, "pdf", filter=DashboardFilter()))
        assert "杨浦区市场监督管理局" in pdf_text(body, tmp_path)


def test_an_organisers_dashboard_export_holds_its_own_organisation_only(app, factory, scanned):
    factory.event(org_name="徐汇区市场监督管理局", district="徐汇区", title="徐汇区质量讲座")
    _file, body = run(app, scanned["organiser"], exports.ExportRequest(
        exports.What.DASHBOARD, "csv", filter=DashboardFilter()))
    text = body.decode("utf-8-sig")
    assert "杨浦区市场监督管理局" in text and "徐汇区" not in text


def test_an_unknown_format_is_not_found(app, scanned):
    with pytest.raises(NotFound):
        run(app, scanned["organiser"], registrants(scanned["event_id"], "pdf"))


# --- through the browser ----------------------------------------------------------------------


def test_a_report_download_is_streamed_with_a_chinese_filename_and_an_ascii_fallback(
        client, english, scanned):
    response = client.get(f"/organiser/events/{scanned['event_id']}/report.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert f'filename="event-{scanned["event_id"]}-report.csv"' in disposition
    assert TITLE in unquote(disposition.split("filename*=UTF-8''")[1])
    assert response.headers["Cache-Control"] == "private, no-store"
    assert TITLE in excel_rows(response.get_data())[0][0]


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_the_report_downloads_as_a_workbook_and_a_pdf(client, scanned, fmt):
    response = client.get(f"/organiser/events/{scanned['event_id']}/report.{fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.get_data()[:4] in (b"PK\x03\x04", b"%PDF")


def test_an_unknown_export_format_is_a_404(client, scanned):
    assert client.get(f"/organiser/events/{scanned['event_id']}/report.doc").status_code == 404
    assert client.get("/organiser/dashboard.doc").status_code == 404


def test_another_organisations_event_is_a_404_and_not_its_data(app, factory, scanned):
    other, _id = signed_in(app, factory, "organiser", org="徐汇区市场监督管理局",
                           district="徐汇区")
    event_id = scanned["event_id"]
    assert other.get(f"/organiser/events/{event_id}/report.csv").status_code == 404
    assert other.get(f"/organiser/events/{event_id}/registrants/export").status_code == 404
    assert audit_entries(app) == []


def test_a_range_that_ends_before_it_starts_is_a_400_with_a_message_and_no_file(
        app, client, english, scanned):
    response = client.get("/organiser/dashboard.xlsx?from=2026-09-30&to=2026-09-01")
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    assert "end date" in response.get_data(as_text=True)
    assert audit_entries(app) == []


def test_a_date_that_is_not_one_is_a_400(client, english, scanned):
    response = client.get("/organiser/dashboard.csv?from=2026-02-30")
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.get_data(as_text=True)


def test_an_unknown_district_is_a_404(client, scanned):
    assert client.get("/organiser/dashboard.csv?district=999").status_code == 404


def test_a_district_that_is_not_an_id_is_a_400(client, scanned):
    response = client.get("/organiser/dashboard.csv?district=abc")
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers


def test_the_dashboard_download_keeps_its_filter(app, client, scanned):
    response = client.get("/organiser/dashboard.csv?from=2026-01-01&to=2999-12-31&kind=open_day")
    assert response.status_code == 200
    assert 'filename="dashboard-2026-01-01-2999-12-31.csv"' in \
        response.headers["Content-Disposition"]
    [entry] = audit_entries(app)
    assert entry.detail["from"] == "2026-01-01" and entry.detail["kind"] == "open_day"
    assert entry.event_id is None


def test_the_registrant_list_links_to_its_export_form(client, english, scanned):
    html = client.get(f"/organiser/events/{scanned['event_id']}/registrants").get_data(
        as_text=True)
    assert f"/organiser/events/{scanned['event_id']}/registrants/export" in html


def test_the_export_form_sends_a_masked_list_by_default(app, client, english, scanned):
    url = f"/organiser/events/{scanned['event_id']}/registrants/export"
    response = submit(client, url, {"format": "csv", "purpose": ""})
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    assert "138****5678" in text and "13812345678" not in text
    assert [e.detail["masked"] for e in audit_entries(app)] == [True]


def test_the_export_form_refuses_full_numbers_without_a_purpose(app, client, english, scanned):
    url = f"/organiser/events/{scanned['event_id']}/registrants/export"
    response = submit(client, url, {"format": "xlsx", "unmasked": "y", "purpose": "x"})
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    html = response.get_data(as_text=True)
    assert "Say why you need the full numbers" in html
    assert 'value="x"' in html  # what was typed stays
    assert audit_entries(app) == []


def test_the_export_form_sends_full_numbers_with_a_purpose(app, client, english, scanned):
    url = f"/organiser/events/{scanned['event_id']}/registrants/export"
    response = submit(client, url, {"format": "xlsx", "unmasked": "y",
                                    "purpose": "insurance list for the visit"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert book["Registrants"]["C2"].value == "13812345678"
    assert audit_entries(app)[0].detail["purpose"] == "insurance list for the visit"


def test_the_export_form_needs_its_csrf_token(client, scanned):
    url = f"/organiser/events/{scanned['event_id']}/registrants/export"
    response = client.post(url, data={"format": "csv"})
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers


def test_the_report_page_offers_its_downloads_to_the_organiser_only(app, factory, client,
                                                                     scanned):
    event_id = scanned["event_id"]
    html = client.get(f"/organiser/events/{event_id}/report").get_data(as_text=True)
    for fmt in ("csv", "xlsx", "pdf"):
        assert f"/organiser/events/{event_id}/report.{fmt}" in html
    staff = assigned_staff(app, factory, event_id)
    page = staff.get(f"/organiser/events/{event_id}/report")
    if page.status_code == 200:  # staff may read the report, but take nothing away
        assert f"/organiser/events/{event_id}/report.csv" not in page.get_data(as_text=True)


def test_the_dashboard_page_links_downloads_with_its_filter(client, scanned):
    html = client.get("/organiser/dashboard?from=2026-01-01&kind=open_day").get_data(as_text=True)
    link = next(part for part in html.split('"') if part.startswith("/organiser/dashboard.xlsx"))
    assert "from=2026-01-01" in link and "kind=open_day" in link


def test_an_admin_exports_the_dashboard_of_one_organisation(app, factory, scanned):
    factory.event(org_name="徐汇区市场监督管理局", district="徐汇区", title="徐汇区质量讲座")
    admin, _admin_id = signed_in(app, factory, "admin")
    with app.app_context():
        xuhui = db.session.scalar(db.select(Event.organisation_id).filter_by(title="徐汇区质量讲座"))
    text = admin.get(f"/organiser/dashboard.csv?organisation={xuhui}").get_data().decode(
        "utf-8-sig")
    assert "徐汇区市场监督管理局" in text and "杨浦区市场监督管理局" not in text


def test_the_audit_log_shows_who_exported_what(client, english, scanned):
    event_id = scanned["event_id"]
    client.get(f"/organiser/events/{event_id}/report.pdf").get_data()
    html = client.get(f"/organiser/events/{event_id}/audit").get_data(as_text=True)
    assert "Exported" in html and "pdf" in html


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_a_dashboard_with_no_event_in_its_range_exports_empty_tables(app, factory, fmt):
    admin_id, _email = factory.user("admin")
    _file, body = run(app, admin_id, exports.ExportRequest(
        exports.What.DASHBOARD, fmt, filter=DashboardFilter(date_from=date(2001, 1, 1),
                                                            date_to=date(2001, 1, 31))))
    assert body[:4] in (b"PK\x03\x04", b"%PDF") or body.startswith(b"\xef\xbb\xbf")


# --- a tour over two days: one chart a day, no night of empty quarters -------------------------


@pytest.fixture
def two_mornings(app, factory):
    """A tour whose families came on two mornings: 5 people at 09:00 and 09:45 on the 20th,
    4 at 10:00 on the 21st (the report's curve holds every quarter in between)."""
    from .test_reports import make_campaign, shanghai

    campaign = make_campaign(app, factory)
    tour = campaign.event()
    campaign.scan(tour, campaign.ticket(tour, 3))
    campaign.scan(tour, campaign.ticket(tour, 2))
    campaign.scan(tour, campaign.ticket(tour, 4))
    first, second = date(2026, 9, 20), date(2026, 9, 21)
    campaign.admitted_at(tour, shanghai(first, 9, 2), shanghai(first, 9, 47),
                         shanghai(second, 10, 5))
    return campaign.admin_id, tour.event_id, shanghai


def test_the_workbook_lists_the_quarters_of_each_day_and_not_the_night(app, two_mornings):
    admin, event_id, _shanghai = two_mornings
    _file, body = run(app, admin, report(event_id, "xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(body))
    rows = list(book["Arrivals per 15 minutes"].iter_rows(min_row=2, values_only=True))
    assert [(at.strftime("%m-%d %H:%M"), people) for at, people, _inside in rows] == [
        ("09-20 09:00", 3), ("09-20 09:15", 0), ("09-20 09:30", 0), ("09-20 09:45", 2),
        ("09-21 10:00", 4)]
    charts = [n for n in zipfile.ZipFile(io.BytesIO(body)).namelist()
              if n.startswith("xl/charts/chart")]
    assert len(charts) == 2  # one per day


@needs_pdftotext
def test_the_report_pdf_draws_one_arrival_chart_per_day(app, two_mornings, tmp_path):
    admin, event_id, _shanghai = two_mornings
    _file, body = run(app, admin, report(event_id, "pdf"))
    text = pdf_text(body, tmp_path)
    assert "Arrivals per 15 minutes · 2026-09-20" in text
    assert "Arrivals per 15 minutes · 2026-09-21" in text
    assert "00:00" not in text and "03:00" not in text  # no night on any axis


def test_a_dashboard_download_says_whose_figures_and_when(app, client, scanned):
    response = client.get("/organiser/dashboard.csv")
    disposition = unquote(response.headers["Content-Disposition"])
    today = to_local(utcnow()).date().isoformat()
    assert f'filename="dashboard-as-of-{today}.csv"' in disposition
    assert "杨浦区市场监督管理局" in disposition and " all" not in disposition
