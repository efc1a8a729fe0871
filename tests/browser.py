"""What the browser tests check on every page they open: no serious accessibility violation, and
nothing wider than the screen.

Both measure the rendered page, so each first waits for the page's load event: a check that runs
while the stylesheet is still arriving measures unstyled HTML (a table at its natural width),
which is what a loaded CI machine caught once."""

from axe_playwright_python.sync_playwright import Axe


def serious_violations(page) -> list:
    page.wait_for_load_state("load")
    return [(v["id"], v["nodes"][0]["target"]) for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")]


def fits_the_screen(page) -> bool:
    page.wait_for_load_state("load")
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
