"""A contract import-linter has no built-in for: a domain may use another domain only through
its public modules (`service`, `schemas`). The layers contract in `.importlinter` fixes the
direction; this one keeps `models`, `repository` and every other module private to its domain,
for domains that exist today and those added later, without listing their modules.
"""

from __future__ import annotations

from typing import Any, cast

import grimp
from importlinter import Contract, ContractCheck, fields, output


class PublicApiContract(Contract):
    """Options:
    - container: the package whose sub-packages are the domains (`mindlinks`).
    - public: the modules of a domain that other domains may import (`service`, `schemas`).
    - shared: sub-packages every domain may import in full (`platform`, `settings`).
    - wiring: modules above every domain that assemble them (`app`, `cli`, ...): unrestricted.
    - exceptions: `importer -> imported` pairs tolerated for now (debt to pay, listed).
    """

    type_name = "public_api"

    container = fields.StringField()
    public = fields.ListField(subfield=fields.StringField())
    shared = fields.ListField(subfield=fields.StringField(), required=False)
    wiring = fields.ListField(subfield=fields.StringField(), required=False)
    exceptions = fields.ListField(subfield=fields.StringField(), required=False)

    def _names(self, option: str) -> list[str]:
        # Fields are declared on the class and hold the parsed values on the instance.
        return list(cast(list[str], getattr(self, option) or []))

    def _part(self, module: str) -> str | None:
        prefix = f"{cast(str, self.container)}."
        return module[len(prefix):].split(".")[0] if module.startswith(prefix) else None

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        public = set(self._names("public"))
        free_importers = set(self._names("wiring"))
        open_parts = set(self._names("shared")) | free_importers
        tolerated = {tuple(p.strip() for p in e.split("->")) for e in self._names("exceptions")}
        broken: list[dict[str, Any]] = []
        for importer in sorted(graph.modules):
            source = self._part(importer)
            if source is None or source in free_importers:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                target = self._part(imported)
                if target is None or target == source or target in open_parts:
                    continue
                rest = imported.split(".")[2:]
                if not rest or rest[0] in public or (importer, imported) in tolerated:
                    continue
                lines = graph.get_import_details(importer=importer, imported=imported)
                broken.append({
                    "importer": importer,
                    "imported": imported,
                    "lines": [d["line_number"] for d in lines],
                })
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            where = ", ".join(f"l.{n}" for n in item["lines"])
            output.print_error(f"{item['importer']} -> {item['imported']} ({where})", bold=False)
        output.new_line()
        output.print(
            f"Import another domain's {' or '.join(self._names('public'))} only "
            "(or move the code into it, or use an event / a Protocol registered at start-up)."
        )
