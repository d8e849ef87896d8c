"""What an import found: the counts, every problem with its line and column, the warnings."""

from dataclasses import astuple, dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Every problem is counted; the first MAX_PROBLEMS_KEPT are kept for the marked copy of the file
# (marked.py), the first MAX_PROBLEMS_SHOWN listed on the page (and kept in a job's report.json).
MAX_PROBLEMS_KEPT = 50_000
MAX_PROBLEMS_SHOWN = 200
MAX_WARNINGS_KEPT = 5000
MAX_WARNINGS_SHOWN = 200
MAX_NUMBERS_LISTED = 200


@dataclass(frozen=True)
class Problem:
    """One bad cell or row: "Line 7, phone: This mobile number has 10 digits; Chinese mobiles have 11."."""

    line: int
    column: str
    message: str
    value: str = ""

    def __str__(self) -> str:
        if self.column:
            return _("Line %(line)d, %(column)s: %(message)s") % {
                "line": self.line,
                "column": self.column,
                "message": self.message,
            }
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class ImportReport:
    file_name: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    bad_lines: set[int] = field(default_factory=set)
    warnings: list[Problem] = field(default_factory=list)
    warning_count: int = 0
    file_errors: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    new_tags: set[str] = field(default_factory=set)
    written: bool = False
    batch_id: int | None = None  # the ImportBatch of a written import
    generate_numbers: bool = False  # new rows without a customer number get a generated one
    generated: int = 0  # how many (to be) generated
    generated_numbers: list[str] = field(default_factory=list)  # the first MAX_NUMBERS_LISTED written

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.problem_count and self.rows > 0

    @property
    def new_tag_list(self) -> list[str]:
        return sorted(self.new_tags)

    @property
    def shown_problems(self) -> list[Problem]:
        return self.problems[:MAX_PROBLEMS_SHOWN]

    @property
    def shown_warnings(self) -> list[Problem]:
        return self.warnings[:MAX_WARNINGS_SHOWN]

    @property
    def hidden_problems(self) -> int:
        return self.problem_count - len(self.shown_problems)

    @property
    def hidden_warnings(self) -> int:
        return self.warning_count - len(self.shown_warnings)

    @property
    def hidden_numbers(self) -> int:
        return self.generated - len(self.generated_numbers) if self.written else 0

    def note_generated(self, numbers: list[str]) -> None:
        room = MAX_NUMBERS_LISTED - len(self.generated_numbers)
        if room > 0:
            self.generated_numbers += numbers[:room]

    def as_dict(self) -> dict:
        """JSON for a report kept between a background job and the page that shows it."""
        return {
            **{name: getattr(self, name) for name in _REPORT_SCALARS},
            # The page's share only: every kept problem is in the upload's problems.json (marked.py).
            "problems": [list(astuple(p)) for p in self.shown_problems],
            "warnings": [list(astuple(w)) for w in self.shown_warnings],
            "bad_lines": sorted(self.bad_lines),
            "new_tags": sorted(self.new_tags),
            "batch_id": self.batch_id,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        scalars = {name: data[name] for name in _REPORT_SCALARS if name in data}
        report = cls(**scalars, batch_id=data.get("batch_id"))
        report.problems = [Problem(*p) for p in data["problems"]]
        report.warnings = [Problem(*w) for w in data["warnings"]]
        report.bad_lines = set(data["bad_lines"])
        report.new_tags = set(data["new_tags"])
        return report

    def add_problem(self, line: int, column: str, message: str, value="") -> None:
        self.problem_count += 1
        self.bad_lines.add(line)
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(Problem(line, column, str(message), short_value(value)))

    def add_warning(self, line: int, column: str, message: str, value="") -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS_KEPT:
            self.warnings.append(Problem(line, column, str(message), short_value(value)))


_REPORT_SCALARS = (
    "file_name",
    "rows",
    "created",
    "updated",
    "unchanged",
    "problem_count",
    "warning_count",
    "file_errors",
    "columns",
    "ignored_columns",
    "written",
    "generate_numbers",
    "generated",
    "generated_numbers",
)


def short_value(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def generated_message(report: ImportReport, listed: int = 20) -> str:
    """ "3 customer numbers were generated: C000124, C000125, C000126." (the first ``listed``)."""
    shown = report.generated_numbers[:listed]
    text = ", ".join(shown) + (" …" if report.generated > len(shown) else "")
    return ngettext(
        "%(count)d customer number was generated: %(numbers)s.",
        "%(count)d customer numbers were generated: %(numbers)s.",
        report.generated,
    ) % {"count": report.generated, "numbers": text}
