"""`make attack` counts what got through; these pin the checks it counts with, so a broken check
cannot turn a real hole into a reassuring 0."""

from django.utils.html import escape

from security.attack.auth import _off_site
from security.attack.client import parse
from security.attack.crawl import shape
from security.attack.inject import _script, _unescaped

BASE = "http://127.0.0.1:8000"


def test_a_script_payload_counts_only_when_it_comes_back_unescaped():
    payload = _script("xss00001")
    assert _unescaped(f"<p>{payload}</p>", "xss00001")
    assert not _unescaped(f"<p>{escape(payload)}</p>", "xss00001")
    # Markdown's escaping leaves quotes as they are: the handler's text is there, its tag is not.
    markdown = ("<p>&quot;&gt;&lt;img src=x onerror=alert('xss00001')&gt;"
                "&lt;script&gt;alert('xss00001')&lt;/script&gt;</p>")
    assert not _unescaped(markdown, "xss00001")
    assert _unescaped("<p><img src=x onerror=alert('xss00001')></p>", "xss00001")


def test_a_redirect_off_the_site_counts_and_one_on_it_does_not():
    page = f"{BASE}/accounts/login/"
    for location in ("//evil.example/", "https://evil.example/", "/\\evil.example/", "\\\\evil.example/"):
        assert _off_site(BASE, page, location), location
    for location in ("/feed/", "/", "", "https://127.0.0.1:8000/feed/"):
        assert not _off_site(BASE, page, location), location


def test_forms_are_read_with_their_fields_and_defaults():
    html = """<form method="post" action="/team/channels/add/">
      <input type="hidden" name="csrfmiddlewaretoken" value="t">
      <select name="kind"><option value="email">E</option><option value="webhook" selected>W</option></select>
      <input name="target"><textarea name="note">hello</textarea>
      <input type="checkbox" name="is_fallback"><button type="submit">Add</button></form>"""
    (form,) = parse(f"{BASE}/team/channels/", html).forms
    assert form.method == "post" and form.action == f"{BASE}/team/channels/add/"
    assert form.values() == {"csrfmiddlewaretoken": "t", "kind": "webhook", "target": "", "note": "hello"}
    assert [f.name for f in form.text_fields()] == ["target", "note"]


def test_pages_of_one_kind_share_a_shape_so_a_long_table_costs_few_requests():
    assert shape("/incidents/0b7e4a8e-9d0c-4f4e-8a57-3a1d1e2f3a4b/?page=2") == shape(
        "/incidents/5c1f6a2b-1111-4222-8333-944455556666/?page=9")
    assert shape("/reports/2026-10/?district=007") == shape("/reports/2026-11/?district=015")
    assert shape("/history/?sort=block") != shape("/history/?district=007")
