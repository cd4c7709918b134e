"""docs/fields.md, generated from the schema: every field, its type, when it is required, and
what the structured fields hold (`python -m pipectl.fielddoc > docs/fields.md`; `pipectl
schema --markdown` prints the same for a pipeline). Never reads a file.
"""

from __future__ import annotations

from pipectl import lineitems, tasks
from pipectl.fieldtypes import TYPES
from pipectl.schema import Schema


def fields_markdown(schema: Schema) -> str:
    """docs/fields.md: every field, its type, when it is required, and the types."""
    lines = [
        "# Deal fields",
        "",
        "<!-- generated from pipectl/fieldtypes.py and pipectl/schema.py by "
        "`python -m pipectl.fielddoc > docs/fields.md`; do not edit by hand -->",
        "",
        "A deal's frontmatter holds these fields. Every command that writes a deal refuses "
        "a value its type refuses (`FILE:LINE: field: reason`, exit 2, nothing written), "
        "and `pipectl lint` reports one already in a file (PL103). Keys not listed are "
        "yours and are kept as they are. `pipectl schema` prints all of this as JSON "
        "Schema, with your pipeline's own fields.",
        "",
        "| field | type | required | meaning |",
        "|---|---|---|---|",
    ]
    for d in schema.fields.values():
        stages = [s for s in schema.config.stage_names if d.name in schema.required(s)]
        if len(stages) == len(schema.config.stage_names):
            req = "always"
        else:
            req = ", ".join(stages) or "–"
        kind = d.type + (f" ({', '.join(d.values)})" if d.values else "")
        lines.append(f"| `{d.name}` | {kind} | {req} | {d.help} |")
    lines += [
        "",
        "## Your own fields",
        "",
        "Declare them in `pipeline.yaml` under `fields:`; each takes a `type`, and "
        "optionally `help`, `values` (enum, list), `min`/`max` (number, integer, money) "
        "and `required` (true, or a list of stages):",
        "",
        "```yaml",
        "fields:",
        "  seats: {type: integer, min: 1, help: Licences, required: [closing, won]}",
        "  segment: {type: enum, values: [smb, mid, enterprise]}",
        "```",
        "",
        "| type | holds |",
        "|---|---|",
        *(f"| {name} | {meaning} |" for name, meaning in TYPES.items()),
        "",
        "## Dates in order",
        "",
        "`closed`, `stage_entered` and every touchpoint's date may not be before `created`.",
        "",
        "## Touchpoints from mail and calendars",
        "",
        "A touchpoint `pipectl ingest` logs also keeps `direction` (`sent` or `received`) and "
        "the id it came from, `message_id` (an email's Message-ID) or `event_id` (an event's "
        "UID, `UID/RECURRENCE-ID` for one occurrence), each text on one line; `domains` lists "
        "the company's email domains it matches messages by (docs/mail.md).",
        "",
        "## Contacts",
        "",
        "`contact:` is one text (`Jane Doe <jane@acme.example>`); `contacts:` lists the "
        "deal's people, each a mapping of `name`, `email`, `phone` and `role` (text, the "
        "email an address), with a name or an email at least:",
        "",
        "```yaml",
        "contacts:",
        "  - {name: Jane Doe, email: jane@acme.example, role: champion}",
        "  - {name: Raj Patel, phone: +1 555 0100, role: economic buyer}",
        "```",
        "",
        "`pipectl show` lists them; `pipectl import` fills them from columns mapped to "
        "`contacts.N.PART` and `pipectl export` writes them back (docs/import.md). An "
        "entry may instead be the id of a contact record (`contacts: [jane-doe]`, the file "
        "`contacts/jane-doe.md`), as `account:` names an account record (docs/accounts.md).",
        "",
        "## Qualification",
        "",
        "`qualification:` maps each criterion of `qualification.criteria` to its evidence. A "
        "criterion is met when present and not false, no, empty or a placeholder (tbd, "
        "unknown, ?). A name that is not a criterion is refused.",
        *tasks.FIELDS_DOC,
        *lineitems.FIELDS_DOC,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    from pipectl.config import default_config

    sys.stdout.write(fields_markdown(Schema(default_config())))
