"""What a bootstrap (the state backend, the image repository) found, created, fixed, and what is
wrong: one kind of line and one way to read them, for both reports."""

from __future__ import annotations

from dataclasses import dataclass

FOUND, CREATED, FIXED, PROBLEM = "found", "created", "fixed", "problem"


@dataclass(frozen=True)
class ReportLine:
    status: str  # found | created | fixed | problem
    text: str
    fixable: bool = True  # for problems: whether the bootstrap can put it right

    def render(self) -> str:
        return f"{self.status:<8} {self.text}"


class Report:
    """The reading of a report's `lines` (a field of each report's own dataclass)."""

    lines: list[ReportLine]

    def add(self, status: str, text: str, *, fixable: bool = True) -> None:
        self.lines.append(ReportLine(status, text, fixable))

    def _with(self, status: str) -> list[str]:
        return [line.text for line in self.lines if line.status == status]

    @property
    def found(self) -> list[str]:
        return self._with(FOUND)

    @property
    def created(self) -> list[str]:
        return self._with(CREATED) + self._with(FIXED)

    @property
    def problems(self) -> list[str]:
        return self._with(PROBLEM)

    @property
    def unfixable(self) -> list[str]:
        return [line.text for line in self.lines if line.status == PROBLEM and not line.fixable]

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        return "\n".join(line.render() for line in self.lines)
