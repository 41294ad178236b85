"""The hand-kept lists cannot drift: every package and module is on the architecture page
(docs/architecture.md) and in the import contract (.importlinter), and nothing listed is gone."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "evals", "ui", "service", "ingest", "cited")
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def modules() -> set[str]:
    """Every module of the project as a path: ``cited/store/chunk_store.py``."""
    return {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py"
    }


def packages() -> set[str]:
    """Every package as a folder path: ``cited/store/``."""
    return {
        init.parent.relative_to(ROOT).as_posix() + "/"
        for package in PACKAGES
        for init in (ROOT / package).rglob("__init__.py")
    }


def dotted(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/").replace("/", ".")


def contracts() -> dict[str, list[str]]:
    """Each contract's layers, every name of a layer split out (``a | b`` and ``a : b``)."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    found = {}
    for section in config.sections():
        if section.startswith("importlinter:contract:"):
            layers = config[section]["layers"]
            found[section] = [name for name in re.split(r"[\s|:]+", layers) if name]
    return found


def test_every_package_and_module_is_on_the_architecture_page_and_nothing_gone_is() -> None:
    named = set(re.findall(r"`([\w/]+(?:\.py|/))`", ARCHITECTURE.read_text(encoding="utf-8")))
    ours = {n for n in named if n.split("/")[0] in PACKAGES}
    assert modules() - ours == set(), "add these to docs/architecture.md"
    assert packages() - ours == set(), "add these packages to docs/architecture.md"
    assert ours - modules() - packages() == set(), "docs/architecture.md names what no longer exists"


def test_every_module_is_under_a_layer_of_the_import_contract() -> None:
    layers = contracts()["importlinter:contract:layers"]
    for module in sorted(modules()):
        name = dotted(module)
        assert any(name == layer or name.startswith(layer + ".") for layer in layers), (
            f"{module} is in no layer of .importlinter"
        )


def test_the_inner_contracts_list_each_module_by_name_and_nothing_gone() -> None:
    every = {dotted(m) for m in modules()} | {dotted(p) for p in packages()}
    for section, names in contracts().items():
        assert set(names) - every == set(), f"{section} names modules that do not exist"
    answering = contracts()["importlinter:contract:answering"]
    evals = contracts()["importlinter:contract:evals"]
    for module in modules():
        name = dotted(module)
        if module.startswith("service/answering/"):
            assert name in answering, f"{module} is missing from the answering contract"
        if module.startswith("evals/") and not module.startswith("evals/benchmarks/"):
            assert name in evals, f"{module} is missing from the evals contract"


def test_the_readme_stays_short_and_links_only_to_pages_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\((docs/[\w.-]+\.md)", readme)
    assert links and all((ROOT / link).is_file() for link in links)
    assert {p.name for p in (ROOT / "docs").glob("*.md")} <= {Path(link).name for link in links}
