"""The organisation directory: per district, the organisations covering it on a map drawn from
the stored polygons, with their liaison for CPD, partner type and signature."""

import re

import pytest

from districts.models import Organization

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def liaison(covering_org):
    covering_org.liaison_name, covering_org.liaison_title = "Aisha Brown", "Director of outreach"
    covering_org.liaison_phone, covering_org.liaison_email = "+13125550142", "liaison@example.org"
    covering_org.signed_understanding = True
    covering_org.save()
    return covering_org


def test_a_district_lists_its_organisations_with_liaison_partner_type_and_signature(client, cpd_user, liaison):
    Organization.objects.filter(name="Target Area Development Corp (TADC)").update(signed_understanding=False)
    client.force_login(cpd_user)
    page = client.get("/directory/007/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "District 7 (Englewood)" in body
    assert "Public Equity" in body and "Target Area Development Corp (TADC)" in body
    assert "Aisha Brown" in body and 'href="tel:+13125550142"' in body and "mailto:liaison@example.org" in body
    assert "Street outreach" in body
    assert "Signed the Professional Understanding" in body
    tadc = body[body.index("Target Area Development Corp (TADC)</h3>"):]
    assert "Not yet signed" in tadc[:tadc.index("</li>")]
    assert "Not recorded yet" in tadc[:tadc.index("</li>")]  # no liaison recorded for it
    # Not an organisation covering only the north-west side.
    assert "ALSO (Alliance of Local Service Organizations)" not in body


def test_the_map_is_inline_svg_drawn_from_the_polygons(client, analyst, liaison):
    client.force_login(analyst)
    body = client.get("/directory/007/").content.decode()
    svg = body[body.index("<svg class=\"coverage-map\""):body.index("</svg>", body.index("coverage-map")) + 6]
    defs = svg[svg.index('<g id="district-beats">'):svg.index("</g>")]
    beats = re.findall(r'<path d="M[\d., LMZ]+"', defs)
    assert len(beats) >= 10  # the 7th District's beats
    # Each community area shaded by how many organisations cover it (Public Equity, READI, TADC).
    assert re.search(r'<path class="count shade-3" d="M[\d., LMZ]+"><title>Englewood: 3 organisations</title>', svg)
    # Public Equity's own small map fills its areas over the same outline.
    card = body[body.index('aria-label="Where Public Equity covers this district"'):]
    card = card[:card.index("</svg>")]
    assert len(re.findall(r'<path class="mine" d="M[\d., LMZ]+"', card)) == 3  # 3 areas in the 7th
    assert '<use href="#district-outline"' in card
    assert ">Englewood</text>" in svg and ">West Englewood</text>" in svg
    coords = [float(n) for n in re.findall(r"-?[\d.]+", " ".join(re.findall(r' d="([^"]+)"', svg)))]
    width, height = (float(n) for n in re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    assert min(coords) >= 0 and max(coords) <= max(width, height)  # projected into the box
    assert len(svg) < 120_000  # simplified, not every surveyed vertex


@pytest.mark.parametrize("user_fixture", ["cpd_user", "commander", "worker", "supervisor", "analyst", "admin_user"])
def test_cpd_analysts_and_outreach_read_it_from_their_navigation(client, request, user_fixture, reference_data):
    client.force_login(request.getfixturevalue(user_fixture))
    home = client.get("/", follow=True).content.decode()
    assert 'href="/directory/"' in home
    response = client.get("/directory/", follow=True)
    assert response.status_code == 200
    assert "Organisation directory" in response.content.decode()


def test_cpd_land_on_their_district_and_outreach_see_the_districts_they_cover(client, cpd_user, worker):
    client.force_login(cpd_user)
    assert client.get("/directory/")["Location"] == "/directory/007/"
    client.force_login(worker)
    body = client.get("/directory/").content.decode()
    mine = body[body.index("Districts your organisation covers"):body.index("Every district")]
    assert "/directory/007/" in mine
    assert "/directory/016/" not in mine


@pytest.mark.parametrize("number", ["999", "abc", "0000007", "-1"])
def test_an_unknown_district_is_a_404_with_a_message(client, analyst, number):
    client.force_login(analyst)
    response = client.get(f"/directory/{number}/")
    assert response.status_code == 404
    assert "There is no police district numbered" in response.content.decode()


def test_the_picker_without_javascript_goes_to_the_district(client, analyst, reference_data):
    client.force_login(analyst)
    assert client.get("/directory/?number=15")["Location"] == "/directory/15/"
    assert client.get("/directory/15/").status_code == 200


def test_anonymous_and_wrong_method(client, reference_data, analyst):
    assert client.get("/directory/007/")["Location"].startswith("/accounts/login/")
    client.force_login(analyst)
    assert client.post("/directory/007/").status_code == 405


def test_the_page_is_in_spanish(client, worker, reference_data):
    client.force_login(worker)
    body = client.get("/directory/007/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Mapa de cobertura" in body and "Enlace con el CPD" in body


def test_an_inactive_organisation_is_not_listed(client, analyst, covering_org):
    Organization.objects.filter(pk=covering_org.pk).update(active=False)
    client.force_login(analyst)
    assert "Public Equity" not in client.get("/directory/007/").content.decode()
