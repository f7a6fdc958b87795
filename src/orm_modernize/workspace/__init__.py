"""A run over a project: discovery, configuration, the cache, baseline and
fingerprints, the runner and its atomic writes. Imports `engine` and the layers
below."""
