"""Customer value engine: measures, tiers, customer lifetime value."""
