"""Figures about other people: one aggregation core and one disclosure-control layer.

`aggregation` counts, in the database, what a group of positionings says; `protect` turns those
exact counts into the only figures anyone else may see (cell key perturbation, threshold k,
everything derived from the protected counts); `release` makes a pool change in batches.
"""
