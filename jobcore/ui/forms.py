"""Create-job forms built from each job type's config schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobcore.classify.taxonomy import get_taxonomy
from jobcore.errors import ConfigError
from jobcore.jobs.registry import get_handler, handlers

# Where a field's choices come from when the schema names a source instead of an enum.
_CHOICE_SOURCES = {"parentCategories": lambda: get_taxonomy().parent_categories()}


@dataclass(frozen=True)
class FieldSpec:
    """One form field: its config key, widget kind and limits."""

    key: str
    label: str
    kind: str  # "bool", "int", "float", "text" or "choice"
    default: Any
    optional: bool
    help: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    # the field means something only when each named field holds one of these values
    shown_when: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def applies(self, values: dict[str, Any]) -> bool:
        """Whether the form shows this field, given the values of the fields before it."""
        return all(values.get(key) in allowed for key, allowed in self.shown_when)


def _label(key: str) -> str:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in key).strip()
    return words[:1].upper() + words[1:]


def form_job_types() -> list[str]:
    """Job types a person creates from the new-job form (merge comes from the Dedup
    Clusters screen, which supplies its clusters).
    """
    offered = [h for h in handlers() if h.form_creatable]
    return [h.job_type for h in sorted(offered, key=lambda h: (h.form_order, h.job_type))]


def job_type_label(job_type: str) -> str:
    """A job type as the form shows it: its label and one-line description."""
    handler = get_handler(job_type)
    return f"{handler.label}: {handler.description}"


def form_fields(job_type: str) -> list[FieldSpec]:
    """The fields of a job type's config that a person sets (internal ones left out)."""
    model = get_handler(job_type).config_model
    schema = model.model_json_schema(by_alias=True)
    specs = []
    for key, prop in schema.get("properties", {}).items():
        if prop.get("internal"):
            continue
        variants = prop.get("anyOf", [prop])
        optional = any(v.get("type") == "null" for v in variants)
        main = next(v for v in variants if v.get("type") != "null")
        kind = {"boolean": "bool", "integer": "int", "number": "float"}.get(
            main.get("type"), "text")
        choices = tuple(main.get("enum", ()))
        if prop.get("choicesFrom") in _CHOICE_SOURCES:
            choices = tuple(_CHOICE_SOURCES[prop["choicesFrom"]]())
        if choices:
            kind = "choice"
        specs.append(FieldSpec(
            key=key, label=_label(key), kind=kind, default=prop.get("default"),
            optional=optional, help=prop.get("description"), minimum=main.get("minimum"),
            maximum=main.get("maximum"), choices=choices,
            shown_when=tuple((k, tuple(v)) for k, v in prop.get("shownWhen", {}).items()),
        ))
    return specs


def whole_number(text: str) -> int | str | None:
    """A whole-number field as typed: None when blank, the number ('1,000', '1 000' and
    '1_000' are 1000), else the text itself, which the config's validation then refuses
    naming the field and what was typed ('2.5', '1e10'): never a number it was not.
    """
    stripped = text.strip()
    if not stripped:
        return None
    digits = stripped.replace(",", "").replace("_", "").replace(" ", "")
    sign, rest = (digits[0], digits[1:]) if digits[:1] in "+-" else ("", digits)
    return int(sign + rest) if rest.isascii() and rest.isdigit() else stripped


def config_from_form(specs: list[FieldSpec], values: dict[str, Any]) -> dict[str, Any]:
    """The config a filled form asks for: blank optional fields and fields that do not
    apply (see FieldSpec.applies) are left out.
    """
    config: dict[str, Any] = {}
    for spec in specs:
        if spec.key not in values or not spec.applies(values):
            continue
        value = values.get(spec.key)
        if isinstance(value, str):
            value = value.strip()
        if spec.optional and value in (None, ""):
            continue
        config[spec.key] = value
    return config


def form_problems(job_type: str, config: dict[str, Any]) -> dict[str, str]:
    """What is wrong with a form's config before anything is counted (types, ranges, mode
    and key checks; nothing that needs the database): field -> message, "" for the whole.
    """
    try:
        get_handler(job_type).parse_config(config)
    except ConfigError as exc:
        return exc.problems or {"": str(exc)}
    return {}


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """'1 item', '2 items', '1,329 items'."""
    word = noun if count == 1 else (plural_noun or f"{noun}s")
    return f"{count:,} {word}"
