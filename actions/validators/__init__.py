"""Pure validators for what citizens type into forms, one module per service area (`common` for what all share).

Each returns `Valid(value)` with the normalised value or `Invalid(response, values)`: the domain response that
explains precisely what is wrong (domain/*.yml, `utter_invalid_…`), with the values it names. The form shows it.
"""
