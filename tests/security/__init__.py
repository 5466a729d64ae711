"""Attacks on AidOffice through the interfaces an attacker would use (issue 15)."""
