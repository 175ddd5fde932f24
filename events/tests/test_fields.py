"""The one table of an event's fields (events/fields.py) against everything that must
agree with it: the PynamoDB model, the serializers and the OpenAPI schema the service
serves. (The item built from it is held to PynamoDB's own serialization in
test_items.py, the rendering to the serializers' bytes in test_rendering.py, the fast
validator to the serializer's answers in test_validation.py.)"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from devstack.testing import Server
from events.fields import FIELDS, METADATA_FIELDS, READ_ATTRIBUTES, SENT_FIELDS, TextRule
from events.models import Event, EventMetadata
from events.serializers import (
    EventInSerializer,
    EventMetadataInSerializer,
    EventMetadataOutSerializer,
    EventOutSerializer,
)

ATTRIBUTE_CLASSES: dict[str, type[Any]] = {
    "text": UnicodeAttribute,
    "json": UnicodeAttribute,
    "time": UTCDateTimeAttribute,
    "metadata": MapAttribute,
    "epoch": TTLAttribute,
    "count": NumberAttribute,
}
SHOWN = [field.name for field in FIELDS if field.shown]
SENT = [field.name for field in SENT_FIELDS]
METADATA = [field.name for field in METADATA_FIELDS]


def test_the_model_declares_exactly_the_tables_fields() -> None:
    attributes = Event.get_attributes()
    assert set(attributes) == {field.name for field in FIELDS}
    for field in FIELDS:
        attribute = attributes[field.name]
        assert isinstance(attribute, ATTRIBUTE_CLASSES[field.stored]), field.name
        assert attribute.attr_type == field.dynamodb_type, field.name
        assert attribute.null == field.nullable, field.name
    assert attributes["tenant_id"].is_hash_key
    assert attributes["created_key"].is_range_key


def test_the_metadata_map_declares_exactly_the_tables_keys() -> None:
    attributes = EventMetadata.get_attributes()
    assert set(attributes) == set(METADATA)
    for field in METADATA_FIELDS:
        attribute = attributes[field.name]
        assert isinstance(attribute, UnicodeAttribute), field.name
        assert attribute.null == (field.default is None), field.name
        assert attribute.default == field.default, field.name


def test_reads_fetch_every_shown_field_and_the_keys() -> None:
    assert set(READ_ATTRIBUTES) == {*SHOWN, "tenant_id", "created_key"}


def test_every_sent_text_field_has_its_rule() -> None:
    for field in SENT_FIELDS:
        assert (field.rule is not None) == (field.sent == "text"), field.name
    assert all(isinstance(field.rule, TextRule) for field in METADATA_FIELDS)


def test_the_serializers_are_the_tables() -> None:
    assert list(EventInSerializer().fields) == SENT
    assert list(EventOutSerializer().fields) == SHOWN
    assert list(EventMetadataInSerializer().fields) == METADATA
    assert list(EventMetadataOutSerializer().fields) == METADATA


@pytest.mark.integration
def test_the_served_schema_states_the_tables_fields(server: Server) -> None:
    schema = requests.get(server.url + "/v1/schema", timeout=30).json()
    components = schema["components"]["schemas"]

    def properties(name: str) -> list[str]:
        return list(components[name]["properties"])

    assert properties("EventInRequest") == SENT
    assert sorted(components["EventInRequest"]["required"]) == sorted(
        field.name for field in SENT_FIELDS if field.sent != "metadata"
    )
    assert properties("EventOut") == SHOWN
    assert properties("EventResponse") == [*SHOWN, "request_id"]
    assert properties("EventMetadataInRequest") == METADATA
    assert properties("EventMetadataOut") == METADATA
    nullable = {
        name for name, spec in components["EventOut"]["properties"].items() if spec.get("nullable")
    }
    # a count an item lacks (an event written before it existed) is shown as 0, never null
    assert nullable == {
        field.name for field in FIELDS if field.shown and field.nullable and field.stored != "count"
    }
