"""An import-linter contract of our own (pyproject.toml): no module of ours imports a
private module of an external package (``dagster._core…``). import-linter sees external
packages only as a whole, so this reads the import lines it recorded (issue 44)."""

from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


class NoPrivateImports(Contract):
    """``source_modules`` never import a module of ``packages`` whose name has a segment
    starting with ``_`` (Dagster's ``dagster._core``, say): only public APIs."""

    source_modules = fields.ListField(subfield=fields.ModuleField())
    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        found = []
        for source in self.source_modules:
            for module in sorted({source.name} | graph.find_descendants(source.name)):
                for package in self.packages:
                    for detail in graph.get_import_details(importer=module, imported=package):
                        line = detail["line_contents"]
                        if f"{package}._" in line:
                            found.append(f"{module}:{detail['line_number']}: {line}")
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["found"]:
            output.print_error(f"a private module imported: {line}")
            output.new_line()
