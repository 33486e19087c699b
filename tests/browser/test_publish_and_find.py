"""An organiser publishes an open day in a real browser; a citizen finds it on a phone."""
from datetime import timedelta

from qmevents.timeutil import to_local, utcnow

from ..conftest import PASSWORD
from .conftest import screenshot


def local_input(days: int, hour: int) -> str:
    when = to_local(utcnow() + timedelta(days=days)).replace(hour=hour, minute=0)
    return when.strftime("%Y-%m-%dT%H:%M")


def test_an_organiser_publishes_and_a_citizen_finds_it_on_a_phone(phone, factory):
    _, email = factory.user("organiser", org="杨浦区市场监督管理局", district="杨浦区")

    page = phone
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/organiser/")

    page.goto("/organiser/events/new")
    page.fill("input[name=title]", "长阳创谷质量开放日")
    page.select_option("select[name=kind]", "open_day")
    page.select_option("select[name=district]", "杨浦区")
    page.fill("input[name=venue]", "长阳创谷")
    page.fill("input[name=address]", "上海市杨浦区长阳路1687号")
    page.fill("textarea[name=description]", "走进创新园区，看企业如何把质量做进每一个细节。")
    page.fill("input[name='sessions-0-starts_at']", local_input(5, 9))
    page.fill("input[name='sessions-0-ends_at']", local_input(5, 11))
    page.fill("input[name='sessions-0-capacity']", "40")
    page.fill("textarea[name=checkpoints]", "入口\n展厅\n实验室")
    screenshot(page, "organiser-new-event")
    page.click("button[name=action][value=publish]")
    page.wait_for_url("**/organiser/events/*")
    screenshot(page, "organiser-event-published")

    # The citizen, not signed in, on the same phone-sized browser.
    page.context.clear_cookies()
    page.goto("/?district=杨浦区")
    assert page.locator("text=长阳创谷质量开放日").count() == 1
    screenshot(page, "public-events")
    page.click("text=长阳创谷质量开放日")
    page.wait_for_url("**/events/*")
    body = page.inner_text("main")
    assert "长阳创谷" in body and "40" in body
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    screenshot(page, "public-event")


def test_the_language_switch_works_without_javascript(browser, live_server, factory):
    factory.event(title="菲林格尔质量开放日")
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  java_script_enabled=False, base_url=live_server)
    page = context.new_page()
    page.goto("/")
    page.click("a.lang")
    assert 'lang="en"' in page.content()
    page.goto("/")
    assert 'lang="en"' in page.content(), "the choice is remembered"
    context.close()
