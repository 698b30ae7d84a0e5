"""Built-in source of deterministic fake e-commerce data: users, products and purchases."""

from ferry.connectors.sources.sample_data.source import SampleDataSource

__all__ = ["SampleDataSource"]
