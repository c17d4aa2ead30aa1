"""The mapping file format and matching it against a file's header."""

from __future__ import annotations

import pytest

from engine.exchange.mapping import Mapping, MappingError, load_mapping, plan_columns


def write(tmp_path, text: str):
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_names_map_without_a_file_and_others_become_free_fields():
    header = [" External_ID ", "Name", "phone", "phone_type", "phone2", "Debt", ""]
    plan = plan_columns(Mapping(), header, "f.csv")
    assert plan.scalars == {"external_id": 0, "name": 1}
    assert plan.phones == ((2, 3), (4, None))
    assert plan.fields == (("Debt", 5),)
    assert plan.width == 7


def test_a_mapping_file_overrides_defaults_and_keeps_the_rest(tmp_path):
    mapping = load_mapping(write(tmp_path, "columns:\n  external_id: Код\n  phone: Тел\n"
                                           "fields:\n  sum: Сумма\n"))
    plan = plan_columns(mapping, ["Код", "Тел", "name", "Сумма", "Прочее"], "f.csv")
    assert plan.scalars == {"external_id": 0, "name": 2}
    assert plan.phones == ((1, None),)
    assert plan.fields == (("sum", 3),)  # unmapped: ignore is the default with a file


def test_unmapped_fields_can_be_kept(tmp_path):
    mapping = load_mapping(write(tmp_path, "unmapped: fields\n"))
    plan = plan_columns(mapping, ["external_id", "phone", "Прочее"], "f.csv")
    assert plan.fields == (("Прочее", 2),)


@pytest.mark.parametrize(("text", "message"), [
    ("- a\n- b\n", "the top level must be a mapping"),
    ("colums:\n  phone: x\n", "unknown key 'colums'"),
    ("columns:\n  phonee: x\n", "columns.phonee: not a contact field"),
    ("columns:\n  phone1: x\n", "columns.phone1: not a contact field"),
    ("columns:\n  phone: ''\n", "columns.phone: header must be a non-empty string"),
    ("columns: [phone]\n", "columns: must be a mapping"),
    ("fields:\n  debt: [1, 2]\n", "fields.debt: header must be a non-empty string"),
    ("unmapped: keep\n", "unmapped: must be 'ignore' or 'fields'"),
    ("encoding: latin-1\n", "encoding: encoding 'latin-1' is not one of"),
    ("delimiter: '|'\n", "delimiter: delimiter '|' is not one of"),
    ("columns:\n  phone: [unclosed\n", "is not valid UTF-8 YAML"),
])
def test_mapping_file_errors_name_file_and_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(MappingError, match=message) as caught:
        load_mapping(path)
    assert str(path) in str(caught.value)


def test_missing_mapping_file_is_named(tmp_path):
    with pytest.raises(MappingError, match="cannot read mapping file .*nope.yaml"):
        load_mapping(tmp_path / "nope.yaml")


def test_mapped_column_missing_from_the_header_is_named(tmp_path):
    path = write(tmp_path, "columns:\n  external_id: Код\n  phone: Телефон\n")
    with pytest.raises(MappingError) as caught:
        plan_columns(load_mapping(path), ["Код", "Тел."], "list.csv")
    assert str(caught.value) == (f"list.csv: column 'Телефон' not found in the header "
                                 f"(mapping file {path}: columns.phone)")


def test_type_column_without_its_number_column(tmp_path):
    with pytest.raises(MappingError, match="a phone2_type column but no phone2 column"):
        plan_columns(Mapping(), ["external_id", "phone", "phone2_type"], "f.csv")


def test_duplicate_headers_matter_only_where_used(tmp_path):
    mapping = load_mapping(write(tmp_path, "columns:\n  phone: Тел\n"))
    plan = plan_columns(mapping, ["external_id", "Тел", "Note", "Note"], "f.csv")
    assert plan.fields == ()
    with pytest.raises(MappingError, match="'Тел' appears more than once"):
        plan_columns(mapping, ["external_id", "Тел", "Тел"], "f.csv")
