"""Inspections received from phones: intake, stored answers and findings, who may see them."""
