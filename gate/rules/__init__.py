"""Policy rules: one module per policy section, each a `Rule` the engine composes."""

from __future__ import annotations

from gate.rules.interface import Assessment, Rule, RuleDecision

__all__ = ["Assessment", "Rule", "RuleDecision", "default_rules"]


def default_rules() -> list[Rule]:
    """Every rule the engine applies, one per policy section."""
    from gate.branch_protection.rule import BranchProtectionRule
    from gate.rules.code_scanning import CodeScanningRule
    from gate.rules.coverage import CoverageRule
    from gate.rules.severity import MisconfigurationRule, SecretRule, VulnerabilityRule
    from gate.rules.trivy_db import TrivyDbRule

    return [
        VulnerabilityRule(),
        SecretRule(),
        MisconfigurationRule(),
        CodeScanningRule(),
        BranchProtectionRule(),
        TrivyDbRule(),
        CoverageRule(),
    ]
