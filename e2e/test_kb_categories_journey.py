"""An agent manages knowledge-base categories: creates one in French and English, is told why a
category that still holds articles cannot be deleted, and deletes an empty one."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from palier.kb.models import KbCategory
from palier.kb.tests.builders import make_article
from palier.people import services as people
from palier.people.models import User


def test_agent_creates_and_deletes_categories(
    transactional_db: None, url: Callable[[str], str], login: Callable[..., Page]
) -> None:
    agent = people.create_user(
        email="kbcat@desk.test", full_name="Kai Editor", role=User.Role.AGENT, password="pw-kai-1234!", language="en"
    )
    make_article(agent, en=("Paper jam", "Open tray 2."), category=KbCategory.objects.get(slug="printing"))

    page = login("kbcat@desk.test", "pw-kai-1234!")
    page.goto(url("/kb/manage/"))
    page.get_by_role("link", name="Categories").click()
    page.get_by_label("Name in French").fill("Téléphonie")
    page.get_by_label("Name in English").fill("Desk phones")
    page.get_by_label("Position").fill("9")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert").or_(page.locator(".alert"))).to_contain_text("“Desk phones” is created")
    expect(page.locator("#kb-categories")).to_contain_text("Téléphonie")

    page.get_by_role("button", name="Delete the category “Printing”").click()
    expect(page.locator(".alert")).to_contain_text("still holds 1 article")
    expect(page.locator("#kb-categories")).to_contain_text("Printing")

    page.get_by_role("button", name="Delete the category “Desk phones”").click()
    expect(page.locator(".alert")).to_contain_text("“Desk phones” is deleted")
    expect(page.locator("#kb-categories")).not_to_contain_text("Téléphonie")
    assert not KbCategory.objects.filter(slug="desk-phones").exists()
