"""Where drdrill's shipped features live (kept here for the commands; the answer is in :mod:`dr_infra.bdd.shipped`)."""

from __future__ import annotations

from dr_infra.bdd.shipped import shipped_features as shipped_features
