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


def _shots(world: World) -> dict[str, tuple[str, str, bool]]:
    """name: (path, selector shown once loaded, signed in)."""
    active, draft = world.active["id"], world.draft["id"]
    make_sequence(world.api, "Win-back", activate=False)
    [enrollment] = world.get(f"{V1}/sequences/{active}/enrollments", status="active",
                             limit=1)["items"]
    return {
        "signin": ("/console/", "#key", False),
        "sequences": ("/console/sequences", "text=Lead Nurture", True),
        "builder": (f"/console/sequences/{draft}", ".step-card", True),
        "analytics": (f"/console/sequences/{active}/analytics", "[data-daily-total]", True),
        "enrollments": (f"/console/enrollments?sequence={active}", "table >> text=c-0", True),
        "enrollment": (f"/console/enrollments/{enrollment['id']}", ".why-timeline li", True),
        "operations": ("/console/operations", "[data-setting=throttle]", True),
        "templates": ("/console/templates", "tr[data-template='builtin:lead-nurture']", True),
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, serving(Path(folder) / "d.db") as world, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for name, (path, ready, signed_in) in _shots(world).items():
            context = browser.new_context(viewport={"width": 1100, "height": 720})
            if signed_in:
                context.add_init_script(f"sessionStorage.setItem('{KEY_ITEM}', '{KEY}')")
            page = context.new_page()
            page.goto(world.base + path)
            page.locator(ready).first.wait_for()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=OUT / f"{name}.png")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
