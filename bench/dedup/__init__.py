"""Duplicate-detection quality benchmark: labelled data, our engine, Splink and an exact-name baseline."""
