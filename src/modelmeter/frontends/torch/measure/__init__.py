"""Measurements on meta tensors: memory (live bytes, saved activations), checkpointing, LLM sizing."""
