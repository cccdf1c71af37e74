"""The torch cost tables: aten op / torch function -> adapter calling a formula of ``modelmeter.formulas``."""
