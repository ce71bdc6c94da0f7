"""Gate control: the policy (YAML), the decision logic of the reference gate controller, the
messages it puts up, the fleet clock it reads, and the verdict, report, timing budgets and replay
that judge a controller from what a run recorded.

The logic is pure (observations in, actions out, times in simulated seconds), so the same code
runs inside ``twin run`` and in the stand-alone controller that speaks only protocols. Nothing
here knows the city, the scenario or the models (docs/architecture.md): the scenario checks its
policy file with :mod:`twin.control.policy`, and the models run :mod:`twin.control.gate_logic`.
"""
