"""The authoring blueprint with every route registered, and its job runners (``init_app``).

Each resource family is one module: ``projects`` (CRUD, import, export, deletion), ``training`` (train jobs,
models, evaluation), ``deployments``, ``exported_models`` (for the container) and ``catalog`` (global lists).
"""

from __future__ import annotations

from functools import partial

from flask import Flask

from ..resource import Resource
from . import catalog, deployments, exported_models, projects, training
from .blueprint import bp

__all__ = ["bp", "catalog", "init_app"]


def init_app(app: Flask) -> None:
    """Give the resource's job engine a runner for every authoring job kind."""
    resource: Resource = app.extensions["cner"]
    runners = {
        projects.IMPORT: projects.run_import,
        projects.EXPORT: projects.run_export,
        projects.DELETION: projects.run_deletion,
        training.TRAIN: training.run_training,
        deployments.DEPLOY: deployments.run_deployment,
        deployments.SWAP: deployments.run_swap,
        exported_models.EXPORT_MODEL: exported_models.run_model_export,
    }
    for kind, runner in runners.items():
        resource.jobs.register(kind, partial(runner, resource))
