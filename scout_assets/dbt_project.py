"""The dbt project Dagster runs, and the resource that runs it against a run's warehouse.

``DBT_PROJECT`` is the one ``DbtProject``: the ``@dbt_assets`` read its manifest, the resource
binding hands it to ``ScoutDbtCli`` and the setup script prepares it
(``dagster-dbt project prepare-and-package --file scout_assets/dbt_project.py``). Importing this
module runs nothing beyond dagster-dbt's ``prepare_if_dev()``, which re-parses only under
``dagster dev``; everywhere else the manifest comes from the setup script.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from dagster_shared.utils import environ
from packaging import version
from pydantic import Field

from resources.warehouse.location import WarehouseLocation
from scout_contract.paths import DBT_PROJECT_DIR

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_PROJECT.prepare_if_dev()


class ScoutDbtCli(DbtCliResource):
    """``DbtCliResource`` that runs dbt against a given warehouse, into ``marts_schema``.

    ``cli_against(location, args)`` hands the dbt process the variables
    ``dbt_project/profiles.yml`` reads (``WarehouseLocation.dbt_profile_env``: the one place
    they are derived), so dbt builds the run's own warehouse, whatever the resource was bound to.

    Why a context around ``cli``: dagster-dbt 0.29.27 builds the subprocess environment from
    the process environment and offers no hook for extra variables (an ``env`` argument was
    proposed upstream, dagster-io/dagster#29656, and declined in favour of setting the
    environment around the call). Dagster's own ``environ`` context does that and restores
    every variable when ``cli`` returns, which is after the process has started; a Dagster step
    runs one dbt invocation at a time, so nothing else sees the values meanwhile.
    """

    marts_schema: str = Field(description="The schema dbt builds the models into (SCOUT_MARTS_SCHEMA).")

    @cached_property
    def _cli_version(self) -> version.Version:
        """The dbt-core version, read from this environment's package metadata when that is the dbt run.

        dagster-dbt asks by running ``dbt --version`` once per resource instance, i.e. once per
        step: a whole dbt start-up (2.4 s measured on the two shared cores) to learn a number the
        installed package already states. A ``dbt`` from another environment is still asked.
        """
        executable = shutil.which(self.dbt_executable)
        if executable and Path(executable).resolve().parent == Path(sys.prefix, "bin").resolve():
            return version.parse(installed_version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        """Build no in-process dbt adapter: Scout reads neither row counts nor column metadata.

        dagster-dbt loads the profile, the project and every macro in this process (1.5 s for the
        first invocation of a process, 0.4 s after) only to hand the invocation an adapter for
        ``fetch_row_counts()`` and ``fetch_column_metadata()``, which ``scout_assets/assets/dbt.py``
        does not call (on DuckDB that adapter would also hold the warehouse file open). The
        invocation takes ``None`` for "no adapter"; the dbt subprocess is unchanged.
        """
        return None

    def cli_against(
        self,
        warehouse: WarehouseLocation,
        args: Sequence[str],
        *,
        context: dg.AssetExecutionContext | dg.OpExecutionContext | None = None,
        target_path: Path | None = None,
        raise_on_error: bool = True,
    ) -> DbtCliInvocation:
        """Start ``dbt <args>`` against ``warehouse``; with a ``@dbt_assets`` context, on its selection.

        The dbt process starts inside ``cli`` (``DbtCliInvocation.run`` opens it), so the profile
        variables are in the environment exactly while it is created and restored right after.
        """
        with environ(warehouse.dbt_profile_env(self.marts_schema)):
            return self.cli(
                list(args), context=context, target_path=target_path, raise_on_error=raise_on_error
            )


def build_dbt_resource(marts_schema: str) -> ScoutDbtCli:
    """The ``dbt`` resource: ``DBT_PROJECT`` (project and profile folder), building into ``marts_schema``."""
    return ScoutDbtCli(project_dir=DBT_PROJECT, marts_schema=marts_schema)
