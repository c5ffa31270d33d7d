"""The campaign builder says what is wrong in its own words."""

import pytest


def test_a_yaml_error_names_its_line_not_pyyaml_internals():
    import yaml

    from humanic_app.state import campaigns

    with pytest.raises(yaml.YAMLError) as bad:
        yaml.safe_load("name: x\nsteps: [\n  - a: b\n")
    said = campaigns._yaml_problem(bad.value)
    assert "<unicode string>" not in said and said.startswith("Line ")
