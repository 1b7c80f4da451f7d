"""The browsable API's forms still work with a JSON-only API: its raw-data form sends JSON."""

import json
import re

from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import UserFactory
from config.tests import test_browser

# The browser tests' own fixtures and marks: a live server, a fresh Chromium profile, a page.
pytestmark = test_browser.pytestmark
site, browser, page = test_browser.site, test_browser.browser, test_browser.page


def test_a_signed_in_user_patches_their_names_from_the_raw_data_form(site, page, password):
    user = UserFactory(password=password, email="forms.user@example.com", first_name="Old")
    page.goto(f"{site}/api-auth/login/?next=/api/v1/users/me/")
    test_browser.log_in(page, email_address=user.email, password=password)
    page.wait_for_url(f"{site}/api/v1/users/me/")

    form = page.locator("#put-generic-content-form form")
    expect(form.locator("select[data-override='content-type']")).to_have_value("application/json")
    form.locator("textarea[data-override='content']").fill(json.dumps({"first_name": "New"}))
    form.locator("button[data-method='PATCH']").click()

    expect(page.locator(".response-info")).to_contain_text("HTTP 200 OK")
    expect(page.locator(".response-info")).to_contain_text('"first_name": "New"')
    user.refresh_from_db()
    assert user.first_name == "New"
    test_browser.screenshot(page, "browsable-api-raw-patch")


def test_anyone_registers_from_the_raw_data_form(site, page, password):
    page.goto(f"{site}/api/v1/auth/register/")
    expect(page).to_have_title(re.compile("Register"))

    form = page.locator("#post-generic-content-form form")
    body = {"email": "form.registrant@example.com", "password": password}
    form.locator("textarea[data-override='content']").fill(json.dumps(body))
    form.locator("button", has_text="POST").click()

    expect(page.locator(".response-info")).to_contain_text("HTTP 201 Created")
    assert User.objects.filter(email="form.registrant@example.com").exists()
