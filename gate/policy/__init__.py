"""The policy file: its model (`model.py`) and its loader (`load.py`)."""

from gate.policy.load import load_policy, policy_json_schema
from gate.policy.model import Policy

__all__ = ["Policy", "load_policy", "policy_json_schema"]
