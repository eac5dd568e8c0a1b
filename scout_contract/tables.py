"""The warehouse contract: every table Scout's assets write and dbt reads.

One place declares each table's columns (with a logical type), its key and how a
partitioned write addresses it. The backends turn logical types into their own DDL;
nothing else in the project spells a column type. Changing a table here is a schema
change for dbt too (``dbt_project/models/sources.yml`` names the same tables).

Logical types: ``text``, ``int`` (64-bit), ``float`` (double), ``bool``, ``date``,
``timestamp`` (UTC, without time zone). Lists are never stored: one row per element
(``profile_sightings``) keeps both SQL dialects and dbt simple.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    """A warehouse table.

    ``key`` is the set of columns that identify one row (a primary key in both backends).
    ``partition_columns`` are the columns a partitioned asset's write replaces by; an empty
    tuple marks an append-only ledger whose rows are never rewritten.

    ``stored_by_day``: PostgreSQL stores the table with declarative partitioning, by a range of
    one day on the first partition column (a date) and a list on the others, so replacing a
    partition truncates one leaf table instead of deleting rows (no dead rows, no long DELETE).
    Meant for the large per-day tables; the key must hold every partition column. DuckDB keeps
    one plain table.

    ``bulk``: a large table written only through the warehouse's own operations (partition
    replaces, appends, upserts of whole frames), which keep its key themselves. DuckDB creates
    it, like every ``stored_by_day`` table, without a PRIMARY KEY index
    (``resources/warehouse/sql.declares_key`` says why); PostgreSQL keeps the key.
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    partition_columns: tuple[str, ...] = ()
    description: str = ""
    indexes: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    stored_by_day: bool = False
    bulk: bool = False

    def __post_init__(self) -> None:
        if self.stored_by_day:
            types = dict(self.columns)
            if not self.partition_columns or types.get(self.partition_columns[0]) != "date":
                raise ValueError(f"table {self.name!r}: stored_by_day needs a date as first partition column")
            if not set(self.partition_columns) <= set(self.key):
                raise ValueError(
                    f"table {self.name!r}: stored_by_day needs every partition column in the key"
                )

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def is_ledger(self) -> bool:
        return not self.partition_columns


# Columns shared by every normalized-profile row (snapshots and the current table).
PROFILE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("platform", "text"),
    ("platform_id", "text"),
    ("handle", "text"),
    ("name", "text"),
    ("bio", "text"),
    ("location", "text"),
    ("category", "text"),
    ("created_at", "timestamp"),
    ("followers", "int"),
    ("following", "int"),
    ("statuses", "int"),
    ("favorites", "int"),
    ("listed", "int"),
    ("media", "int"),
    ("verified", "bool"),
    ("blue_verified", "bool"),
    ("default_profile", "bool"),
    ("default_profile_image", "bool"),
    ("possibly_sensitive", "bool"),
    ("can_dm", "bool"),
    ("protected", "bool"),
    ("source_shape", "text"),
)

HAS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("platform", "text"),
    ("platform_id", "text"),
    ("partition_date", "date"),
    ("handle", "text"),
    ("has", "float"),
    ("likely_is", "text"),
    ("raw_score", "float"),
    ("penalty", "float"),
    ("s_bot", "float"),
    ("s_creator", "float"),
    ("s_entity", "float"),
    ("s_person", "float"),
    ("r_ff", "float"),
    ("r_eng", "float"),
    ("r_list", "float"),
    ("r_media", "float"),
    ("a_age", "float"),
    ("a_activity", "float"),
    ("p_custom", "float"),
    ("p_safe", "float"),
    ("p_verified", "float"),
    ("missing_inputs", "text"),
    ("has_version", "text"),
    ("as_of", "timestamp"),
)

RAW_SEARCHES = Table(
    name="raw_searches",
    description="One search response page, verbatim, with the request that produced it. Append-only.",
    columns=(
        ("request_id", "text"),
        ("platform", "text"),
        ("keyword", "text"),
        ("partition_date", "date"),
        ("page", "int"),
        ("cursor_in", "text"),
        ("cursor_out", "text"),
        ("status", "int"),
        ("request_url", "text"),
        ("request_params", "text"),
        ("payload", "text"),
        ("hydration_payload", "text"),
        ("result_count", "int"),
        ("ids_hash", "text"),
        ("fetched_at", "timestamp"),
        # Set when Scout stopped the keyword at this page although the platform sent a cursor
        # (e.g. "repeating cursor: ..."); the keyword is then stopped, not exhausted.
        ("stop_reason", "text"),
        # The parser (resources/platforms/parser_version.py) that read this page's rows into
        # page_profiles when it was fetched (its rows there carry the same value). NULL: the page
        # had a row or value to quarantine, was stored before, or was rewritten by an erasure;
        # its rows are read from the payload.
        ("parser_version", "text"),
    ),
    key=("request_id",),
    indexes=(("platform", "keyword", "page"), ("partition_date", "platform")),
)

# Where and when a profile row was seen: its page (request), position in it, keyword and day.
APPEARANCE_COLUMNS: tuple[tuple[str, str], ...] = (
    *PROFILE_COLUMNS,
    ("keyword", "text"),
    ("request_id", "text"),
    ("fetched_at", "timestamp"),
    ("position", "int"),
    ("partition_date", "date"),
)

# One appearance: the profile row of one position of one stored page, parsed once, when the page
# was fetched (scout_assets/page_store.py). Re-deriving a day reads these typed rows instead of
# decoding the page's JSON again, for every page whose raw_searches.parser_version is the
# current parser's; other pages are parsed from their payload. Append-only, like raw_searches.
PAGE_PROFILES = Table(
    name="page_profiles",
    description=(
        "The profile rows of a stored page, parsed when it was fetched, in page order (position); only "
        "for pages the parser read without a quarantine entry. Append-only."
    ),
    # The parser version is raw_searches.parser_version of the page, written with it, so the day's
    # typed rows are one filtered scan: a join to raw_searches was planned as a nested loop by
    # PostgreSQL on freshly loaded tables (no statistics yet) and never finished at 1 M rows.
    columns=(*APPEARANCE_COLUMNS, ("parser_version", "text")),
    key=("request_id", "position"),
    indexes=(("partition_date", "platform", "parser_version"),),
)

API_CALLS = Table(
    name="api_calls",
    description="One HTTP call to a platform (every attempt, retries included). Append-only usage ledger.",
    columns=(
        ("call_id", "text"),
        ("request_id", "text"),
        ("platform", "text"),
        ("endpoint", "text"),
        ("keyword", "text"),
        ("cursor", "text"),
        ("attempt", "int"),
        ("status", "int"),
        ("latency_ms", "float"),
        ("result_count", "int"),
        ("error", "text"),
        ("called_at", "timestamp"),
        ("partition_date", "date"),
        # rate_limited | transient | permanent | invalid_payload (ErrorKind); null on success.
        ("error_kind", "text"),
        # USD the attempt cost: the platform's price_per_request_usd (config/budgets.yaml) at call
        # time; every attempt sent is priced (null only in rows stored before prices were recorded).
        ("cost_usd", "float"),
        # The Dagster run that made the call (GET /v1/runs/{id}/cost); null in rows stored before.
        ("run_id", "text"),
    ),
    key=("call_id",),
    indexes=(("partition_date", "platform"),),
)

# The longest keyword Scout stores: the predecessor's varchar(255); longer strings are almost surely a
# paste error (the keyword file refuses them, and so does the API).
MAX_KEYWORD_LENGTH = 255

KEYWORDS = Table(
    name="keywords",
    description="One keyword on one platform with its search state, as of the end of a partition day.",
    columns=(
        ("platform", "text"),
        ("keyword", "text"),
        ("partition_date", "date"),
        ("tags", "text"),
        ("source_line", "int"),
        ("enabled", "bool"),
        ("still_valid", "bool"),
        ("exhausted", "bool"),
        ("next_cursor", "text"),
        ("next_page", "int"),
        ("pages_searched", "int"),
        ("last_searched_at", "timestamp"),
        ("state_reason", "text"),
    ),
    key=("platform", "keyword", "partition_date"),
    partition_columns=("partition_date", "platform"),
)

PROFILE_SNAPSHOTS = Table(
    name="profile_snapshots",
    description="The last state of one account seen in one partition (day x platform).",
    columns=(
        *PROFILE_COLUMNS,
        ("partition_date", "date"),
        ("first_seen_at", "timestamp"),
        ("last_seen_at", "timestamp"),
        ("last_request_id", "text"),
    ),
    key=("platform", "platform_id", "partition_date"),
    partition_columns=("partition_date", "platform"),
    stored_by_day=True,
)

PROFILE_SIGHTINGS = Table(
    name="profile_sightings",
    description="One account returned by one keyword in one partition.",
    columns=(
        ("platform", "text"),
        ("platform_id", "text"),
        ("keyword", "text"),
        ("partition_date", "date"),
        ("first_request_id", "text"),
        ("first_seen_at", "timestamp"),
        ("times_seen", "int"),
    ),
    key=("platform", "platform_id", "keyword", "partition_date"),
    partition_columns=("partition_date", "platform"),
    stored_by_day=True,
)

PROFILES = Table(
    name="profiles",
    description=(
        "The current state of one account: its latest snapshot, when it was first and last seen, "
        "and by which keywords. Derived from profile_snapshots/profile_sightings; rebuilt for the "
        "accounts a partition touches in the same transaction that replaces the partition."
    ),
    columns=(
        *PROFILE_COLUMNS,
        ("first_seen_at", "timestamp"),
        ("last_seen_at", "timestamp"),
        ("first_partition_date", "date"),
        ("last_partition_date", "date"),
        ("keywords", "text"),
        ("keyword_count", "int"),
        ("previous_handles", "text"),
        # What the days before last_partition_date add up to (null / empty without such a day), so
        # the next derivation of the last day, or of a later one, needs only that day's rows and
        # this one (scout_assets/domain/profile_merge.py ``advance_profiles``). Last, so a warehouse
        # created before them gets them by ALTER TABLE in the same place.
        ("prior_first_seen_at", "timestamp"),
        ("prior_last_seen_at", "timestamp"),
        ("prior_first_partition_date", "date"),
        ("prior_handles", "text"),
        ("prior_keywords", "text"),
    ),
    key=("platform", "platform_id"),
    bulk=True,  # one row per account ever seen, upserted a day at a time by profiles
)

QUARANTINED_ROWS = Table(
    name="quarantined_rows",
    description=(
        "One row of a stored page the parsers could not read (severity 'row'), one value they nulled "
        "or cleaned in a kept row (severity 'field'), or a stored page that is not a page at all "
        "('page'), with the reason and the raw row. Written by profiles with its partition."
    ),
    # row_index: the row's position in the page (-1 for an entry about the whole page or a
    # getProfiles body); field: the path into the response, e.g. data[3].legacy.followers_count,
    # unique within a row. raw_row: the row as ASCII JSON text, cut at 4,000 characters.
    columns=(
        ("partition_date", "date"),
        ("platform", "text"),
        ("keyword", "text"),
        ("request_id", "text"),
        ("page", "int"),
        ("row_index", "int"),
        ("field", "text"),
        ("severity", "text"),
        ("reason", "text"),
        ("raw_row", "text"),
    ),
    key=("partition_date", "platform", "request_id", "row_index", "field"),
    partition_columns=("partition_date", "platform"),
)

HAS_SCORES = Table(
    name="has_scores",
    description=(
        "HAS of one account seen in one partition, under one HAS config version, with the breakdown "
        "and whether it joins the labeling queue."
    ),
    # is_queued: HAS strictly above has.yaml's queue_threshold, decided once by the has_scores
    # asset (scout_assets/domain/has/score.py: queued); every later step reads this column.
    # Last, so the column a warehouse created before it gets by ALTER TABLE sits in the same place.
    columns=(*HAS_COLUMNS, ("is_queued", "bool")),
    key=("platform", "platform_id", "partition_date"),
    partition_columns=("partition_date", "platform"),
    stored_by_day=True,
)

PROFILES_TO_SCORE = Table(
    name="profiles_to_score",
    description="Accounts of one partition whose HAS passed the queue threshold and that no model has labeled yet.",
    columns=(
        ("platform", "text"),
        ("platform_id", "text"),
        ("partition_date", "date"),
        ("handle", "text"),
        ("has", "float"),
        ("likely_is", "text"),
        ("has_version", "text"),
        ("queued_at", "timestamp"),
    ),
    key=("platform", "platform_id", "partition_date"),
    partition_columns=("partition_date", "platform"),
    stored_by_day=True,
)

LLM_LABELS = Table(
    name="llm_labels",
    description=(
        "One trivalent label of one account by one model against one audience version. Written by "
        "appending units not yet done; a relabel backfill replaces its (day, model) partition."
    ),
    columns=(
        ("platform", "text"),
        ("platform_id", "text"),
        ("handle", "text"),
        ("model", "text"),
        ("model_id", "text"),
        ("audience", "text"),
        ("audience_hash", "text"),
        ("partition_date", "date"),
        ("label", "bool"),
        ("reason", "text"),
        ("prompt_version", "text"),
        ("input_tokens", "int"),
        ("output_tokens", "int"),
        ("cost_usd", "float"),
        ("latency_ms", "float"),
        ("run_id", "text"),
        ("labeled_at", "timestamp"),
        # Set by the local labeler only (null for LLMs): its calibrated probability of `true` and
        # whether it deferred the profile to the LLM cascade (scout_assets/labeling/cascade.py).
        # Last, so a warehouse created before them gets them by ALTER TABLE in the same place.
        ("p_true", "float"),
        ("deferred", "bool"),
    ),
    key=("platform", "platform_id", "model", "audience"),
    partition_columns=("partition_date", "model"),
)

LABEL_FAILURES = Table(
    name="label_failures",
    description="One failed attempt to label one account with one model (invalid or missing output, provider error).",
    columns=(
        ("attempt_id", "text"),
        ("platform", "text"),
        ("platform_id", "text"),
        ("handle", "text"),
        ("model", "text"),
        ("audience", "text"),
        ("partition_date", "date"),
        ("error", "text"),
        ("run_id", "text"),
        ("attempted_at", "timestamp"),
    ),
    key=("attempt_id",),
)

DEAD_LETTERS = Table(
    name="dead_letters",
    description=(
        "A unit of labeling work (account x model x audience) that failed too often; it leaves the queue "
        "until a person re-queues it (requeued_at set)."
    ),
    columns=(
        ("platform", "text"),
        ("platform_id", "text"),
        ("handle", "text"),
        ("model", "text"),
        ("audience", "text"),
        ("failures", "int"),
        ("last_error", "text"),
        ("dead_at", "timestamp"),
        ("requeued_at", "timestamp"),
    ),
    key=("platform", "platform_id", "model", "audience"),
)

KEYWORD_STATS = Table(
    name="keyword_stats",
    description="What one keyword yielded on one platform on one day: searches, new profiles, HAS, labels and cost.",
    columns=(
        ("platform", "text"),
        ("keyword", "text"),
        ("day", "date"),
        ("searches", "int"),
        ("pages", "int"),
        ("api_calls", "int"),
        ("api_errors", "int"),
        ("profiles_returned", "int"),
        ("unique_profiles", "int"),
        ("new_profiles", "int"),
        ("duplicate_rate", "float"),
        ("mean_has", "float"),
        ("share_above_threshold", "float"),
        ("labels_true", "int"),
        ("labels_false", "int"),
        ("labels_null", "int"),
        ("api_cost_usd", "float"),
        ("label_cost_usd", "float"),
        ("cost_usd", "float"),
        ("cost_per_new_profile", "float"),
        ("cost_per_true_label", "float"),
        ("still_valid", "bool"),
        ("exhausted", "bool"),
        ("state_reason", "text"),
    ),
    key=("platform", "keyword", "day"),
    partition_columns=("day",),
)

RUN_FAILURES = Table(
    name="run_failures",
    description=(
        "One failed run of a Scout job, under the daemon or in process (scout run): how it was classified "
        "(transient, unavailable, poison; stopped for a run ended by SIGTERM/SIGINT), the error it rests on, "
        "and what happens next (retry_scheduled, gave_up, recorded, dead_lettered, run_again, stopped). Append-only."
    ),
    columns=(
        ("run_id", "text"),
        ("job_name", "text"),
        ("partition_key", "text"),
        ("attempt", "int"),
        ("retry_of", "text"),
        ("failure_kind", "text"),
        ("error_class", "text"),
        ("error", "text"),
        ("evidence", "text"),
        ("action", "text"),
        ("dead_letters", "int"),
        ("failed_at", "timestamp"),
        ("retry_at", "timestamp"),
        ("recorded_at", "timestamp"),
    ),
    key=("run_id",),
    indexes=(("job_name", "partition_key"),),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        RAW_SEARCHES,
        PAGE_PROFILES,
        API_CALLS,
        KEYWORDS,
        PROFILE_SNAPSHOTS,
        PROFILE_SIGHTINGS,
        PROFILES,
        QUARANTINED_ROWS,
        HAS_SCORES,
        PROFILES_TO_SCORE,
        LLM_LABELS,
        LABEL_FAILURES,
        DEAD_LETTERS,
        KEYWORD_STATS,
        RUN_FAILURES,
    )
}


def table(name: str) -> Table:
    """Return the declared table ``name`` or fail naming the known ones."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown warehouse table {name!r}; known: {sorted(TABLES)}") from None


_POLARS_TYPES = {
    "text": "String",
    "int": "Int64",
    "float": "Float64",
    "bool": "Boolean",
    "date": "Date",
    "timestamp": "Datetime",
}


def polars_schema(columns: tuple[tuple[str, str], ...]):  # -> pl.Schema
    """The polars schema for a column list, so frames and tables agree on types."""
    import polars as pl

    def dtype(logical: str) -> pl.DataType:
        if logical == "timestamp":
            return pl.Datetime("us")
        return getattr(pl, _POLARS_TYPES[logical])()

    return pl.Schema({name: dtype(logical) for name, logical in columns})


# --- circuit breakers (scout_assets/breakers.py) ----------------------------------------------

CIRCUIT_BREAKERS = Table(
    name="circuit_breakers",
    description=(
        "The state of one circuit breaker (one per platform and per model provider), shared by every "
        "process: closed (calls go through), open (runs skip it until probe_after), half_open (one "
        "probe call is out). Changed in one transaction per decision; one row per breaker."
    ),
    # window_outcomes: the last calls' outcomes, oldest first ('1' failed, '0' succeeded), at most
    # the policy's window_calls long; error_rate is its share of '1'. probe_owner: the run holding
    # the half-open probe. last_change: the latest transition and why ("opened: 5 failures in a row").
    columns=(
        ("kind", "text"),
        ("name", "text"),
        ("state", "text"),
        ("consecutive_failures", "int"),
        ("window_outcomes", "text"),
        ("error_rate", "float"),
        ("opened_at", "timestamp"),
        ("probe_after", "timestamp"),
        ("probe_started_at", "timestamp"),
        ("probe_owner", "text"),
        ("times_opened", "int"),
        ("last_error", "text"),
        ("last_change", "text"),
        ("changed_at", "timestamp"),
        ("updated_at", "timestamp"),
    ),
    key=("kind", "name"),
)

BREAKER_EVENTS = Table(
    name="breaker_events",
    description=(
        "One transition of a circuit breaker (opened, probe, closed, reopened) or one run that skipped "
        "its platform or provider because the breaker was open (skipped). Append-only."
    ),
    columns=(
        ("event_id", "text"),
        ("kind", "text"),
        ("name", "text"),
        ("event", "text"),
        ("state", "text"),
        ("reason", "text"),
        ("run_id", "text"),
        ("happened_at", "timestamp"),
    ),
    key=("event_id",),
    indexes=(("kind", "name", "happened_at"),),
)

TABLES.update({t.name: t for t in (CIRCUIT_BREAKERS, BREAKER_EVENTS)})


# --- people's reviews and the local labeler fitted on them (docs/labeling.md) ------------------

REVIEWS = Table(
    name="reviews",
    description=(
        "One person's verdict (true / false / null, with an optional reason) on one account against one "
        "audience version. Append-only: a new review of the same account and audience supersedes the "
        "older one (the latest is the truth), and every earlier verdict stays for the audit trail."
    ),
    # platform_id is null for a review imported for an account the warehouse has not seen (it is
    # then matched by platform + handle, case-insensitively). name/bio/category/followers are the
    # profile as the person saw it: the local labeler is trained on exactly what was judged.
    # source: "dashboard", "cli", or "import:<file name>".
    columns=(
        ("review_id", "text"),
        ("platform", "text"),
        ("platform_id", "text"),
        ("handle", "text"),
        ("name", "text"),
        ("bio", "text"),
        ("category", "text"),
        ("followers", "int"),
        ("audience", "text"),
        ("audience_hash", "text"),
        ("label", "bool"),
        ("reason", "text"),
        ("reviewer", "text"),
        ("source", "text"),
        ("reviewed_at", "timestamp"),
    ),
    key=("review_id",),
    indexes=(("audience", "platform", "handle"),),
)

LABELER_FITS = Table(
    name="labeler_fits",
    description=(
        "One fit of the local labeler for one audience version: where its weights are, what reviews it "
        "learned from (count and digest) and its cross-validated figures. Append-only; the labeler in use "
        "is the best-scoring fit on the newest set of reviews."
    ),
    # fit_id: digest of the reviews and the fit settings (the asset's data version). location: the
    # archive key prefix (or a folder) holding labeler.json and weights.npz. cv_*: 5-fold figures
    # against the reviews. metrics_json: the full report (calibration bins, per-fold figures).
    columns=(
        ("fit_id", "text"),
        ("audience", "text"),
        ("audience_hash", "text"),
        ("reviews", "int"),
        ("reviews_digest", "text"),
        ("location", "text"),
        ("cv_accuracy", "float"),
        ("cv_precision_true", "float"),
        ("cv_recall_true", "float"),
        ("cv_brier", "float"),
        ("defer_share", "float"),
        ("metrics_json", "text"),
        ("run_id", "text"),
        ("fitted_at", "timestamp"),
    ),
    key=("fit_id",),
    indexes=(("audience", "fitted_at"),),
)

TABLES.update({t.name: t for t in (REVIEWS, LABELER_FITS)})


# --- spend: the model-call ledger, budget stops and the caps in effect (scout_assets/spend) ----

MODEL_CALLS = Table(
    name="model_calls",
    description=(
        "One attempt to call an LLM for one batch (retries included), whatever its outcome, with its tokens "
        "and cost: the cost ledger of labeling. Append-only, written by llm_labels."
    ),
    # batch_id groups the attempts of one batch (its profiles: model_call_profiles; one platform
    # per batch). outcome: labeled (every profile got a valid label),
    # partial (some did), invalid (an answer with no valid label, e.g. malformed JSON), failed (no
    # answer: a provider error, a timeout, a rate limit). error_kind: rate_limited | transient |
    # timeout | provider_error | invalid_output; null when labeled. cost_basis: usage (the provider
    # reported the tokens) or estimate (no usage: the prompt's tokens counted locally with litellm's
    # tokenizer, priced from the model's prices; an upper bound for a request the provider refused).
    columns=(
        ("call_id", "text"),
        ("batch_id", "text"),
        ("run_id", "text"),
        ("model", "text"),
        ("model_id", "text"),
        ("provider", "text"),
        ("audience", "text"),
        ("platform", "text"),
        ("partition_date", "date"),
        ("attempt", "int"),
        ("profiles", "int"),
        ("labels", "int"),
        ("failures", "int"),
        ("input_tokens", "int"),
        ("output_tokens", "int"),
        ("cost_usd", "float"),
        ("cost_basis", "text"),
        ("outcome", "text"),
        ("error_kind", "text"),
        ("error", "text"),
        ("latency_ms", "float"),
        ("called_at", "timestamp"),
    ),
    key=("call_id",),
    indexes=(("model", "called_at"), ("partition_date", "model")),
)

BUDGET_STOPS = Table(
    name="budget_stops",
    description=(
        "One run that stopped at a budget cap: which cap (platform or model, field, period), the figures "
        "(used, cap, what the next request or batch would have added) and what was left undone. Append-only; "
        "the next raw_searches run starts with the keywords left here."
    ),
    # unit: calls | usd | requests. left_keywords: a JSON array of the keywords not searched (or
    # not paged to the end) by a platform run; left_count: pages (platform) or units (model) left.
    columns=(
        ("stop_id", "text"),
        ("run_id", "text"),
        ("scope", "text"),
        ("name", "text"),
        ("partition_date", "date"),
        ("cap_field", "text"),
        ("period", "text"),
        ("unit", "text"),
        ("cap", "float"),
        ("used", "float"),
        ("next_cost", "float"),
        ("left_keywords", "text"),
        ("left_count", "int"),
        ("not_done", "text"),
        ("stopped_at", "timestamp"),
    ),
    key=("stop_id",),
    indexes=(("scope", "name", "stopped_at"),),
)

BUDGET_CAPS = Table(
    name="budget_caps",
    description=(
        "The caps in effect on one day (config/budgets.yaml with its SCOUT_BUDGET_* overrides), as the "
        "last run of that day read them: what mart_spend_vs_budget compares spend with. One row per "
        "capped field; a null cap is not listed."
    ),
    columns=(
        ("day", "date"),
        ("scope", "text"),
        ("name", "text"),
        ("cap_field", "text"),
        ("period", "text"),
        ("unit", "text"),
        ("cap", "float"),
        ("source", "text"),
        ("recorded_at", "timestamp"),
    ),
    key=("day", "scope", "name", "cap_field"),
)

MODEL_CALL_PROFILES = Table(
    name="model_call_profiles",
    description=(
        "One profile sent in one LLM batch: the batch's call attempts (model_calls, same batch_id) are "
        "shared by its profiles, labeled or not, so every dollar reaches the profiles, keywords and days "
        "it was spent on. Append-only, written by llm_labels with the batch."
    ),
    columns=(
        ("batch_id", "text"),
        ("platform", "text"),
        ("platform_id", "text"),
        ("model", "text"),
        ("audience", "text"),
        ("partition_date", "date"),
    ),
    key=("batch_id", "platform", "platform_id"),
    indexes=(("platform", "platform_id"),),
)

TABLES.update({t.name: t for t in (MODEL_CALLS, MODEL_CALL_PROFILES, BUDGET_STOPS, BUDGET_CAPS)})


# --- plans before runs (scout_assets/spend/plan.py, docs/operations.md "Plans") ----------------

RUN_PLANS = Table(
    name="run_plans",
    description=(
        "What `scout run` expected before it ran, one row per platform and per model: calls, new profiles, "
        "true labels, labels and dollars, with the basis of the estimate and whether it fit the budgets. "
        "Written before the run (finished_at null) and rewritten once when its paid work ended, which "
        "closes the window [planned_at, finished_at] mart_plan_accuracy reads the actuals over."
    ),
    # subject_kind: platform | model; subject: the platform or the model alias. Platform rows carry
    # keywords, pages, calls, new profiles and true labels; model rows labels (expected_calls: LLM
    # calls). max_usd: the most the run may spend on the subject (a drawn model's full cycle).
    columns=(
        ("plan_id", "text"),
        ("subject_kind", "text"),
        ("subject", "text"),
        ("planned_at", "timestamp"),
        ("finished_at", "timestamp"),
        ("command", "text"),
        ("keywords", "int"),
        ("pages", "int"),
        ("expected_calls", "float"),
        ("expected_new_profiles", "float"),
        ("expected_true_labels", "float"),
        ("expected_labels", "float"),
        ("expected_usd", "float"),
        ("max_usd", "float"),
        ("basis", "text"),
        ("fits_budgets", "bool"),
        ("budget_notes", "text"),
    ),
    key=("plan_id", "subject_kind", "subject"),
    partition_columns=("plan_id",),
    indexes=(("planned_at",),),
)

TABLES.update({RUN_PLANS.name: RUN_PLANS})


# --- lead state and exports (scout_contract/leads.py, scout_cli/lead.py, docs/leads.md) -------

LEAD_EVENTS = Table(
    name="lead_events",
    description=(
        "One step of one account's outreach for one audience: the state it moved to (reviewed, contacted, "
        "replied, converted, rejected), when, who set it and an optional note. Append-only: the latest "
        "event is the current state (new when there is none); transitions are checked in "
        "scout_contract/leads.py before a row is written."
    ),
    # source: "cli", "dashboard" or "api".
    columns=(
        ("event_id", "text"),
        ("platform", "text"),
        ("platform_id", "text"),
        ("handle", "text"),
        ("audience", "text"),
        ("from_state", "text"),
        ("state", "text"),
        ("note", "text"),
        ("set_by", "text"),
        ("source", "text"),
        ("set_at", "timestamp"),
    ),
    key=("event_id",),
    indexes=(("audience", "platform", "platform_id"),),
)

LEAD_EXPORTS = Table(
    name="lead_exports",
    description=(
        "One lead written by the lead_exports asset for one audience, with the day partition that first "
        "exported it. Append-only: a lead in this ledger is never exported again for that audience, and "
        "re-materializing the same day rewrites exactly the leads recorded for it."
    ),
    columns=(
        ("audience", "text"),
        ("platform", "text"),
        ("platform_id", "text"),
        ("export_date", "date"),
        ("exported_at", "timestamp"),
    ),
    key=("audience", "platform", "platform_id"),
    indexes=(("audience", "export_date"),),
)

TABLES.update({t.name: t for t in (LEAD_EVENTS, LEAD_EXPORTS)})


# --- Exclusions (issue 12, do-not-contact): scout_contract/exclusions.py -------------------------

EXCLUSION_EVENTS = Table(
    name="exclusion_events",
    description=(
        "Append-only audit trail of do-not-contact entries: an 'add' event creates entry exclusion_id "
        "(platform, kind account/handle/domain/org/bio_pattern, value), a later 'remove' event ends it; "
        "each says why (reason), who (actor) and when (event_at)."
    ),
    columns=(
        ("event_id", "text"),
        ("exclusion_id", "text"),
        ("action", "text"),
        ("platform", "text"),
        ("kind", "text"),
        ("value", "text"),
        ("reason", "text"),
        ("actor", "text"),
        ("event_at", "timestamp"),
    ),
    key=("event_id",),
    indexes=(("exclusion_id",),),
)

EXCLUDED_ACCOUNTS = Table(
    name="excluded_accounts",
    description=(
        "Accounts an active exclusion entry matches (one row per account x entry), per platform; "
        "recomputed from exclusion_events and profiles whenever entries change and before labeling."
    ),
    columns=(
        ("platform", "text"),
        ("platform_id", "text"),
        ("exclusion_id", "text"),
        ("reason", "text"),
        ("matched_at", "timestamp"),
    ),
    key=("platform", "platform_id", "exclusion_id"),
    partition_columns=("platform",),
)

TABLES.update({t.name: t for t in (EXCLUSION_EVENTS, EXCLUDED_ACCOUNTS)})


# --- HTTP API keys (scout_leads/api_keys.py, scout_api/, docs/api.md) ------------------------------

API_KEYS = Table(
    name="api_keys",
    description=(
        "Append-only ledger of HTTP API keys: a 'create' event per key (its name, scope read/write and the "
        "SHA-256 of its secret, never the key itself) and a 'revoke' event when it is revoked; each says "
        "who (actor) and when (event_at)."
    ),
    columns=(
        ("key_id", "text"),
        ("action", "text"),
        ("name", "text"),
        ("scope", "text"),
        ("secret_sha256", "text"),
        ("actor", "text"),
        ("event_at", "timestamp"),
    ),
    key=("key_id", "action"),
)

TABLES.update({API_KEYS.name: API_KEYS})


# --- Erasure (issue 12): scout forget, scout_leads/erasure.py, docs/leads.md "Erasure" -------------
# Neither table holds personal data: an account appears only as its keyed hash
# (scout_contract/suppression.py), which cannot be reversed without the key.

SUPPRESSIONS = Table(
    name="suppressions",
    description=(
        "Accounts erased by `scout forget`, as the keyed hash of platform:platform_id only; raw_searches "
        "drops a suppressed account from every page before the page is archived or stored."
    ),
    columns=(
        ("platform", "text"),
        ("account_hash", "text"),
        ("added_at", "timestamp"),
    ),
    key=("platform", "account_hash"),
)

ERASURE_LOG = Table(
    name="erasure_log",
    description=(
        "One run of `scout forget`: when, which account hash, what it removed (rows per table as JSON, "
        "mart rows, archive pages and objects, export files rewritten) and what it could not do. "
        "Append-only; a re-run that completes a partial erasure adds its own row."
    ),
    # status: complete | partial. not_done: the steps that failed, without personal data.
    columns=(
        ("erasure_id", "text"),
        ("platform", "text"),
        ("account_hash", "text"),
        ("erased_at", "timestamp"),
        ("status", "text"),
        ("table_rows", "text"),
        ("rows_deleted", "int"),
        ("mart_rows_deleted", "int"),
        ("payloads_rewritten", "int"),
        ("pages_rewritten", "int"),
        ("objects_rewritten", "int"),
        ("export_files_rewritten", "int"),
        ("not_done", "text"),
    ),
    key=("erasure_id",),
    indexes=(("platform", "account_hash"),),
)

TABLES.update({t.name: t for t in (SUPPRESSIONS, ERASURE_LOG)})
