"""Scout's dashboard (Streamlit entry point): ``streamlit run scout_dashboard/app.py``.

Reads only the dbt marts of the warehouse ``SCOUT_WAREHOUSE_URL`` points at (schema
``SCOUT_MARTS_SCHEMA``, default ``analytics``). ``infra/scripts/dashboard.sh`` starts it on
127.0.0.1:8501. Each page is a module with a ``render()``; Streamlit reruns this script on
every interaction and the sidebar (days, platforms) stays put across pages.
"""

from __future__ import annotations

import streamlit as st

from scout_dashboard import page_funnel, page_health, page_keywords, page_leads, page_models

PAGES = (
    st.Page(page_funnel.render, title="Funnel", url_path="funnel", default=True),
    st.Page(page_leads.render, title="Leads", url_path="leads"),
    st.Page(page_keywords.render, title="Keywords", url_path="keywords"),
    st.Page(page_health.render, title="Pipeline health", url_path="health"),
    st.Page(page_models.render, title="Models", url_path="models"),
)

# No page or page_icon icons: Streamlit turns them into the tab's favicon by fetching them from a
# font CDN, which an offline deployment cannot reach (its bundled favicon is used instead).
st.set_page_config(page_title="Scout", layout="wide")
st.navigation(list(PAGES)).run()
