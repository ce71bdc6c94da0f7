"""Gate control: the policy (YAML) and the decision logic of the reference gate controller.

The logic is pure (observations in, actions out, times in simulated seconds), so the same code
runs inside ``twin run`` and in the stand-alone controller that speaks only protocols.
"""
