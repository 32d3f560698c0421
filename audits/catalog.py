"""The audit tools and process policies an installation offers.

The package ships its own in `audits/templates/` and `audits/policies/`; a
council's folder (`templates/`, `policies/` under AUDITBOT_CONFIG_DIR) adds
to them or replaces one of the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audits.errors import ConfigError, InvalidInput
from audits.policies import Policy, load_policy
from audits.roles import StandingRoles
from audits.templates import Template, load_template

SHIPPED = Path(__file__).parent


@dataclass(frozen=True)
class Catalog:
    templates: dict[str, Template]
    policies: dict[str, Policy]
    default_policy: str

    def template(self, template_id: str) -> Template:
        try:
            return self.templates[template_id]
        except KeyError:
            raise InvalidInput(
                f"unknown audit tool '{template_id}' (known: {', '.join(sorted(self.templates))})"
            ) from None

    def policy(self, policy_id: str) -> Policy:
        try:
            return self.policies[policy_id]
        except KeyError:
            raise InvalidInput(
                f"unknown policy '{policy_id}' (known: {', '.join(sorted(self.policies))})"
            ) from None


def load_catalog(extra: Path | None = None, default_policy: str = "swindon") -> Catalog:
    folders = [SHIPPED] + ([extra] if extra else [])
    templates: dict[str, Template] = {}
    policies: dict[str, Policy] = {}
    policy_files: dict[str, Path] = {}
    for folder in folders:
        if extra is not None and folder == extra and not folder.is_dir():
            raise ConfigError(f"{folder}: the configuration folder does not exist")
        for path in sorted((folder / "templates").glob("*.yaml")):
            template = load_template(path)
            _check_name(path, template.id)
            templates[template.id] = template
        for path in sorted((folder / "policies").glob("*.yaml")):
            policy = load_policy(path)
            _check_name(path, policy.id)
            policies[policy.id] = policy
            policy_files[policy.id] = path
    for policy in policies.values():
        if policy.default_template not in templates:
            raise ConfigError(
                f"{policy_files[policy.id]}: default_template: '{policy.default_template}' "
                f"is not an audit tool (known: {', '.join(sorted(templates))})"
            )
    for template in templates.values():
        if template.policy is not None and template.policy not in policies:
            raise ConfigError(
                f"template '{template.id}': policy: '{template.policy}' is not a policy "
                f"(known: {', '.join(sorted(policies))})"
            )
    if default_policy not in policies:
        raise ConfigError(
            f"the default policy '{default_policy}' is unknown (known: {', '.join(sorted(policies))})"
        )
    return Catalog(templates, policies, default_policy)


def _check_name(path: Path, ident: str) -> None:
    if path.stem != ident:
        raise ConfigError(f"{path}: id '{ident}' must match the file name '{path.stem}'")


def unfilled_roles(catalog: Catalog, standing: StandingRoles, roles_file: bool = True) -> list[str]:
    """One line per standing role a policy gives work or notice to that nobody holds
    (`roles_file` False: no roles file is set, so nobody holds any)."""
    return [
        line
        for policy in catalog.policies.values()
        for line in policy.missing_roles(standing, roles_file=roles_file)
    ]


def check_roles(catalog: Catalog, standing: StandingRoles, roles_file: Path | str) -> None:
    """Refuses to start when a policy gives work or notice to a role the roles file
    names nobody for (a closure or a re-audit nobody would be asked to do)."""
    missing = unfilled_roles(catalog, standing)
    if missing:
        raise ConfigError("\n".join(f"{roles_file}: {line}" for line in missing))
