"""The model resolver and loaded-model contracts the app relies on."""

from __future__ import annotations

import pytest

from loopml.errors import InvalidInputError, NotFoundError
from loopml.serve import LoadedModel, StaticResolver, create_app, serve
from loopml.train import ModelBundle


def test_a_loaded_model_compiles_its_request_schema_once(churn_bundle: ModelBundle) -> None:
    model = LoadedModel("churn", 2, churn_bundle)

    assert model.ref == "churn:2"
    assert model.schema is model.schema
    assert model.schema.column_names == churn_bundle.feature_names


def test_the_static_resolver_names_known_models_when_one_is_missing(
    churn_model: LoadedModel,
) -> None:
    resolver = StaticResolver({"churn": churn_model})

    assert resolver.resolve("churn") is churn_model
    assert resolver.names() == ["churn"]
    with pytest.raises(NotFoundError) as caught:
        resolver.resolve("fraud")
    assert caught.value.to_dict() == {
        "error": "not_found",
        "message": "No model named 'fraud' is served.",
        "hint": "Known models: churn.",
    }


def test_the_static_resolver_refuses_a_model_under_another_name(
    churn_model: LoadedModel,
) -> None:
    with pytest.raises(InvalidInputError, match="registered under the name 'other'"):
        StaticResolver({"other": churn_model})


def test_several_workers_need_an_import_string(churn_model: LoadedModel) -> None:
    with pytest.raises(InvalidInputError, match="import string"):
        serve(create_app(StaticResolver({"churn": churn_model})), workers=2)
    with pytest.raises(InvalidInputError, match="at least 1"):
        serve("pkg.module:app", workers=0)
