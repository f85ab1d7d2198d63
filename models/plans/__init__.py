"""Strategic-account plans (DOMAIN.md sections 3, 7, 8 and 10).

- ``content``: what a plan holds, validated in one place;
- ``service``: every write (policy, versions, revision, audit in one transaction);
- ``read``: the plan, its versions, history and diffs;
- ``checks``: the 1+2+1 sheet and the coverage warnings;
- ``actuals`` and ``review``: plan vs actual, stored with each snapshot;
- ``files``: one YAML file per plan, imported whole or not at all;
- ``assignments``: which planners may edit which accounts.
"""
