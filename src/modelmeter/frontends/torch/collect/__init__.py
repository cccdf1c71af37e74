"""Collecting records from a forward: the dispatch/function modes, module hooks, parameters and layer attributes."""
