"""Scout's dashboard: a Streamlit app over the dbt marts (see docs/dashboard.md).

``targets`` maps the one warehouse URL to what dbt and the dashboard need; ``queries`` builds
the parameterized SQL; ``reader`` runs it; ``app`` and ``pages`` draw it.
"""
