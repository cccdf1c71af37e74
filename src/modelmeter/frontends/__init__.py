"""Frontends: each turns one kind of model into LayerRecords, costing ops with modelmeter.formulas."""
