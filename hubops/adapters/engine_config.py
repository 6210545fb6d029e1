"""What a supervised run hands the engine: an environment of allowed variables only, and a CLI
configuration hubops writes.

An unsupervised run gets the shell's environment less the variables that would change what the
engine does (`hubops.adapters.tofu.engine_altering_variables`). A supervised run's engine gets
nothing it was not meant to: only the variables named below (where to find programs and the home
folder, the locale, proxies and certificates, and AWS's own settings, through which it is
authenticated), never a `TF_*` of the shell's (`TF_TOKEN_*`, `TF_PLUGIN_CACHE_DIR`, another
`TF_CLI_CONFIG_FILE`, ...). Its CLI configuration is a file hubops writes for the run: the
operator's `provider_installation` (filesystem and network mirrors, direct installation, with
their include and exclude lists) carried over after parsing, HCL and JSON alike, and nothing
else: no dev overrides, credentials, host overrides or plugin cache. The engine also merges
every `*.tfrc` file of its configuration folders (`~/.terraform.d`) into whatever configuration it
is given, so those are read too: a supervised run refuses to start while any of them names dev
overrides, or cannot be read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hubops.facts.errors import PreflightError

CLI_CONFIG = "TF_CLI_CONFIG_FILE"
PLUGIN_CACHE = "TF_PLUGIN_CACHE_DIR"
# Where the engine reads its CLI configuration when TF_CLI_CONFIG_FILE is unset (OpenTofu's name
# first, then Terraform's, which OpenTofu reads too).
DEFAULT_CLI_CONFIGS = ("~/.tofurc", "~/.terraformrc")
# Folders whose *.tfrc files the engine merges into any CLI configuration.
CLI_CONFIG_DIRS = ("~/.terraform.d",)

# The only variables a supervised run's engine gets from the shell.
ALLOWED_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TERM",
        "NO_COLOR",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
    }
)
# AWS's own settings (credentials, profile, region, endpoints, CA bundle): the providers and the
# `aws eks get-token` they run are authenticated through them; the locale's categories.
ALLOWED_PREFIXES = ("AWS_", "LC_")

# What a provider_installation block may hold, and which of its arguments are carried over.
_INSTALLATION_METHODS = {
    "filesystem_mirror": ("path", "include", "exclude"),
    "network_mirror": ("url", "include", "exclude"),
    "direct": ("include", "exclude"),
}
# What hubops itself sets for every engine run.
_HUBOPS_SETTINGS = ("TF_IN_AUTOMATION", "TF_INPUT", "TF_DATA_DIR")
_DEV_OVERRIDES = "dev_overrides"
_FILE_NAME = "hubops.tfrc"


def configuration_lines(env_name: str | None, supervised: bool) -> list[tuple[bool, str]]:
    """(ok, line) of the engine's CLI configuration, for `invoke doctor`."""
    configured = os.environ.get(CLI_CONFIG)
    if configured and not Path(configured).expanduser().exists():
        return [
            (
                False,
                f"{CLI_CONFIG}={configured} names no file: the engine runs without a CLI "
                f"configuration (no provider mirror). Create it, or unset {CLI_CONFIG}.",
            )
        ]
    found = [path for path, is_main in _operator_configs() if is_main]
    where = str(found[0]) if found else "none (providers come from their registry)"
    if not supervised:
        return [(True, f"CLI configuration: {where}")]
    try:
        methods = operator_installation(env_name)
    except PreflightError as exc:
        return [(False, str(exc))]
    carried = ", ".join(method for method, _ in methods) or "none"
    return [
        (True, f"CLI configuration: {where}; {env_name}'s runs get its installation: {carried}")
    ]


def provider_supply_recipe(command: str) -> str:
    """How to give the engine providers it could not download, with what is wrong with the CLI
    configuration it was given, where something is."""
    recipe = (
        f"supply them, e.g. `{command} providers mirror DIR` on a machine with network, then a "
        '`provider_installation { filesystem_mirror { path = "DIR" } }` block in the CLI '
        f"configuration ({CLI_CONFIG}) or {PLUGIN_CACHE} holding them"
    )
    configured = os.environ.get(CLI_CONFIG)
    if configured and not Path(configured).expanduser().exists():
        recipe += f" ({CLI_CONFIG}={configured} names no file: the engine ran without it)"
    return recipe


def allowed_environ(base: dict[str, str]) -> dict[str, str]:
    """`base` narrowed to the variables a supervised run's engine may get from the shell."""
    return {
        name: value
        for name, value in base.items()
        if name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)
    }


def supervised_environ(base: dict[str, str], cli_config: Path) -> dict[str, str]:
    """The engine's environment for a supervised run: `base` (the shell's, with the settings hubops
    gives every run) narrowed to the allowed variables, and hubops's CLI configuration."""
    hubops_settings = {name: base[name] for name in _HUBOPS_SETTINGS if name in base}
    return {**allowed_environ(base), **hubops_settings, CLI_CONFIG: str(cli_config)}


def withheld_variables(base: dict[str, str]) -> list[str]:
    """The shell's TF_* variables a supervised run's engine does not get, named for the operator
    (its CLI configuration is not among them: its provider installation is carried over)."""
    return sorted(
        name
        for name in base
        if name.startswith("TF_") and name not in (*_HUBOPS_SETTINGS, CLI_CONFIG)
    )


def operator_installation(env_name: str) -> list[tuple[str, dict]]:
    """The provider installation methods of the operator's CLI configuration, in order, once every
    file the engine would read has been read; refused, naming the file, where one holds dev
    overrides or cannot be read (preflight asks, before anything runs)."""
    installation: list[tuple[str, dict]] = []
    for path, is_main in _operator_configs():
        methods = _installation_methods(path, env_name)
        if is_main:
            installation = methods
    return installation


def write_cli_config(folder: Path, installation: list[tuple[str, dict]]) -> Path:
    """The CLI configuration of a supervised run, written owner-only into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{_FILE_NAME}.partial"
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(_render(installation))
    target = folder / _FILE_NAME
    os.replace(partial, target)
    return target


def _operator_configs() -> list[tuple[Path, bool]]:
    """(file, whether it is the main configuration) of each CLI configuration the engine reads."""
    configured = os.environ.get(CLI_CONFIG)
    found: list[tuple[Path, bool]] = []
    for name in [configured] if configured else DEFAULT_CLI_CONFIGS:
        path = Path(name).expanduser()
        if configured or path.exists():
            found.append((path, True))
            break
    for folder in CLI_CONFIG_DIRS:
        directory = Path(folder).expanduser()
        if directory.is_dir():
            found += [
                (path, False)
                for path in sorted(directory.iterdir())
                if path.name.endswith((".tfrc", ".tfrc.json"))
            ]
    return found


def _refused(path: Path, env_name: str, why: str, fix: str) -> PreflightError:
    return PreflightError(
        f"The engine's CLI configuration {path} {why}: {env_name} is supervised, so its engine "
        f"gets only the provider installation of a configuration hubops can read. {fix} "
        "Nothing was changed."
    )


def _installation_methods(path: Path, env_name: str) -> list[tuple[str, dict]]:
    """The provider installation methods of one CLI configuration file, in order (JSON where its
    name ends in .json, else HCL); refused when it names dev overrides or cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:  # the engine, too, goes on without it: nothing to carry over
        return []
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise _refused(path, env_name, f"cannot be read ({why})", "Fix the file.") from None
    if path.name.endswith(".json"):
        return _json_methods(path, text, env_name)
    # HCL names its blocks literally (no escapes), so the text says whether it names them.
    if _DEV_OVERRIDES in text:
        raise _dev_overrides(path, env_name)
    from hubops.adapters.hcl import Parser, is_expression

    model = Parser().parse(path)
    if model.error:
        line, message = model.error
        raise _refused(
            path, env_name, f"is not valid HCL (line {line}: {message})", "Fix the file."
        )
    blocks = model.blocks_of("provider_installation")
    _at_most_one(blocks, path, env_name)
    methods = []
    for block in blocks:
        if block.attrs:
            raise _unknown(path, env_name, ", ".join(block.attrs))
        for method in block.blocks:
            arguments = {name: attr.value for name, attr in method.attrs.items()}
            if method.blocks or any(is_expression(v) for v in arguments.values()):
                raise _refused(
                    path, env_name, f"gives {method.type} more than text", "Keep it plain."
                )
            methods.append((method.type, _arguments(method.type, arguments, path, env_name)))
    return methods


def _json_methods(path: Path, text: str, env_name: str) -> list[tuple[str, dict]]:
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise _refused(path, env_name, f"is not valid JSON ({exc})", "Fix the file.") from None
    if _DEV_OVERRIDES in _keys(parsed):  # found however its name was escaped
        raise _dev_overrides(path, env_name)
    if not isinstance(parsed, dict):
        raise _refused(path, env_name, "is not a JSON object", "Fix the file.")
    blocks = _listed(parsed.get("provider_installation"))
    _at_most_one(blocks, path, env_name)
    methods = []
    for block in blocks:
        if not isinstance(block, dict):
            raise _refused(
                path, env_name, "has a provider_installation that is no object", "Fix the file."
            )
        for method, bodies in block.items():
            for body in _listed(bodies):
                if not isinstance(body, dict):
                    raise _refused(
                        path, env_name, f"has a {method} that is no object", "Fix the file."
                    )
                methods.append((method, _arguments(method, body, path, env_name)))
    return methods


def _listed(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def _at_most_one(blocks: list, path: Path, env_name: str) -> None:
    if len(blocks) > 1:
        raise _refused(path, env_name, "has more than one provider_installation block", "Keep one.")


def _dev_overrides(path: Path, env_name: str) -> PreflightError:
    return _refused(
        path,
        env_name,
        "holds dev_overrides, which replace providers with local builds no lock file checks",
        "Remove dev_overrides (or run without this file).",
    )


def _unknown(path: Path, env_name: str, what: str) -> PreflightError:
    return _refused(
        path,
        env_name,
        f"has provider installation settings hubops does not carry over ({what})",
        "Use filesystem_mirror, network_mirror or direct, with their path or url, include and "
        "exclude.",
    )


def _keys(value) -> set[str]:
    """Every object key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


def _arguments(method: str, arguments: dict, path: Path, env_name: str) -> dict:
    allowed = _INSTALLATION_METHODS.get(method)
    if allowed is None:
        raise _unknown(path, env_name, method)
    unknown = sorted(set(arguments) - set(allowed))
    if unknown:
        raise _unknown(path, env_name, f"{method}: {', '.join(unknown)}")
    for name, value in arguments.items():
        strings = value if name in ("include", "exclude") else [value]
        if not isinstance(strings, list) or not all(isinstance(s, str) for s in strings):
            raise _refused(
                path, env_name, f"gives {method}.{name} a value that is not text", "Fix the file."
            )
    return arguments


def _hcl_string(value: str) -> str:
    """A quoted HCL string of exactly `value`: JSON's escapes, and template starts escaped."""
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def _render(methods: list[tuple[str, dict]]) -> str:
    """The CLI configuration, in HCL."""
    lines = ["# Written by hubops for one supervised run: the operator's provider installation."]
    if methods:
        lines.append("provider_installation {")
        for method, arguments in methods:
            lines.append(f"  {method} {{")
            for name, value in arguments.items():
                quoted = (
                    "[" + ", ".join(map(_hcl_string, value)) + "]"
                    if isinstance(value, list)
                    else _hcl_string(value)
                )
                lines.append(f"    {name} = {quoted}")
            lines.append("  }")
        lines.append("}")
    return "\n".join(lines) + "\n"
