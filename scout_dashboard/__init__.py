"""Scout's dashboard: a Streamlit app over the dbt marts (see docs/dashboard.md).

``targets`` names the marts to read (a warehouse location and a schema, built by the entry
points ``app`` and ``screenshots`` from ``ScoutSettings``); ``queries`` builds the parameterized
SQL; ``reader`` runs it; ``app`` and the pages draw it.
"""
