"""Torch reference VLA policy family (training and export only; never imported at run time)."""
