"""Evaluations on the labelled data in ``../shared/data``, one command per data set.

Run ``python -m siem_consensus.evaluation.<module>``: ``cicids2017`` (firewall detector),
``ait_ads`` (IDS correlator). Results and dates are in ``docs/evaluation.md``.
"""
