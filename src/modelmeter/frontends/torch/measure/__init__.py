"""Measurements: memory on meta (live bytes, saved activations), checkpointing, LLM sizing; latency for real."""
