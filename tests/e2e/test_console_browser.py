"""The handoff in real headless Chromium (Debian's `chromium`, driven by Playwright): a person
asks for a human in the web widget, a member of staff signs in, claims, replies and closes; the
person sees the reply, the bot's greeting and the rating question. Screenshots of the queue,
the conversation and the dashboard go to reports/.

The gateway runs in-process with a fake bot (tests/conftest.py); `make test` installs chromium
first when /usr/bin/chromium is missing (Makefile). Browsers are never downloaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from casedb.models import StaffRole
from tests.conftest import Database, FakeRasa, GatewayFactory
from tests.gateway.console.helpers import PASSWORD, add_staff, handing_off_bot, open_hours

CHROMIUM = "/usr/bin/chromium"
REPORTS = Path(__file__).resolve().parents[2] / "reports"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 10_000

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason="Debian chromium is not installed (make test installs it)")


async def test_handoff_in_the_widget_and_the_console(
        sqlite_database: Database, gateway: GatewayFactory, fake_rasa: FakeRasa) -> None:
    handing_off_bot(fake_rasa)
    client = await gateway(sqlite_database)
    open_hours(client)
    await add_staff(sqlite_database, "wang", role=StaffRole.SUPERVISOR)
    base = str(client.make_url("")).rstrip("/")
    REPORTS.mkdir(exist_ok=True)

    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            await _run(browser, base)
        finally:
            await browser.close()


async def _run(browser: Any, base: str) -> None:
    expect = playwright_api.expect
    person = await (await browser.new_context()).new_page()
    await person.goto(f"{base}/")
    await expect(person.locator("#log")).to_contain_text("收到:你好", timeout=WAIT_MS)
    await person.fill("#text", "转人工")
    await person.press("#text", "Enter")
    await expect(person.locator("#log")).to_contain_text("排在第1位", timeout=WAIT_MS)

    staff = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await staff.goto(f"{base}/console")
    await staff.fill("input[name=username]", "wang")
    await staff.fill("input[name=password]", PASSWORD)
    await staff.click("button[type=submit]")
    queue = staff.locator("#queue tbody tr[data-ticket]")
    await expect(queue).to_have_count(1, timeout=WAIT_MS)
    await staff.screenshot(path=str(REPORTS / "console-queue.png"), full_page=True)

    await queue.first.locator("button").click()
    await expect(staff.locator("#transcript")).to_contain_text("转人工", timeout=WAIT_MS)
    await expect(person.locator("#log")).to_contain_text("已接入本次对话", timeout=WAIT_MS)

    await person.fill("#text", "我被拖欠了三个月工资")
    await person.press("#text", "Enter")
    await expect(staff.locator("#transcript")).to_contain_text("我被拖欠了三个月工资",
                                                               timeout=WAIT_MS)
    await staff.select_option("#canned", index=1)
    await staff.fill("#reply-text", "您好,我是法律援助中心的工作人员,请问您在哪个区工作?")
    await staff.click("#send")
    await expect(person.locator("#log")).to_contain_text("请问您在哪个区工作", timeout=WAIT_MS)
    await staff.screenshot(path=str(REPORTS / "console-conversation.png"), full_page=True)

    await staff.click("#close")
    await expect(person.locator("#log")).to_contain_text("智能助手继续为您服务",
                                                         timeout=WAIT_MS)
    await expect(person.locator("#log")).to_contain_text("请问您对本次人工服务满意吗",
                                                         timeout=WAIT_MS)
    await person.get_by_role("button", name="满意", exact=True).click()
    await expect(person.locator("#log")).to_contain_text("感谢您的评价", timeout=WAIT_MS)
    await person.screenshot(path=str(REPORTS / "widget-after-handoff.png"), full_page=True)

    await staff.goto(f"{base}/console/dashboard")
    await expect(staff.locator("svg")).to_have_count(6)
    await staff.screenshot(path=str(REPORTS / "console-dashboard.png"), full_page=True)

    # Signing out in one tab takes the session's other tabs back to the sign-in form.
    second_tab = await staff.context.new_page()
    await second_tab.goto(f"{base}/console")
    await expect(second_tab.locator("#queue")).to_be_visible(timeout=WAIT_MS)
    await staff.get_by_role("button", name="退出").click()
    await expect(staff.locator("input[name=username]")).to_be_visible(timeout=WAIT_MS)
    await expect(second_tab).to_have_url(f"{base}/console/login", timeout=WAIT_MS)
