"""Scout's dashboard (Streamlit entry point): ``streamlit run scout_dashboard/app.py``.

Reads only the dbt marts of the warehouse ``SCOUT_WAREHOUSE_URL`` points at (schema
``SCOUT_MARTS_SCHEMA``, default ``analytics``). ``infra/scripts/dashboard.sh`` starts it on
127.0.0.1:8501. This entry point is the dashboard's one reader of the environment: it builds the
``MartsTarget`` and hands it to every page. Each page is a module with a ``render(target)``;
Streamlit reruns this script on every interaction and the sidebar (days, platforms) stays put
across pages.
"""

from __future__ import annotations

import os
from functools import partial

import streamlit as st

from scout_contract.settings import ScoutSettings
from scout_dashboard import (
    page_exclusions,
    page_funnel,
    page_health,
    page_keywords,
    page_leads,
    page_models,
    page_review,
)
from scout_dashboard.targets import marts_target

# No page or page_icon icons: Streamlit turns them into the tab's favicon by fetching them from a
# font CDN, which an offline deployment cannot reach (its bundled favicon is used instead).
st.set_page_config(page_title="Scout", layout="wide")

try:
    settings = ScoutSettings.from_environ(os.environ)
    target = marts_target(settings)
except ValueError as exc:  # a bad variable: the message names it and never shows a secret
    st.error(f"The dashboard cannot read its settings: {exc}")
    st.stop()
# Who the pages that write (Review, Leads, Exclusions) record by default; the sidebar can change it.
reviewer = settings.reviewer or "unknown"

PAGES = (
    st.Page(partial(page_funnel.render, target), title="Funnel", url_path="funnel", default=True),
    st.Page(partial(page_leads.render, target, reviewer), title="Leads", url_path="leads"),
    st.Page(partial(page_exclusions.render, target, reviewer), title="Exclusions", url_path="exclusions"),
    st.Page(partial(page_keywords.render, target), title="Keywords", url_path="keywords"),
    st.Page(partial(page_health.render, target), title="Pipeline health", url_path="health"),
    st.Page(partial(page_models.render, target), title="Models", url_path="models"),
    st.Page(partial(page_review.render, target, reviewer), title="Review", url_path="review"),
)
st.navigation(list(PAGES)).run()
