"""The screenshots in docs/console.md, taken from a real `dripline serve` with the same data
the console tests make:  python -m tests.console.screenshots"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.console.browser import ARGS, CHROMIUM, KEY_ITEM
from tests.console.build_stamp import ROOT
from tests.console.conftest import KEY, V1, World, make_sequence, serving

OUT = ROOT / "docs" / "console"


Shot = tuple[str, str, bool, str | None]


def _shots(world: World) -> dict[str, Shot]:
    """name: (path, selector shown once loaded, signed in, a button to press first)."""
    active, draft = world.active["id"], world.draft["id"]
    make_sequence(world.api, "Win-back", activate=False)
    [enrollment] = world.get(f"{V1}/sequences/{active}/enrollments", status="active",
                             limit=1)["items"]
    return {
        "signin": ("/console/", "#key", False, None),
        "sequences": ("/console/sequences", "text=Lead Nurture", True, None),
        "builder": (f"/console/sequences/{draft}", ".step-card", True, None),
        "builder-settings": (f"/console/sequences/{draft}", "#settings-drawer", True,
                             "Settings"),
        "analytics": (f"/console/sequences/{active}/analytics", "[data-daily-total]", True, None),
        "enrollments": (f"/console/enrollments?sequence={active}", "table >> text=c-0", True, None),
        "enrollment": (f"/console/enrollments/{enrollment['id']}", ".why-timeline li", True, None),
        "operations": ("/console/operations", "[data-setting=throttle]", True, None),
        "templates": ("/console/templates", "tr[data-template='builtin:lead-nurture']", True, None),
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, serving(Path(folder) / "d.db") as world, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for name, (path, ready, signed_in, press) in _shots(world).items():
            context = browser.new_context(viewport={"width": 1100, "height": 720})
            if signed_in:
                context.add_init_script(f"sessionStorage.setItem('{KEY_ITEM}', '{KEY}')")
            page = context.new_page()
            page.goto(world.base + path)
            if press:
                page.get_by_role("button", name=press, exact=True).click()
            page.locator(ready).first.wait_for()
            page.wait_for_load_state("networkidle")
            if press:  # what the button opened, whole
                page.locator(ready).first.screenshot(path=OUT / f"{name}.png")
            else:
                page.screenshot(path=OUT / f"{name}.png")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
