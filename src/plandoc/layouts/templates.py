"""A layout's templates, rendered in Jinja's sandbox.

Templates run in Jinja's sandbox with StrictUndefined: a template cannot reach
Python internals or files, and a misspelt name is an error that names the
template and line. Every value a Markdown template prints passes through
`finalize`, which escapes it unless it is already `Markdown` (a narrative
field); the HTML page template escapes as HTML. Filters: `narrative`,
`label` (`in-progress` -> `In progress`), `date`.
"""

from __future__ import annotations

import datetime as dt
import traceback
from functools import cached_property
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from plandoc.documents.markdown_text import Markdown, escape_inline, narrative
from plandoc.errors import LayoutError
from plandoc.model.plan import number_text
from plandoc.model.risk_words import mentions_risk
from plandoc.problems import quotes_as_values

if TYPE_CHECKING:
    from plandoc.layouts.layout import Layout


class PlanSandbox(SandboxedEnvironment):
    """Jinja's sandbox, with its attribute verdicts remembered per (type, name).

    The base verdict depends only on the object's type and the attribute's
    name, and asking it anew costs a fifth of a plan's rendering time.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._verdicts: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        key = (type(obj), attr)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = super().is_safe_attribute(obj, attr, value)
        return verdict


class LayoutTemplates:
    """The Jinja environments of one layout (its chain of parents included)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    @cached_property
    def loader(self) -> jinja2.BaseLoader:
        from plandoc.layouts.layout import PLAN_TEMPLATE

        generated = {}
        for layout in self.layout.chain:
            if layout.blocks and not (layout.folder / PLAN_TEMPLATE).is_file():
                parent = layout.parent.template_name(PLAN_TEMPLATE) if layout.parent else ""
                body = "".join(
                    f"{{% block {name} %}}{source}{{% endblock %}}\n"
                    for name, source in layout.blocks
                )
                generated[f"{layout.name}/{PLAN_TEMPLATE}"] = f'{{% extends "{parent}" %}}\n{body}'
        folders = {
            layout.name: jinja2.FileSystemLoader(str(layout.folder)) for layout in self.layout.chain
        }
        return jinja2.ChoiceLoader([jinja2.DictLoader(generated), jinja2.PrefixLoader(folders)])

    @cached_property
    def markdown_environment(self) -> SandboxedEnvironment:
        """For Markdown templates: values escaped as Markdown."""
        return make_environment(self.layout, self.loader)

    @cached_property
    def html_environment(self) -> SandboxedEnvironment:
        """For the HTML page around the body: values escaped as HTML."""
        return PlanSandbox(
            loader=self.loader,
            undefined=jinja2.StrictUndefined,
            autoescape=True,
            auto_reload=False,
        )

    def template(self, name: str) -> jinja2.Template:
        html = name.endswith(".html.j2")
        environment = self.html_environment if html else self.markdown_environment
        try:
            return environment.get_template(self.layout.template_name(name))
        except jinja2.TemplateSyntaxError as error:
            where = error.filename or f"{self.layout.manifest_path} [blocks]"
            raise LayoutError(f"{where}:{error.lineno}: template error: {error.message}") from None
        except jinja2.TemplateNotFound as error:
            raise LayoutError(
                f"layout '{self.layout.name}': template not found: {error.name}"
            ) from None

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render one template; a template's mistake names its file and line."""
        template = self.template(name)
        try:
            return template.render(context)
        except jinja2.TemplateError as error:
            frames = [f for f in traceback.extract_tb(error.__traceback__) if ".j2" in f.filename]
            where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else name
            message = quotes_as_values(error.message or type(error).__name__)
            raise LayoutError(f"{where}: template error: {message}") from None


def _session_length(minutes: int, language: str = "en") -> str:
    from plandoc.i18n import session_length

    return session_length(minutes, language)


def make_environment(layout: Layout, loader: jinja2.BaseLoader) -> SandboxedEnvironment:
    from plandoc.layouts.layout import label

    def finalize(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, Markdown):
            return value
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, dt.date):
            return layout.format_date(value)
        if isinstance(value, float):
            return number_text(value)
        return escape_inline(str(value))

    environment = PlanSandbox(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    environment.filters["narrative"] = lambda text: narrative(text) if text else Markdown("")
    environment.filters["label"] = label
    environment.filters["date"] = lambda value: layout.format_date(value) if value else ""
    # A session's length as a client reads it: 53 -> "about 50 minutes" (i18n.session_length).
    environment.filters["session"] = _session_length
    # A text that speaks of risk (model.risk_words): the client copy leaves it out.
    environment.tests["mentions_risk"] = mentions_risk
    # A goal's progress as one sentence, its dates the layout's: a chart's text alternative.
    environment.filters["trend"] = lambda progress: progress.trend(layout.format_date)
    return environment
