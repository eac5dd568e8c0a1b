"""The Dagster code location: where assets, resources, jobs, schedules and sensors are put together."""
