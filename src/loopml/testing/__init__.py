"""Shared conformance suites every backend passes unchanged (they need pytest).

- :mod:`loopml.testing.store_conformance`: ``MetadataStoreConformance`` (fixture ``store_url``).
- :mod:`loopml.testing.artifact_conformance`: ``ArtifactStoreConformance`` (fixtures
  ``artifact_store`` and ``corrupt_blob``).
"""
