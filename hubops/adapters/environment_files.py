"""The environments read from `environments/ENV/` (the single source of truth).

Each environment folder holds `terraform.tfvars` (the root module's variable values, which are
also the facts this library needs: account, region, cluster, namespace, domain, supervision) and
`backend.hcl` (the S3 state backend settings). OpenTofu reads the same two files.
"""

from __future__ import annotations

from pathlib import Path

from hubops.adapters.settings import raw as read_setting
from hubops.facts import layout, settings
from hubops.facts.engine_files import VARS_SUFFIXES
from hubops.facts.environments import (
    BACKEND_FILE,
    ENVIRONMENTS_DIR,
    PRODUCTION,
    VARS_FILE,
    Backend,
    Environment,
    promotion_sorted,
)
from hubops.facts.errors import EnvironmentFileError, UnknownEnvironment

_REQUIRED_VARS = {
    "environment": str,
    "aws_region": str,
    "aws_account_id": str,
    "cluster_name": str,
    "hub_namespace": str,
    "supervised": bool,
}
_REQUIRED_BACKEND = {"bucket": str, "key": str, "region": str}


def project_root(start: Path | None = None) -> Path:
    """The repository root: `HUBOPS_ROOT`, else the nearest folder upwards holding environments/."""
    override = read_setting(settings.ROOT)
    if override:
        return Path(override).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ENVIRONMENTS_DIR).is_dir():
            return folder
    raise EnvironmentFileError(
        f"No {ENVIRONMENTS_DIR}/ folder in {here} or above it: run this from the infrastructure "
        "repository, or set HUBOPS_ROOT to its path."
    )


def known_environments(root: Path) -> list[str]:
    folder = root / ENVIRONMENTS_DIR
    return (
        promotion_sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    )


def parse_cache(root: Path) -> Path:
    """Where parsed HCL files are cached by content, shared by every task and `validate`."""
    return layout.parse_cache(root)


def read_hcl(path: Path, cache_dir: Path | None = None):
    """One HCL file's model (`hubops.adapters.hcl.ParsedFile`); missing or malformed: an error."""
    from hubops.adapters.hcl import Parser  # lazy: the HCL parser is slow to import

    if not path.is_file():
        raise EnvironmentFileError(f"{path} is missing: create it (see README.md).")
    parsed = Parser(cache_dir).parse(path)
    if parsed.error:
        line, message = parsed.error
        raise EnvironmentFileError(f"{path}:{line}: not valid HCL: {message}")
    return parsed


def parse_hcl_file(path: Path, cache_dir: Path | None = None) -> dict:
    """The top-level attributes of one HCL file (tfvars, backend settings) as Python values."""
    return {name: attr.value for name, attr in read_hcl(path, cache_dir).attrs.items()}


def _require(values: dict, path: Path, spec: dict) -> None:
    for key, kind in spec.items():
        if key not in values:
            raise EnvironmentFileError(f"{path} does not set `{key}`: add it.")
        if not isinstance(values[key], kind):
            raise EnvironmentFileError(
                f"{path}: `{key}` must be a {kind.__name__}, not {values[key]!r}."
            )


def _require_production_facts(path: Path, variables: dict) -> None:
    """What makes production production is not switchable by an edit of its tfvars."""
    if variables["supervised"] is not True:
        raise EnvironmentFileError(
            f"{path} says supervised = false, but {PRODUCTION} is "
            "production: every apply of it is supervised, and that cannot be switched off. Restore "
            "supervised = true."
        )
    if not isinstance(variables.get("domain"), str) or not variables["domain"]:
        raise EnvironmentFileError(
            f"{path} sets no domain, but {PRODUCTION} is production: its users reach it by its "
            "DNS name, which every apply checks. Restore domain."
        )


def _refuse_shared_state(root: Path, name: str, backend_values: dict) -> None:
    """No two environment folders may point at one state (a copied backend.hcl)."""
    state = (backend_values["bucket"], backend_values["key"])
    for other in known_environments(root):
        other_file = root / ENVIRONMENTS_DIR / other / BACKEND_FILE
        if other == name or not other_file.is_file():
            continue
        try:
            values = parse_hcl_file(other_file, parse_cache(root))
        except EnvironmentFileError:
            continue  # that environment's own commands report its broken file
        if (values.get("bucket"), values.get("key")) == state:
            raise EnvironmentFileError(
                f"environments/{name}/{BACKEND_FILE} and environments/{other}/{BACKEND_FILE} "
                f"both point at the state s3://{state[0]}/{state[1]}: every environment needs "
                "its own state. Nothing was changed."
            )


def load_environment(root: Path, name: str) -> Environment:
    known = known_environments(root)
    if name not in known:
        raise UnknownEnvironment(
            f"Unknown environment {name!r}: the known ones are {', '.join(known) or 'none'} "
            f"(folders under {root / ENVIRONMENTS_DIR})."
        )
    path = root / ENVIRONMENTS_DIR / name
    var_files = environment_var_files(path)
    variables = parse_hcl_file(path / VARS_FILE, parse_cache(root))
    _require(variables, path / VARS_FILE, _REQUIRED_VARS)
    for other in var_files[1:]:
        variables = {**variables, **parse_hcl_file(other, parse_cache(root))}
    if variables["environment"] != name:
        raise EnvironmentFileError(
            f"{path / VARS_FILE} says environment = {variables['environment']!r}, but it lives in "
            f"environments/{name}/: make them agree."
        )
    domain = variables.get("domain")
    if domain is not None and not isinstance(domain, str):
        raise EnvironmentFileError(
            f"{path / VARS_FILE}: `domain` must be a string (the hub's DNS name, e.g. "
            f'"hub.example.org") or null, not {domain!r}.'
        )
    if name == PRODUCTION:
        _require_production_facts(path / VARS_FILE, variables)
    backend_values = parse_hcl_file(path / BACKEND_FILE, parse_cache(root))
    _require(backend_values, path / BACKEND_FILE, _REQUIRED_BACKEND)
    _refuse_shared_state(root, name, backend_values)
    backend = Backend(
        bucket=backend_values["bucket"],
        key=backend_values["key"],
        region=backend_values["region"],
        encrypt=bool(backend_values.get("encrypt", False)),
        kms_key_id=backend_values.get("kms_key_id"),
        use_lockfile=bool(backend_values.get("use_lockfile", False)),
        dynamodb_table=backend_values.get("dynamodb_table"),
        settings=backend_values,
    )
    return Environment(
        name=name,
        path=path,
        region=variables["aws_region"],
        account_id=str(variables["aws_account_id"]),
        cluster_name=variables["cluster_name"],
        hub_namespace=variables["hub_namespace"],
        domain=variables.get("domain") or None,
        supervised=variables["supervised"],
        backend=backend,
        variables=variables,
        var_files=var_files,
    )


def environment_var_files(path: Path) -> tuple[Path, ...]:
    """The variables files of an environment's folder, in the order the engine is given them:
    terraform.tfvars first, then the others (`promotion.tfvars`) by name."""
    others = [p for p in path.iterdir() if p.name.endswith(VARS_SUFFIXES) and p.name != VARS_FILE]
    return (path / VARS_FILE, *sorted(others))
