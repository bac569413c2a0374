"""The package's shape, checked from its module-level imports (``TYPE_CHECKING`` aside).

The bounds the structure was redesigned to: no import cycles, no module reaching into
another package's private (``_``) module, storage depending only on itself and the item
model, a config module that loads next to nothing, and short chains of imports, so that
a newcomer reading one module is not pulled through the whole project.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "hltv_scraper"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in (ROOT / PACKAGE).rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(tree: ast.Module):
    """Import statements run when the module is imported (not inside functions, not
    under ``if TYPE_CHECKING:``)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)


def _with_parents(name: str, importer: str) -> list[str]:
    """A module and the packages above it, all of which run on import (but for the
    importer's own packages, which are being imported already)."""
    parts = name.split(".")
    names = (".".join(parts[: i + 1]) for i in range(len(parts)))
    return [n for n in names if n in MODULES and n != importer and not importer.startswith(n + ".")]


@functools.cache
def imports_of(module: str) -> frozenset[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        for target in targets:
            if target.split(".")[0] == PACKAGE:
                found.update(_with_parents(target, module))
    return frozenset(found)


def _longest_chain(module: str, seen: tuple[str, ...] = ()) -> tuple[str, ...]:
    if module in seen:
        raise AssertionError(f"import cycle: {' -> '.join(seen[seen.index(module):] + (module,))}")
    best = (module,)
    for target in imports_of(module):
        chain = (module, *_longest_chain(target, (*seen, module)))
        if len(chain) > len(best):
            best = chain
    return best


def test_no_import_cycles_and_short_chains():
    longest = max((_longest_chain(module) for module in MODULES), key=len)
    assert len(longest) <= 8, " -> ".join(longest)


def test_no_module_imports_a_private_module_of_another_package():
    offenders = []
    for module in MODULES:
        own_package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        for target in imports_of(module):
            parent, _, leaf = target.rpartition(".")
            if leaf.startswith("_") and parent != own_package:
                offenders.append(f"{module} imports {target}")
    assert not offenders, offenders


def test_storage_depends_only_on_itself_and_the_item_model():
    storage = f"{PACKAGE}.storage"
    allowed = {PACKAGE, f"{PACKAGE}.items"}
    offenders = [
        f"{module} imports {target}"
        for module in MODULES
        if module == storage or module.startswith(storage + ".")
        for target in imports_of(module)
        if not (target == storage or target.startswith(storage + ".") or target in allowed)
    ]
    assert not offenders, offenders


def test_importing_the_config_loads_at_most_three_project_modules():
    code = (
        "import sys, hltv_scraper.config; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'hltv_scraper'))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    modules = ast.literal_eval(loaded.stdout.strip())
    assert len(modules) <= 3, modules



def test_a_sqlite_export_never_loads_the_postgresql_driver():
    """psycopg (with its compiled part) is ~45 MB of a process's memory: an export or a
    crawl on SQLite must not load it by importing the storage layer."""
    code = (
        "import sys, hltv_scraper.storage, hltv_scraper.export, hltv_scraper.commands.export; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg'))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert ast.literal_eval(loaded.stdout.strip()) == []

#: The layers of the package, lowest first: a module imports only from its own part or
#: from parts of lower layers, so a back-arrow (storage importing the stages, fetching
#: importing how a crawl stops) fails here.
LAYERS = (
    ("items", "config", "site", "charts", "output"),  # the item model, settings, what a page looks like, writing out
    ("parsers", "storage", "validation", "fetch"),  # pure parsers, SQL, checks, getting pages
    ("brakes", "report"),  # how a crawl stops; the report
    ("ledger",),  # one crawl's units and where they come from
    ("stages",),  # the declarations and their registry
    ("spiders", "pipelines", "extensions", "stopping", "archive", "export"),  # built from them
    ("commands", "settings"),  # what a user runs
)


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_every_import_goes_down_the_layers():
    layer = {part: n for n, parts in enumerate(LAYERS) for part in parts}
    unplaced = sorted({_part(m) for m in MODULES} - set(layer) - {PACKAGE})
    assert not unplaced, f"place these in LAYERS: {unplaced}"
    back_arrows = [
        f"{module} imports {target}"
        for module in MODULES
        for target in imports_of(module)
        if _part(module) != _part(target) and _part(target) != PACKAGE
        and layer[_part(module)] <= layer[_part(target)]
    ]
    assert not back_arrows, back_arrows


def test_a_stage_is_named_in_at_most_three_modules_besides_its_own():
    """A stage's name outside its declaration, its storage module and its parsers is
    where code hard-codes it: the registry, and at most two more."""
    import re

    from hltv_scraper.stages import STAGES

    for name in ("map_stats", "perf_economy", "rankings"):
        stage = STAGES[name]
        own = {f"{PACKAGE}.stages.{name}", f"{PACKAGE}.storage.{name}"}
        own |= {page.parse.__module__ for page in stage.pages}
        word = re.compile(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])")
        naming = sorted(
            module for module, path in MODULES.items()
            if module not in own and word.search(path.read_text(encoding="utf-8"))
        )
        assert len(naming) <= 3, (name, naming)
