"""Model clients: one resource per labeling model, the registry of models.yaml, and how each model is spoken to."""
