"""Evaluations on labelled data, one command per data set, measured at the decision level.

Run ``python -m siem_consensus.evaluation.<module>``: ``cicids2017`` (firewall, CIC-IDS2017
samples in ``../shared/data``), ``ait_ads`` (IDS, the AIT Alert Data Set) and ``insider``
(the seeded CERT-format generator). Each reports the detector's figures and the decisions
users get from the embedded analysts under the detector's default policy (outcomes,
degraded, coverage by ``alert`` and by ``alert`` or ``needs_review``, review load), and exits
with status 1 when an embedded analyst returns an error verdict. Results and dates are in
``docs/evaluation.md``.
"""
