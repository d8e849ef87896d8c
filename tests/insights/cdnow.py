"""The CDNOW sample (2,357 customers who first bought from the CD retailer CDNOW in the first quarter of
1997; 39 weeks of repeat purchases) as summarised in the ``lifetimes`` package's data files: read
from the installed package's folder, without importing it (it no longer imports with current pandas
and setuptools)."""

import csv
import importlib.util
from pathlib import Path

import numpy as np


def data_file(name: str) -> Path:
    spec = importlib.util.find_spec("lifetimes")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("the lifetimes package (requirements-dev.lock) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / name


def summary() -> dict[str, np.ndarray]:
    """Per customer: ID, x (repeat purchases), t_x (week of the last), T (weeks observed), zbar (mean spend)."""
    with data_file("cdnow_customers_summary_with_transactions.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {key: np.array([float(row[key]) for row in rows]) for key in ("ID", "x", "t_x", "T", "zbar")}
