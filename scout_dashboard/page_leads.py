"""Top leads per audience, with filters and a CSV export of exactly what is listed."""

from __future__ import annotations

import streamlit as st

from scout_dashboard import formatting, queries, ui
from scout_dashboard.targets import MartsTarget

ANY_KEYWORD = "(any keyword)"


def _filters(target: MartsTarget, window: queries.Window) -> queries.LeadFilters | None:
    audiences = ui.read(target, queries.audiences(target.schema))["audience"].to_list()
    if not audiences:
        st.info("No account has been labeled yet.")
        return None
    keywords = ui.read(target, queries.keywords(target.schema))["keyword"].to_list()
    first, second, third = st.columns([2, 2, 3])
    audience = first.selectbox("Audience", audiences, key="leads_audience")
    verdicts = second.multiselect(
        "Consensus label",
        list(queries.VERDICTS),
        default=["match"],
        key="leads_verdicts",
        help="match: more models said true than false; no_match: the opposite; uncertain: a tie.",
    )
    search = third.text_input("Search handle, name or bio", key="leads_search")
    fourth, fifth, sixth, seventh = st.columns([3, 2, 2, 3])
    has_min, has_max = fourth.slider("HAS", 0.0, 1.0, (0.0, 1.0), step=0.05, key="leads_has")
    followers_min = fifth.number_input("Followers at least", min_value=0, value=0, step=100, key="leads_fmin")
    followers_max = sixth.number_input(
        "Followers at most (0: no limit)", min_value=0, value=0, step=100, key="leads_fmax"
    )
    keyword = seventh.selectbox("Found by keyword", [ANY_KEYWORD, *keywords], key="leads_keyword")
    if followers_max and followers_max < followers_min:
        st.warning("Followers: the upper bound is below the lower bound.")
        return None
    return queries.LeadFilters(
        audience=audience,
        platforms=window.platforms,
        verdicts=tuple(verdicts),
        has_min=float(has_min),
        has_max=float(has_max),
        followers_min=int(followers_min) or None,
        followers_max=int(followers_max) or None,
        keyword=None if keyword == ANY_KEYWORD else keyword,
        search=search or None,
    )


def render(target: MartsTarget) -> None:
    window = ui.sidebar_window(target)
    st.title("Leads")
    st.caption(
        f"Every labeled account, all time, on {', '.join(window.platforms) or 'no platform'} "
        "(the sidebar's days do not apply here). Best first: matches, then the number and share of "
        "models saying true, then HAS."
    )
    filters = _filters(target, window)
    if filters is None:
        return
    total = ui.read(target, queries.lead_count(target.schema, filters))["leads"][0]
    leads = ui.read(target, queries.leads(target.schema, filters))
    shown = f"{formatting.count(leads.height)} shown" if leads.height < total else "all shown"
    st.metric("Leads matching the filters", formatting.count(total), help=shown)
    _top_cards(leads)
    st.dataframe(
        leads,
        hide_index=True,
        column_config={
            "match_share": st.column_config.ProgressColumn(
                "match share", min_value=0.0, max_value=1.0, format="percent"
            ),
            "has": st.column_config.NumberColumn("HAS", format="%.2f"),
            "followers": st.column_config.NumberColumn("followers", format="localized"),
            "bio": st.column_config.TextColumn("bio", width="large"),
            "reasons": st.column_config.TextColumn("reasons", width="large"),
        },
    )
    st.download_button(
        "Download this list as CSV",
        data=leads.write_csv(),
        file_name=f"scout_leads_{filters.audience}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


def _top_cards(leads, how_many: int = 3) -> None:
    """The best few leads spelled out, with who agrees and why (the table has the rest)."""
    columns = st.columns(how_many)
    for column, lead in zip(columns, leads.head(how_many).iter_rows(named=True), strict=False):
        with column.container(border=True):
            st.markdown(f"**@{lead['handle']}** · {lead['platform']} · {lead['verdict']}")
            st.caption(
                f"HAS {lead['has']:.2f} · {formatting.count(lead['followers'])} followers · "
                f"{lead['models_labeled']} model(s), agreeing: {lead['agreeing_models'] or 'none'}"
                if lead["has"] is not None
                else f"{lead['models_labeled']} model(s), agreeing: {lead['agreeing_models'] or 'none'}"
            )
            st.markdown(f"> {(lead['reasons'] or '')[:280]}")
